import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../../shared/agent';
import { Git } from '../../shared/git/git';
import { remoteEnv } from '../../shared/git/remote';
import { markPending } from '../../shared/gitops/promotion-marks';
import { AzureRepos } from '../../shared/repos/azure-repos';
import { StatusClient } from '../../shared/repos/statuses';
import { AdoServer } from '../../stand-ins/azure-devops';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { gitopsTree } from '../helpers/gitops-tree';
import { requireTool } from '../helpers/requires';
import { brief, VALIDATION_FINDINGS } from '../helpers/validation';
import { runTask, type TaskRun } from '../helpers/run-task';

/**
 * ValidateGitOps as the agent runs it on a pull request build of the GitOps repository: the bundled task, a
 * shallow single-branch checkout of the pull request (the target branch fetched with the job's token from the Azure
 * DevOps stand-in's git server), kubectl kustomize, a real registry for checkRegistry, and the pull request status
 * posted to the stand-in through azure-devops-node-api.
 */
describe('ValidateGitOps (bundled task, pull request build against the Azure DevOps stand-in)', function () {
  this.timeout(180_000);
  const token = 'job-token-validate-5e4d3c2b1a';
  const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, setSecret: () => undefined };
  let ado: AdoServer;
  let registry: TestRegistry;
  const cleanup: string[] = [];

  before(async function () {
    await requireTool(this, 'kubectl', 'git', ...REGISTRY_TOOLS);
    ado = await AdoServer.start(token);
    registry = await TestRegistry.start();
  });
  after(async () => {
    await ado?.stop();
    await registry?.stop();
    for (const dir of cleanup) await fs.rm(dir, { recursive: true, force: true });
  });

  /** Every file of a fixture copy, by its path in the repository. */
  async function files(dir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const file of await fs.readdir(dir, { recursive: true, encoding: 'utf8' })) {
      if ((await fs.stat(path.join(dir, file))).isFile()) out[file.split(path.sep).join('/')] = await fs.readFile(path.join(dir, file), 'utf8');
    }
    return out;
  }

  /** A GitOps repository whose main holds `main`, and a pull request from gitops/devtest holding `branch`; the checkout the build makes. */
  async function pullRequest(name: string, main: Record<string, string>, branch: Record<string, string>) {
    const repo = await ado.createRepo('Edge', name, main);
    await ado.commitFiles(repo, 'gitops/devtest', branch, 'chore(devtest): update');
    const repos = await AzureRepos.open({ collectionUrl: ado.collectionUrl, token, project: 'Edge', repository: name, log: quiet });
    const pr = await repos.createOrUpdate({ sourceBranch: 'gitops/devtest', targetBranch: 'main', title: 'chore(devtest): update', description: 'update' });
    // The checkout of a pull request build: shallow, this branch only, detached; the target branch is not fetched.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'validate-wc-'));
    cleanup.push(dir);
    await new Git(os.tmpdir()).run(['clone', '--quiet', '--depth', '1', '--single-branch', '--branch', 'gitops/devtest', ado.remoteUrl('Edge', name), dir], { env: remoteEnv({ token }).env });
    await new Git(dir).run(['checkout', '--quiet', '--detach']);
    return { repo, pr, dir };
  }

  const validate = (dir: string, repositoryId: string, pullRequestId: number, inputs: Record<string, string | boolean> = {}): Promise<TaskRun> =>
    runTask('ValidateGitOps', {
      inputs: { gitopsPath: dir, ...inputs },
      accessToken: token,
      collectionUrl: ado.collectionUrl,
      variables: {
        'Build.Reason': 'PullRequest',
        'System.PullRequest.PullRequestId': String(pullRequestId),
        'System.PullRequest.TargetBranch': 'refs/heads/main',
        'Build.Repository.ID': repositoryId,
        'Build.Repository.Provider': 'TfsGit',
      },
    });

  it('fails a pull request with every finding at its file and line, the target branch fetched with the token, and posts a failed status', async () => {
    const heuristic = await registry.pushImage('edge/heuristic', 'v1.4.1');
    const values = { HEURISTIC: heuristic, COLLECTOR: `sha256:${'2'.repeat(64)}`, STALE: `sha256:${'3'.repeat(64)}` };
    const fixture = await gitopsTree(registry.host, 'validation', values);
    cleanup.push(fixture);
    const branch = await files(fixture);
    // main runs a newer heuristic (the pull request moves it down) and collector 1.x (the pull request jumps a major)
    const mainLock = branch['versions.yaml'].replace('tag: v1.4.1', 'tag: v1.5.0').replace('tag: v2.0.0', 'tag: v1.2.0');
    const { repo, pr, dir } = await pullRequest('gitops', { ...branch, 'versions.yaml': mainLock }, branch);
    const run = await validate(dir, repo.id, pr.id, {
      allowedRegistries: registry.host,
      protectedEnvironments: 'prod',
      maxBump: 'minor',
      checkRegistry: true,
      registry: registry.host,
      registryUsername: registry.username,
      registryPassword: registry.password,
    });

    assert.equal(run.result, 'Failed', run.stderr);
    assert.equal(run.outputs.valid, 'false');
    const findings = JSON.parse(run.outputs.findings) as Array<{ environment: string; component: string; file: string; line: number | null; rule: string; message: string }>;
    // the fixture's own findings, and those only the target branch and the registry show
    const expected = [...VALIDATION_FINDINGS, 'devtest downgrade heuristic versions.yaml:5', 'devtest max-bump collector versions.yaml:9', 'devtest not-in-registry collector versions.yaml:9', 'prod not-in-registry collector versions.yaml:18'];
    assert.deepEqual(findings.map(brief).sort(), expected.sort());
    // kubectl rendered, and said why the broken overlay does not render
    assert.match(findings[0].message, /kubectl kustomize environments\/broken fails: .*canary\.yaml/);
    assert.match(findings.find((f) => f.rule === 'downgrade')!.message, /heuristic moves down from v1\.5\.0 \(on main\) to v1\.4\.1 in 'devtest'/);
    assert.match(findings.find((f) => f.rule === 'max-bump')!.message, /collector takes a major step from v1\.2\.0 \(on main\) to v2\.0\.0 in 'devtest', more than maxBump 'minor'/);
    // each finding is an error issue at its file and line
    for (const f of findings) assert.ok(run.issues.some((i) => i.type === 'error' && i.file === f.file && i.line === f.line && i.message.includes(f.message)), `issue for ${f.file}:${f.line}`);
    assert.match(run.summaries.join('\n'), /\| `environments\/devtest\/jobs\.yaml:14` \| devtest \| heuristic \| tag-mismatch \|/);

    const statuses = ado.pullRequestStatuses('gitops', pr.id);
    assert.equal(statuses.length, 1);
    assert.deepEqual(
      { state: statuses[0].state, context: statuses[0].context, targetUrl: statuses[0].targetUrl, by: statuses[0].createdBy },
      { state: 'failed', context: { genre: 'rust-gitops-release', name: 'validate-gitops' }, targetUrl: `${ado.collectionUrl}Edge/_build/results?buildId=5678`, by: ado.buildService.id },
    );
    assert.equal(statuses[0].description, '15 finding(s) in broken, devtest, prod');
    // nothing in the working copy changed, and the token reached no file
    assert.equal(await new Git(dir).text(['status', '--porcelain']), '');
    assert.ok(!(await fs.readFile(path.join(dir, '.git', 'config'), 'utf8')).includes(token));
    // the agent's own ##vso[task.setsecret] line excepted, as the secret scan of test/reliability allows it
    assert.ok(![...run.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.setsecret]')), run.stderr].some((text) => text.includes(token)));
  });

  it('passes a valid pull request and posts a succeeded status; a refused status is a warning, never a failed check', async () => {
    const fixture = await gitopsTree(registry.host, 'tree');
    cleanup.push(fixture);
    const tree = await files(fixture);
    const { repo, pr, dir } = await pullRequest('gitops-clean', tree, tree);
    const run = await validate(dir, repo.id, pr.id);
    assert.equal(run.result, 'Succeeded', run.errors.join('\n'));
    assert.deepEqual([run.outputs.valid, run.outputs.findings], ['true', '[]']);
    assert.deepEqual(ado.pullRequestStatuses('gitops-clean', pr.id).map((s) => [s.state, s.description]), [['succeeded', '2 environment(s) valid']]);

    ado.denyPermission(ado.buildService, 'PullRequestContribute');
    const refused = await validate(dir, repo.id, pr.id);
    assert.equal(refused.result, 'Succeeded', refused.errors.join('\n'));
    assert.ok(
      refused.warnings.some((w) => /Could not post the status 'validate-gitops' on pull request \d+: .*HTTP 403: TF401027: You need the Git 'PullRequestContribute' permission.*grant it 'Contribute to pull requests'/.test(w)),
      refused.warnings.join('\n'),
    );
    assert.equal(ado.pullRequestStatuses('gitops-clean', pr.id).length, 1, 'no status was added');
  });

  it('after the merge: turns the pending promotion marks of the app commits in the lock to succeeded, keeps them pending when it finds problems, and shows what runs where', async () => {
    const marks = new StatusClient({ collectionUrl: ado.collectionUrl, token, log: quiet });
    const fixture = await gitopsTree(registry.host, 'tree');
    cleanup.push(fixture);
    const tree = await files(fixture);
    /** A GitOps repository whose lock says `appRepo`'s commit built devtest's heuristic, that commit marked pending as CreateEnvPR marks it; the CI checkout of main. */
    async function merged(name: string, appRepo: string, lock: (text: string) => string) {
      await ado.createRepo('Edge', appRepo, { 'Cargo.toml': '[workspace]\n' });
      const appCommit = (await ado.branchTip('Edge', appRepo, 'main'))!;
      await markPending(marks, [{ environment: 'devtest', revision: appCommit, project: 'Edge', repository: appRepo }], { id: 7, url: 'https://pr/7', targetBranch: 'main' }, quiet);
      const versions = lock(tree['versions.yaml'].replace('tag: v1.4.1\n', `tag: v1.4.1\n      revision: ${appCommit}\n`));
      const repo = await ado.createRepo('Edge', name, { ...tree, 'versions.yaml': versions });
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'validate-ci-'));
      cleanup.push(dir);
      await new Git(os.tmpdir()).run(['clone', '--quiet', '--branch', 'main', ado.remoteUrl('Edge', name), dir], { env: remoteEnv({ token }).env });
      const mainTip = (await ado.branchTip('Edge', name, 'main'))!;
      const run = await runTask('ValidateGitOps', {
        inputs: { gitopsPath: dir, appRepositories: appRepo },
        accessToken: token,
        collectionUrl: ado.collectionUrl,
        variables: { 'Build.Reason': 'IndividualCI', 'Build.SourceBranch': 'refs/heads/main', 'Build.SourceVersion': mainTip, 'Build.Repository.ID': repo.id, 'Build.Repository.Provider': 'TfsGit' },
      });
      const statuses = ado.commitStatuses(appRepo, appCommit).map((s) => [s.context.name, s.state, s.description]);
      return { run, statuses, appCommit, mainTip };
    }

    const valid = await merged('gitops-merged', 'app-merged', (lock) => lock);
    assert.equal(valid.run.result, 'Succeeded', valid.run.errors.join('\n'));
    assert.deepEqual(valid.statuses, [
      ['gitops/devtest', 'pending', 'PR !7 into main'],
      ['gitops/devtest', 'succeeded', `merged into main (${valid.mainTip.slice(0, 12)})`],
    ]);
    assert.ok(valid.run.stdout.includes('1 promotion mark(s) turned to succeeded (1 app commit(s) in the lock).'), valid.run.stdout);
    const summary = valid.run.summaries.join('\n');
    assert.match(summary, /#### What runs where \(versions\.yaml\)/);
    assert.ok(summary.includes(`| heuristic | \`v1.4.1\`<br>rev \`${valid.appCommit.slice(0, 7)}\``), summary);
    assert.match(summary, /\| heuristic \| .* \| `v1\.3\.0`<br>minor behind devtest/);

    // the merged lock disagrees with the devtest overlay: the check fails, and the mark is not turned
    const broken = await merged('gitops-merged-broken', 'app-merged-broken', (lock) => lock.replace('tag: "v2.0.0"', 'tag: "v2.0.1"'));
    assert.equal(broken.run.result, 'Failed');
    assert.ok(broken.run.warnings.some((w) => /The promotion marks stay pending: the validation found \d+ problem\(s\)\./.test(w)), broken.run.warnings.join('\n'));
    assert.deepEqual(broken.statuses, [['gitops/devtest', 'pending', 'PR !7 into main']]);
  });
});
