import * as path from 'node:path';
import type { Agent } from '../../shared/agent';
import type { CreateEnvPROptions, CreateEnvPRResult } from '../../shared/flows/create-env-pr';
import { DEFAULT_TITLE } from '../../shared/pr/description';
import { boolInput, expandVariables, parseList, requiredInput, runUrl, serviceConnection } from '../../shared/inputs';
import { pullRequestSummary } from '../../shared/summaries';

/** CreateEnvPR@1's inputs, connection and pipeline variables as the flow's options, every task.json default applied. */
export function readOptions(agent: Agent): CreateEnvPROptions {
  const gitopsPath = path.resolve(requiredInput(agent, 'gitopsPath'));
  const environment = requiredInput(agent, 'environment');
  // A personal access token from an 'Azure Repos/Team Foundation Server' connection, else the job's access token.
  const connection = serviceConnection(agent, 'connection');
  const teamProject = agent.variable('System.TeamProject');
  const project = agent.input('project') || teamProject;
  // The build is this organisation's, whichever organisation the connection reaches.
  const buildCollection = agent.collectionUrl();
  const buildId = agent.variable('Build.BuildId');
  const workItems = parseList(agent.input('workItems'));
  return {
    gitopsPath,
    environment,
    lockFile: agent.input('lockFile') || 'versions.yaml',
    manifestsPath: agent.input('manifestsPath') || 'environments/{environment}',
    inventoryFile: agent.input('inventoryFile') || undefined,
    collectionUrl: connection?.url || buildCollection,
    token: connection ? connection.password : agent.accessToken(),
    tokenKind: connection ? 'pat' : 'bearer',
    network: agent.network(),
    // Left at its default ($(System.TeamProject)), the project of the working copy's origin wins.
    project: project !== teamProject ? project : undefined,
    defaultProject: project,
    repository: agent.input('repository'),
    targetBranch: agent.input('targetBranch') || 'main',
    sourceBranch: agent.input('sourceBranch') || 'gitops/{environment}',
    title: agent.input('title') || DEFAULT_TITLE,
    commitMessage: expandVariables(agent, agent.input('commitMessage')),
    description: agent.input('description'),
    changes: agent.input('changes'),
    imageNames: parseList(agent.input('imageNames')),
    reviewers: parseList(agent.input('reviewers')),
    requiredReviewers: parseList(agent.input('requiredReviewers')),
    labels: parseList(agent.input('labels')),
    workItems,
    // The service knows the run's work items only in the job's own organisation.
    linkRunWorkItems: workItems.length === 0 && !connection,
    build: {
      id: buildId,
      number: agent.variable('Build.BuildNumber') ?? buildId,
      url: runUrl(agent),
    },
    isDraft: boolInput(agent, 'isDraft', false),
    autoComplete: boolInput(agent, 'autoComplete', false),
    mergeStrategy: agent.input('mergeStrategy') || 'squash',
    deleteSourceBranch: boolInput(agent, 'deleteSourceBranch', true),
    dryRun: boolInput(agent, 'dryRun', false),
    tempDir: agent.tempDir(),
    promotionMarks: boolInput(agent, 'promotionMarks', true),
    appRepository: ownRepository(agent),
  };
}

/** This pipeline's repository, when it is an Azure Repos one (where the images it built come from). */
function ownRepository(agent: Agent): CreateEnvPROptions['appRepository'] {
  const project = agent.variable('System.TeamProject');
  const repository = agent.variable('Build.Repository.ID');
  return agent.variable('Build.Repository.Provider') === 'TfsGit' && project && repository ? { project, repository } : undefined;
}

/** Outputs `pullRequestId`, `pullRequestUrl`, `created`, `sourceBranch`, `commitId`, the summary; returns the closing message. */
export function report(agent: Agent, result: CreateEnvPRResult): string {
  agent.setOutput('pullRequestId', result.pullRequestId === undefined ? '' : String(result.pullRequestId));
  agent.setOutput('pullRequestUrl', result.pullRequestUrl ?? '');
  agent.setOutput('created', String(result.created === true));
  agent.setOutput('sourceBranch', result.sourceBranch);
  agent.setOutput('commitId', result.commitId ?? '');
  if (result.pullRequestUrl || (result.dryRun && result.changed)) {
    agent.summary(`Pull request ${result.sourceBranch}${result.pullRequestUrl ? '' : ' (dry run)'}`, pullRequestSummary(result));
  }
  return result.message;
}
