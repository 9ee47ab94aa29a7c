import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { runWithAgent } from '../../shared/agent';
import { validateGitOps, type ValidateGitOpsResult } from '../../shared/flows/validate-gitops';
import { readOptions, report } from '../../tasks/ValidateGitOps/task';
import { gitopsTree } from '../helpers/gitops-tree';
import { memoryAgents } from '../helpers/memory-agent';

const PASSWORD = 'validate-Pa55word-l0';
const TOKEN = 'validate-job-token-l0';
/** What the agent defines on a pull request build of an Azure Repos repository. */
const PR_BUILD = {
  'Build.SourcesDirectory': '/agent/_work/1/s',
  'Build.Reason': 'PullRequest',
  'Build.BuildId': '4242',
  'Build.Repository.ID': 'b7d4f5a2-0000-4000-8000-000000000001',
  'Build.SourceBranch': 'refs/pull/12/merge',
  'Build.SourceVersion': 'f'.repeat(40),
  'System.TeamProject': 'Edge',
  'System.PullRequest.PullRequestId': '12',
  'System.PullRequest.TargetBranch': 'refs/heads/main',
};
const COLLECTION = 'https://dev.azure.com/edge/';

describe('ValidateGitOps@1 in-process: readOptions and report on the in-memory agent', () => {
  const agent = memoryAgents();

  describe('readOptions', () => {
    it('with every input left at its default, validates every environment of the checkout, posting no status outside a pull request', async () => {
      assert.deepEqual(await readOptions(agent({ variables: { 'Build.SourcesDirectory': '/agent/_work/1/s' } })), {
        gitopsPath: '/agent/_work/1/s',
        environments: [],
        lockFile: 'versions.yaml',
        manifestsPath: 'environments/{environment}',
        render: 'auto',
        helmValues: [],
        ignoreImages: [],
        allowedRegistries: [],
        protectedEnvironments: [],
        maxBump: 'major',
        allowDowngrade: false,
        targetBranch: undefined,
        gitSettings: { token: undefined },
        network: {},
        checkRegistry: false,
        registry: undefined,
        credentials: undefined,
        signIn: undefined,
        status: undefined,
      });
    });

    it('on a pull request build: the target branch to compare with, and the pull request status to post with the job token', async () => {
      const a = agent({ variables: PR_BUILD, accessToken: TOKEN, collectionUrl: COLLECTION });
      const options = await readOptions(a);
      assert.equal(options.targetBranch, 'refs/heads/main');
      assert.deepEqual(options.gitSettings, { token: TOKEN });
      assert.deepEqual(options.status, {
        collectionUrl: COLLECTION,
        token: TOKEN,
        project: 'Edge',
        repository: PR_BUILD['Build.Repository.ID'],
        pullRequestId: 12,
        runUrl: `${COLLECTION}Edge/_build/results?buildId=4242`,
        appRepositories: [],
        branch: 'refs/pull/12/merge',
        commit: 'f'.repeat(40),
      });
      assert.ok(a.secrets.includes(TOKEN));
      assert.equal((await readOptions(agent({ inputs: { postStatus: 'false' }, variables: PR_BUILD, accessToken: TOKEN, collectionUrl: COLLECTION }))).status, undefined);
      const github = agent({ variables: { ...PR_BUILD, 'Build.Repository.Provider': 'GitHub' }, accessToken: TOKEN, collectionUrl: COLLECTION });
      assert.equal((await readOptions(github)).status, undefined);
      assert.match(github.lines.join('\n'), /No status is posted: the repository is in GitHub/);
    });

    it('after the merge, statuses only for the app repositories given; without a token, a warning and none', async () => {
      const ci = { ...PR_BUILD, 'Build.Reason': 'IndividualCI', 'Build.SourceBranch': 'refs/heads/main', 'System.PullRequest.PullRequestId': '', 'System.PullRequest.TargetBranch': '' };
      assert.equal((await readOptions(agent({ variables: ci, accessToken: TOKEN, collectionUrl: COLLECTION }))).status, undefined);
      const marks = (await readOptions(agent({ inputs: { appRepositories: 'Edge/app\nfirmware' }, variables: ci, accessToken: TOKEN, collectionUrl: COLLECTION }))).status;
      assert.deepEqual([marks?.pullRequestId, marks?.appRepositories, marks?.branch], [undefined, ['Edge/app', 'firmware'], 'refs/heads/main']);
      const noToken = agent({ variables: PR_BUILD, collectionUrl: COLLECTION });
      assert.equal((await readOptions(noToken)).status, undefined);
      assert.match(noToken.warnings[0].message, /No status is posted: the job's access token/);
    });

    it('parses the lists and policies, and reads the registry credentials only for checkRegistry (the password masked)', async () => {
      const a = agent({
        inputs: {
          gitopsPath: 'gitops',
          environments: 'devtest, prod*\n!prod-eu',
          render: 'never',
          helmValues: 'heuristic=image.tag\n',
          ignoreImages: 'myacr.azurecr.io/mirror/*',
          allowedRegistries: 'myacr.azurecr.io\n*.azurecr.io',
          protectedEnvironments: 'prod*',
          maxBump: 'minor',
          allowDowngrade: 'true',
          checkRegistry: 'true',
          registry: 'https://myacr.azurecr.io/',
          registryUsername: 'ci',
          registryPassword: PASSWORD,
        },
        variables: { 'Build.SourcesDirectory': '/s' },
      });
      const options = await readOptions(a);
      assert.deepEqual(
        [options.environments, options.render, options.helmValues, options.ignoreImages, options.allowedRegistries, options.protectedEnvironments, options.maxBump, options.allowDowngrade],
        [['devtest', 'prod*', '!prod-eu'], 'never', ['heuristic=image.tag'], ['myacr.azurecr.io/mirror/*'], ['myacr.azurecr.io', '*.azurecr.io'], ['prod*'], 'minor', true],
      );
      assert.deepEqual([options.checkRegistry, options.registry, options.credentials], [true, 'myacr.azurecr.io', { username: 'ci', password: PASSWORD }]);
      assert.ok(a.secrets.includes(PASSWORD));
      assert.match(options.gitopsPath, /\/gitops$/);
    });
  });

  describe('report', () => {
    const result = (findings: ValidateGitOpsResult['findings']): ValidateGitOpsResult => ({
      valid: findings.length === 0,
      findings,
      environments: [{ name: 'devtest', components: 2, references: 9, roots: 1, render: 'kubectl', findings: findings.length }],
      warnings: [],
      lockFile: 'versions.yaml',
      target: { branch: 'main', commit: 'a'.repeat(40) },
    });

    it('valid: outputs valid=true and findings=[], the summary table, a closing message', () => {
      const a = agent();
      const message = report(a, result([]));
      assert.deepEqual(a.outputs, { valid: 'true', findings: '[]' });
      assert.match(message, /1 environment\(s\) valid \(devtest\).*against main/);
      assert.match(a.summaries[0].markdown, /\*\*Valid\*\*.*\n(.*\n)*\| devtest \| 2 \| 9 \| 1 \(kubectl\) \| 0 \|/);
      assert.deepEqual(a.errors, []);
    });

    it('findings: each an error issue at its file and line, the outputs set, and the task fails', async () => {
      const a = agent();
      const findings = [
        { environment: 'devtest', component: 'heuristic', file: 'environments/devtest/jobs.yaml', line: 14, rule: 'tag-mismatch' as const, message: 'heuristic: wrong tag' },
        { environment: 'devtest', component: '', file: 'environments/devtest', rule: 'render-failed' as const, message: 'does not render' },
      ];
      await runWithAgent(a, async () => report(a, result(findings)));
      assert.deepEqual(a.outputs.valid, 'false');
      assert.deepEqual(JSON.parse(a.outputs.findings), [
        { environment: 'devtest', component: 'heuristic', file: 'environments/devtest/jobs.yaml', line: 14, rule: 'tag-mismatch', message: 'heuristic: wrong tag' },
        { environment: 'devtest', component: '', file: 'environments/devtest', line: null, rule: 'render-failed', message: 'does not render' },
      ]);
      assert.deepEqual(a.errors.slice(0, 2), [
        { message: 'tag-mismatch: heuristic: wrong tag', where: { file: 'environments/devtest/jobs.yaml', line: 14 } },
        { message: 'render-failed: does not render', where: { file: 'environments/devtest', line: undefined } },
      ]);
      assert.equal(a.result?.succeeded, false);
      assert.match(a.result!.message!, /2 finding\(s\) in the GitOps repository \(environments: devtest\)/);
      assert.match(a.summaries[0].markdown, /\| `environments\/devtest\/jobs\.yaml:14` \| devtest \| heuristic \| tag-mismatch \| heuristic: wrong tag \|/);
    });

    it('readOptions -> the flow -> report on a fixture: the findings reach the agent with their locations', async () => {
      const dir = await gitopsTree('myacr.azurecr.io', 'validation', { HEURISTIC: `sha256:${'1'.repeat(64)}`, COLLECTOR: `sha256:${'2'.repeat(64)}`, STALE: `sha256:${'3'.repeat(64)}` });
      try {
        const a = agent({ inputs: { gitopsPath: dir, render: 'never', environments: 'devtest' } });
        await runWithAgent(a, async (x) => report(x, await validateGitOps(await readOptions(x), x)));
        assert.equal(a.result?.succeeded, false);
        assert.deepEqual(
          a.errors.filter((e) => e.where?.line).map((e) => `${e.where!.file}:${e.where!.line}`),
          ['environments/devtest/dashboard.yaml:12', 'environments/devtest/jobs.yaml:11', 'environments/devtest/jobs.yaml:14', 'environments/devtest/kustomization.yaml:14'],
        );
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  });
});
