import { transportFor } from '../../shared/net/proxy-fetch';
import * as path from 'node:path';
import type { Agent } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import type { MaxBump, RenderMode, StatusOptions, ValidateGitOpsOptions, ValidateGitOpsResult } from '../../shared/flows/validate-gitops';
import { registryHost } from '../../shared/images/registry-host';
import { boolInput, parseList, runUrl } from '../../shared/inputs';
import { registryAccess } from '../../shared/registry/credentials';
import { validationSummary } from '../../shared/summaries';

/** ValidateGitOps@1's inputs and pipeline variables as the flow's options, every task.json default applied. */
export async function readOptions(agent: Agent): Promise<ValidateGitOpsOptions> {
  const gitopsPath = agent.input('gitopsPath') || agent.variable('Build.SourcesDirectory');
  if (!gitopsPath) throw new UserError(`Input 'gitopsPath' is empty and Build.SourcesDirectory is not set: set gitopsPath to the GitOps repository's working copy.`);
  const checkRegistry = boolInput(agent, 'checkRegistry', false);
  const access = checkRegistry ? await registryAccess(agent) : undefined;
  const token = agent.accessToken();
  const network = agent.network();
  return {
    gitopsPath: path.resolve(gitopsPath),
    environments: parseList(agent.input('environments')),
    lockFile: agent.input('lockFile') || 'versions.yaml',
    manifestsPath: agent.input('manifestsPath') || 'environments/{environment}',
    render: (agent.input('render') || 'auto') as RenderMode,
    helmValues: agent.input('helmValues').split(/\r?\n/).map((line) => line.trim()).filter(Boolean),
    ignoreImages: parseList(agent.input('ignoreImages')),
    allowedRegistries: parseList(agent.input('allowedRegistries')),
    protectedEnvironments: parseList(agent.input('protectedEnvironments')),
    maxBump: (agent.input('maxBump') || 'major') as MaxBump,
    allowDowngrade: boolInput(agent, 'allowDowngrade', false),
    // Set by the agent on pull request builds only: the branch the pull request merges into.
    targetBranch: agent.variable('System.PullRequest.TargetBranch'),
    gitSettings: { token, ...network },
    network,
    ...transportFor(network),
    checkRegistry,
    registry: access?.registry ? registryHost(access.registry) : undefined,
    credentials: access?.credentials,
    signIn: access?.signIn,
    status: boolInput(agent, 'postStatus', true) ? statusOptions(agent, token) : undefined,
  };
}

/** Where statuses go: the pull request of a PR build, or the app repositories' marks after the merge; undefined when neither applies. */
function statusOptions(agent: Agent, token: string | undefined): StatusOptions | undefined {
  const pullRequest = agent.variable('Build.Reason') === 'PullRequest' ? Number(agent.variable('System.PullRequest.PullRequestId')) : undefined;
  const appRepositories = parseList(agent.input('appRepositories'));
  if (!(pullRequest && Number.isInteger(pullRequest)) && !appRepositories.length) return undefined;
  const provider = agent.variable('Build.Repository.Provider');
  if (provider && provider !== 'TfsGit') {
    agent.info(`No status is posted: the repository is in ${provider}, and statuses are posted to Azure Repos.`);
    return undefined;
  }
  const collectionUrl = agent.collectionUrl();
  const project = agent.variable('System.TeamProject');
  const repository = agent.variable('Build.Repository.ID');
  if (!token || !collectionUrl || !project || !repository) {
    agent.warn(`No status is posted: the job's access token, System.CollectionUri, System.TeamProject or Build.Repository.ID is missing (is this an Azure Pipelines run of an Azure Repos repository?).`);
    return undefined;
  }
  return {
    collectionUrl,
    token,
    project,
    repository,
    pullRequestId: pullRequest && Number.isInteger(pullRequest) ? pullRequest : undefined,
    runUrl: runUrl(agent),
    appRepositories,
    branch: agent.variable('Build.SourceBranch'),
    commit: agent.variable('Build.SourceVersion'),
  };
}

/**
 * Outputs `valid` and `findings`, each finding as an error issue at its file and line, the summary; returns the
 * closing message, or fails the task when anything was found.
 */
export function report(agent: Agent, result: ValidateGitOpsResult): string {
  agent.setOutput('valid', String(result.valid));
  agent.setOutput('findings', JSON.stringify(result.findings.map((f) => ({ environment: f.environment, component: f.component, file: f.file, line: f.line ?? null, rule: f.rule, message: f.message }))));
  for (const finding of result.findings) agent.error(`${finding.rule}: ${finding.message}`, { file: finding.file, line: finding.line });
  agent.summary('ValidateGitOps', validationSummary(result));
  const names = result.environments.map((e) => e.name).join(', ') || 'none';
  if (!result.valid) {
    throw new UserError(`${result.findings.length} finding(s) in the GitOps repository (environments: ${names}): each is an error above, at its file and line.`);
  }
  return `${result.environments.length} environment(s) valid (${names}): every lock entry agrees with its manifests and renders${result.target ? `, and no version move against ${result.target.branch} breaks a policy` : ''}.`;
}
