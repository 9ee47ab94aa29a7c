import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runWithAgent } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import { createEnvPR, type CreateEnvPRResult } from '../../shared/flows/create-env-pr';
import { run } from '../../shared/process';
import { readOptions, report } from '../../tasks/CreateEnvPR/task';
import { memoryAgents, type MemoryAgentSetup } from '../helpers/memory-agent';

const TOKEN = 'job-token-pr-l0';
const PAT = 'other-org-pat-l0';
const COLLECTION = 'https://dev.azure.com/edge/';

/** What the agent defines for a run of build 5678 in project Edge. */
const RUN: MemoryAgentSetup = {
  variables: { 'System.TeamProject': 'Edge', 'Build.BuildId': '5678', 'Build.BuildNumber': '20240601.3' },
  accessToken: TOKEN,
  collectionUrl: COLLECTION,
};

const OPENED: CreateEnvPRResult = {
  environment: 'devtest',
  changed: true,
  dryRun: false,
  sourceBranch: 'gitops/devtest',
  targetBranch: 'main',
  changes: [],
  title: 'chore(devtest): update 1 component(s)',
  description: 'Promotes 1 component(s) to **devtest**.',
  commitId: '89abcdef0123456789abcdef0123456789abcdef',
  pullRequestId: 42,
  pullRequestUrl: 'https://dev.azure.com/edge/Edge/_git/gitops/pullrequest/42',
  created: true,
  pushAttempts: 1,
  message: 'Opened pull request 42 from gitops/devtest into main: https://dev.azure.com/edge/Edge/_git/gitops/pullrequest/42',
};

describe('CreateEnvPR@1 in-process: readOptions and report on the in-memory agent', () => {
  const memoryAgent = memoryAgents();
  const agent = (setup: MemoryAgentSetup, inputs: Record<string, string> = {}) =>
    memoryAgent({ ...setup, inputs: { gitopsPath: '/gitops', environment: 'devtest', ...inputs } });

  describe('readOptions', () => {
    it("reads every input empty as its default: the job's token (bearer, masked), the project from the working copy, the run's build and work items", () => {
      const a = agent(RUN);
      assert.deepEqual(readOptions(a), {
        network: {},
        gitopsPath: '/gitops',
        environment: 'devtest',
        lockFile: 'versions.yaml',
        manifestsPath: 'environments/{environment}',
        inventoryFile: undefined,
        collectionUrl: COLLECTION,
        token: TOKEN,
        tokenKind: 'bearer',
        project: undefined,
        defaultProject: 'Edge',
        repository: '',
        targetBranch: 'main',
        sourceBranch: 'gitops/{environment}',
        title: 'chore({environment}): update {count} component(s)',
        commitMessage: '',
        description: '',
        changes: '',
        imageNames: [],
        reviewers: [],
        requiredReviewers: [],
        labels: [],
        workItems: [],
        linkRunWorkItems: true,
        build: { id: '5678', number: '20240601.3', url: 'https://dev.azure.com/edge/Edge/_build/results?buildId=5678' },
        isDraft: false,
        autoComplete: false,
        mergeStrategy: 'squash',
        deleteSourceBranch: true,
        dryRun: false,
        tempDir: a.tempDir(),
        promotionMarks: true,
        appRepository: undefined,
      });
      assert.deepEqual(a.secrets, [TOKEN]);
    });

    it('parses every input: lists, booleans, a project other than the run’s, explicit work items instead of the run’s', () => {
      const options = readOptions(
        agent(RUN, {
          gitopsPath: 'gitops',
          repository: 'edge-gitops',
          project: 'Platform',
          targetBranch: 'release',
          sourceBranch: 'promote/{environment}',
          lockFile: 'locks/edge.yaml',
          manifestsPath: 'clusters/{environment}',
          inventoryFile: 'INVENTORY.md',
          title: 'Promote {environment}',
          commitMessage: 'chore({environment}): {components} (build $(Build.BuildId))',
          description: '{table}',
          changes: '[]',
          imageNames: 'http-connector=broker',
          reviewers: 'ada@example.com\n[Edge]\\Release Managers',
          requiredReviewers: 'lead@example.com',
          labels: 'gitops, devtest',
          workItems: '101,102',
          isDraft: 'true',
          autoComplete: 'true',
          mergeStrategy: 'rebase',
          deleteSourceBranch: 'false',
          dryRun: 'true',
        }),
      );
      assert.deepEqual(
        { ...options, tempDir: undefined },
        {
          gitopsPath: path.resolve('gitops'),
          environment: 'devtest',
          lockFile: 'locks/edge.yaml',
          manifestsPath: 'clusters/{environment}',
          inventoryFile: 'INVENTORY.md',
          collectionUrl: COLLECTION,
          token: TOKEN,
          tokenKind: 'bearer',
          project: 'Platform',
          network: {},
          defaultProject: 'Platform',
          repository: 'edge-gitops',
          targetBranch: 'release',
          sourceBranch: 'promote/{environment}',
          title: 'Promote {environment}',
          commitMessage: 'chore({environment}): {components} (build 5678)',
          description: '{table}',
          changes: '[]',
          imageNames: ['http-connector=broker'],
          reviewers: ['ada@example.com', '[Edge]\\Release Managers'],
          requiredReviewers: ['lead@example.com'],
          labels: ['gitops', 'devtest'],
          workItems: ['101', '102'],
          linkRunWorkItems: false,
          build: { id: '5678', number: '20240601.3', url: 'https://dev.azure.com/edge/Edge/_build/results?buildId=5678' },
          isDraft: true,
          autoComplete: true,
          mergeStrategy: 'rebase',
          deleteSourceBranch: false,
          dryRun: true,
          tempDir: undefined,
          promotionMarks: true,
          appRepository: undefined,
        },
      );
    });

    it("promotion marks: on by default, in the run's own repository when it is an Azure Repos one; promotionMarks: false turns them off", () => {
      const own = { ...RUN, variables: { ...RUN.variables, 'Build.Repository.Provider': 'TfsGit', 'Build.Repository.ID': 'app-repo-id' } };
      assert.deepEqual(readOptions(agent(own)).appRepository, { project: 'Edge', repository: 'app-repo-id' });
      assert.equal(readOptions(agent({ ...own, variables: { ...own.variables, 'Build.Repository.Provider': 'GitHub' } })).appRepository, undefined);
      assert.equal(readOptions(agent(own, { promotionMarks: 'false' })).promotionMarks, false);
    });

    it("takes a connection's personal access token and organisation instead of the job's; the build stays the run's", () => {
      const a = agent({ ...RUN, endpoints: { 'gitops-org': { url: 'https://dev.azure.com/other/', password: PAT } } }, { connection: 'gitops-org' });
      const options = readOptions(a);
      assert.equal(options.token, PAT);
      assert.equal(options.tokenKind, 'pat');
      assert.equal(options.collectionUrl, 'https://dev.azure.com/other/');
      // The other organisation knows nothing of this run's work items.
      assert.equal(options.linkRunWorkItems, false);
      assert.equal(options.build?.url, 'https://dev.azure.com/edge/Edge/_build/results?buildId=5678');
      assert.ok(a.secrets.includes(PAT));
    });

    it('refuses a connection that is missing or not authorized, naming the input', () => {
      assert.throws(
        () => readOptions(agent(RUN, { connection: 'gitops-org' })),
        new UserError(
          "The service connection 'gitops-org' (input 'connection') was not found, or this pipeline is not authorized to use it: " +
            'check the name, and authorize the pipeline in Project settings > Service connections > Security.',
        ),
      );
    });

    it('without build variables gives the build number as its id, and no link without a collection URL', () => {
      const options = readOptions(agent({ variables: { 'Build.BuildId': '77' } }));
      assert.deepEqual(options.build, { id: '77', number: '77', url: undefined });
      assert.equal(options.token, undefined);
      assert.equal(options.defaultProject, undefined);
    });
  });

  describe('report', () => {
    it('sets pullRequestId, pullRequestUrl, created, sourceBranch and commitId as the contract names them, and links the pull request', () => {
      const a = agent({});
      assert.equal(report(a, OPENED), OPENED.message);
      assert.deepEqual(a.outputs, {
        pullRequestId: '42',
        pullRequestUrl: OPENED.pullRequestUrl,
        created: 'true',
        sourceBranch: 'gitops/devtest',
        commitId: OPENED.commitId,
      });
      assert.deepEqual(a.summaries.map((s) => s.title), ['Pull request gitops/devtest']);
      assert.equal(
        a.summaries[0].markdown,
        `**[Opened pull request 42: chore(devtest): update 1 component(s)](${OPENED.pullRequestUrl})** (\`gitops/devtest\` into \`main\`, commit \`89abcdef0123\`)\n\nPromotes 1 component(s) to **devtest**.\n`,
      );
    });

    it('with nothing to propose sets empty outputs, created false, and no summary', () => {
      const a = agent({});
      const none: CreateEnvPRResult = { environment: 'devtest', changed: false, dryRun: false, sourceBranch: 'gitops/devtest', targetBranch: 'main', changes: [], title: '', description: '', pushAttempts: 0, message: 'No change' };
      assert.equal(report(a, none), 'No change');
      assert.deepEqual(a.outputs, { pullRequestId: '', pullRequestUrl: '', created: 'false', sourceBranch: 'gitops/devtest', commitId: '' });
      assert.deepEqual(a.summaries, []);
    });
  });

  describe('with the real flow, a dry run on a working copy whose origin is Azure Repos (nothing pushed, no service called)', () => {
    let dir: string;
    before(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'l0-pr-'));
      const env = { GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' };
      const git = (...args: string[]) => run('git', args, { cwd: dir, env });
      const lock = (tag: string) => `schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: myacr.azurecr.io/heuristic\n      tag: ${tag}\n`;
      await git('init', '--quiet', '--initial-branch=main');
      await fs.mkdir(path.join(dir, 'environments', 'devtest'), { recursive: true });
      await fs.writeFile(path.join(dir, 'environments', 'devtest', 'kustomization.yaml'), 'images:\n  - name: myacr.azurecr.io/heuristic\n    newTag: v1.4.1\n');
      await fs.writeFile(path.join(dir, 'versions.yaml'), lock('v1.4.1'));
      await git('add', '-A');
      await git('commit', '--quiet', '-m', 'devtest');
      await git('remote', 'add', 'origin', 'https://dev.azure.com/edge/Platform/_git/edge-gitops');
      // What UpdateGitOpsVersions leaves in the working copy.
      await fs.writeFile(path.join(dir, 'versions.yaml'), lock('v1.4.2'));
      await fs.writeFile(path.join(dir, 'environments', 'devtest', 'kustomization.yaml'), 'images:\n  - name: myacr.azurecr.io/heuristic\n    newTag: v1.4.2\n');
    });
    after(() => fs.rm(dir, { recursive: true, force: true }));

    it('reports what it would propose: empty outputs, a summary that says "Dry run" once, and the working copy as it was', async () => {
      const status = (await run('git', ['status', '--porcelain'], { cwd: dir })).stdout;
      const a = agent(RUN, { gitopsPath: dir, dryRun: 'true' });
      await runWithAgent(a, async (x) => report(x, await createEnvPR(readOptions(x), x)));
      assert.equal(a.result?.succeeded, true, a.errors.map((e) => e.message).join('\n'));
      assert.equal(
        a.result?.message,
        'Dry run: would commit 2 changed file(s) (heuristic v1.4.2) to gitops/devtest of Platform/edge-gitops and open or update its pull request into main.',
      );
      assert.deepEqual(a.outputs, { pullRequestId: '', pullRequestUrl: '', created: 'false', sourceBranch: 'gitops/devtest', commitId: '' });
      assert.deepEqual(a.summaries.map((s) => s.title), ['Pull request gitops/devtest (dry run)']);
      const markdown = a.summaries[0].markdown;
      assert.equal(markdown.match(/dry run/gi)?.length, 1, markdown);
      assert.match(markdown, /^\*\*Dry run: would commit to `gitops\/devtest` and open or update its pull request into `main`\*\*; nothing was committed or pushed:\n\n\*\*chore\(devtest\): update 1 component\(s\)\*\*\n\n/);
      assert.match(markdown, /\| heuristic \| v1\.4\.1 \| v1\.4\.2 \| patch \| \[20240601\.3\]\(https:\/\/dev\.azure\.com\/edge\/Edge\/_build\/results\?buildId=5678\) \|/);
      assert.equal((await run('git', ['status', '--porcelain'], { cwd: dir })).stdout, status);
      assert.equal((await run('git', ['rev-list', '--count', 'HEAD'], { cwd: dir })).stdout.trim(), '1');
    });
  });
});
