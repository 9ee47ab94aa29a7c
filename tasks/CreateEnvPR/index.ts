import { parseList } from '../../shared/inputs';
import { createEnvPR } from '../../shared/flows/create-env-pr';
import { runTask } from '../common/task-lib-agent';

void runTask(__dirname, async (agent) => {
  // The job's access token, or a personal access token from an 'Azure Repos/Team Foundation Server' connection.
  const connection = agent.input('connection');
  const endpoint = connection ? agent.endpoint(connection) : undefined;
  const teamProject = agent.variable('System.TeamProject');
  const project = agent.input('project');
  const collectionUrl = endpoint?.url || agent.collectionUrl();
  const buildId = agent.variable('Build.BuildId');
  const workItems = parseList(agent.input('workItems'));

  const result = await createEnvPR(
    {
      gitopsPath: agent.requiredInput('gitopsPath'),
      environment: agent.requiredInput('environment'),
      lockFile: agent.input('lockFile'),
      manifestsPath: agent.input('manifestsPath'),
      collectionUrl,
      token: connection ? endpoint?.password : agent.accessToken(),
      tokenKind: connection ? 'pat' : 'bearer',
      // Left at its default ($(System.TeamProject)), the project of the working copy's origin wins.
      project: project && project !== teamProject ? project : undefined,
      defaultProject: project || teamProject,
      repository: agent.input('repository'),
      targetBranch: agent.input('targetBranch'),
      sourceBranch: agent.input('sourceBranch'),
      title: agent.input('title'),
      description: agent.input('description'),
      changes: agent.input('changes'),
      reviewers: parseList(agent.input('reviewers')),
      requiredReviewers: parseList(agent.input('requiredReviewers')),
      labels: parseList(agent.input('labels')),
      workItems,
      linkRunWorkItems: workItems.length === 0 && !connection,
      build: {
        id: buildId,
        number: agent.variable('Build.BuildNumber') ?? buildId,
        url: buildId && collectionUrl && teamProject ? `${collectionUrl.replace(/\/?$/, '/')}${encodeURIComponent(teamProject)}/_build/results?buildId=${buildId}` : undefined,
      },
      isDraft: agent.boolInput('isDraft', false),
      autoComplete: agent.boolInput('autoComplete', false),
      mergeStrategy: agent.input('mergeStrategy'),
      deleteSourceBranch: agent.boolInput('deleteSourceBranch', true),
      dryRun: agent.boolInput('dryRun', false),
      tempDir: agent.tempDir(),
    },
    agent,
  );

  agent.setOutput('pullRequestId', result.pullRequestId === undefined ? '' : String(result.pullRequestId));
  agent.setOutput('pullRequestUrl', result.pullRequestUrl ?? '');
  agent.setOutput('created', String(result.created === true));
  agent.setOutput('sourceBranch', result.sourceBranch);
  agent.setOutput('commitId', result.commitId ?? '');
  if (result.pullRequestUrl) {
    agent.summary(
      `Pull request ${result.sourceBranch}`,
      `**[${result.created ? 'Opened' : 'Updated'} pull request ${result.pullRequestId}: ${result.title}](${result.pullRequestUrl})** ` +
        `(\`${result.sourceBranch}\` into \`${result.targetBranch}\`, commit \`${result.commitId?.slice(0, 12)}\`)\n\n${result.description}\n`,
    );
  } else if (result.dryRun && result.changed) {
    agent.summary(`Pull request ${result.sourceBranch} (dry run)`, `**Dry run**: ${result.message}\n\n**${result.title}**\n\n${result.description}\n`);
  }
  return result.message;
});
