import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { updateGitOps } from '../../../shared/flows/update-gitops';
import { remoteEnv } from '../../../shared/git/remote';
import { run } from '../../../shared/process';
import { testLog } from '../../helpers/gitops-tree';
import { runTask, type TaskRun, type TaskRunOptions } from '../../helpers/run-task';
import { AdoServer } from '../../../stand-ins/azure-devops';
import { applyBump, BASE_PINS, digestOf, gitopsFiles, workingCopy } from './fixture';

/**
 * CreateEnvPR run as the agent runs it (bundled task, INPUT_* and the SystemVssConnection endpoint)
 * against the Azure DevOps stand-in: real azure-devops-node-api REST calls, real git pushes through
 * `git http-backend`.
 */
describe('CreateEnvPR (bundled task against the Azure DevOps stand-in)', function () {
  this.timeout(240_000);
  const token = 'job-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
  let ado: AdoServer;
  const runs: TaskRun[] = [];
  const copies: string[] = [];

  before(async () => {
    ado = await AdoServer.start(token);
  });
  after(async () => {
    await ado.stop();
    for (const dir of copies) await fs.rm(dir, { recursive: true, force: true });
  });

  async function copy(project: string, repo: string): Promise<string> {
    const dir = await workingCopy(ado, project, repo, token);
    copies.push(dir);
    return dir;
  }

  async function createEnvPR(dir: string, inputs: TaskRunOptions['inputs'], extra: Partial<TaskRunOptions> = {}): Promise<TaskRun> {
    const result = await runTask('CreateEnvPR', {
      inputs: { gitopsPath: dir, ...inputs },
      accessToken: token,
      collectionUrl: ado.collectionUrl,
      traceChildren: ['git'],
      ...extra,
      // A fresh agent: no git identity configured for the build user.
      env: { GIT_CONFIG_GLOBAL: '/dev/null', ...extra.env },
    });
    runs.push(result);
    return result;
  }

  const lockAt = (project: string, repo: string, branch: string) => ado.readFile(project, repo, branch, 'versions.yaml');
  const pinned = (component: string, tag: string) => `tag: ${tag}\n      digest: ${digestOf(component, tag)}`;
  const succeeded = (r: TaskRun) => assert.equal(r.result, 'Succeeded', `${r.errors.join('\n')}\n${r.stderr}`);

  it('opens exactly one pull request from gitops/<env> to main whose branch holds the change, then updates it', async () => {
    await ado.createRepo('Edge', 'gitops', gitopsFiles({ devtest: BASE_PINS, qa: BASE_PINS }));
    const mainBefore = await ado.branchTip('Edge', 'gitops', 'main');

    const first = await copy('Edge', 'gitops');
    const changes = await applyBump(first, 'devtest', { heuristic: 'v1.5.0' });
    const r1 = await createEnvPR(first, { environment: 'devtest', changes });
    succeeded(r1);
    assert.equal(r1.outputs.created, 'true');
    assert.equal(r1.outputs.sourceBranch, 'gitops/devtest');
    const prs = ado.pullRequests('gitops');
    assert.equal(prs.length, 1);
    const pr = prs[0];
    assert.equal(r1.outputs.pullRequestId, String(pr.pullRequestId));
    assert.equal(r1.outputs.pullRequestUrl, `${ado.remoteUrl('Edge', 'gitops')}/pullrequest/${pr.pullRequestId}`);
    assert.equal(pr.sourceRefName, 'refs/heads/gitops/devtest');
    assert.equal(pr.targetRefName, 'refs/heads/main');
    assert.equal(pr.status, 'active');
    assert.equal(pr.createdBy, ado.buildService.id);
    assert.equal(pr.title, 'chore(devtest): update 1 component(s)');
    assert.match(pr.description, /\| heuristic \| v1\.4\.1@sha256:\w+ \| v1\.5\.0@sha256:\w+ \| minor \| \[5678\]\(/);
    assert.equal(r1.outputs.commitId, await ado.branchTip('Edge', 'gitops', 'gitops/devtest'));
    const lock1 = (await lockAt('Edge', 'gitops', 'gitops/devtest'))!;
    assert.ok(lock1.includes(pinned('heuristic', 'v1.5.0')));
    const overlay = await ado.readFile('Edge', 'gitops', 'gitops/devtest', 'environments/devtest/kustomization.yaml');
    assert.match(overlay!, /newTag: v1\.5\.0/);
    // Only the change: main untouched, the comment and the qa section as they were.
    assert.equal(await ado.branchTip('Edge', 'gitops', 'main'), mainBefore);
    assert.ok(lock1.startsWith('# versions.yaml: what runs where.'));
    assert.equal(lock1.split(pinned('heuristic', 'v1.4.1')).length, 2, 'qa keeps v1.4.1');
    // The commit: a useful message, "Azure Pipelines" when the working copy has no identity.
    const bare = path.join(ado.root);
    const log = await run('git', ['log', '-1', '--format=%an <%ae>%n%B', r1.outputs.commitId], { cwd: path.join(bare, (await findBare(bare, 'gitops'))!) });
    assert.match(log.stdout, /^Azure Pipelines </);
    assert.match(log.stdout, /chore\(devtest\): heuristic v1\.5\.0@sha256:/);
    assert.match(log.stdout, /heuristic: \S+:v1\.4\.1@\S+ -> \S+:v1\.5\.0@\S+ \(minor\)/);
    // The working copy is left as UpdateGitOpsVersions left it.
    assert.match((await run('git', ['status', '--porcelain'], { cwd: first })).stdout, /M versions\.yaml/);
    assert.equal(r1.summaries.length, 1);
    assert.ok(r1.summaries[0].includes(r1.outputs.pullRequestUrl));

    // A later run (fresh checkout of main) bumps another component: same PR, updated, branch holds both.
    const second = await copy('Edge', 'gitops');
    await applyBump(second, 'devtest', { 'http-connector': 'v2.1.0' });
    const r2 = await createEnvPR(second, { environment: 'devtest' }, { variables: { 'Build.BuildId': '5679', 'Build.BuildNumber': '20261123.2' } });
    succeeded(r2);
    assert.equal(r2.outputs.created, 'false');
    assert.equal(r2.outputs.pullRequestId, r1.outputs.pullRequestId);
    assert.equal(ado.pullRequests('gitops').length, 1);
    const lock2 = (await lockAt('Edge', 'gitops', 'gitops/devtest'))!;
    assert.ok(lock2.includes(pinned('heuristic', 'v1.5.0')), 'the first change stays');
    assert.ok(lock2.includes(pinned('http-connector', 'v2.1.0')), 'the second change is added');
    const updated = ado.pullRequests('gitops')[0];
    assert.equal(updated.title, 'chore(devtest): update 2 component(s)');
    assert.match(updated.description, /\| heuristic \|.*\| \[5678\]/);
    assert.match(updated.description, /\| http-connector \|.*\| \[20261123\.2\]/);
    assert.equal(r2.outputs.commitId, await ado.branchTip('Edge', 'gitops', 'gitops/devtest'));
  });

  it('succeeds without a commit or a pull request when nothing changed', async () => {
    await ado.createRepo('Edge', 'quiet', gitopsFiles({ devtest: BASE_PINS }));
    const dir = await copy('Edge', 'quiet');
    const before = ado.requests.length;
    const result = await createEnvPR(dir, { environment: 'devtest', changes: '[]' });
    succeeded(result);
    assert.match(result.message, /No change/);
    assert.equal(result.outputs.pullRequestId, '');
    assert.equal(result.outputs.created, 'false');
    assert.equal(ado.pullRequests('quiet').length, 0);
    assert.equal(await ado.branchTip('Edge', 'quiet', 'gitops/devtest'), undefined);
    assert.equal(ado.requests.length, before, 'no request at all');
  });

  it("marks the app commit that built each image gitops/<env>: pending (PR !<id>), in the repository its source names, or the pipeline's own", async () => {
    const app = await ado.createRepo('Edge', 'edge-app', { 'Cargo.toml': '[workspace]\n' });
    const built = (await ado.branchTip('Edge', 'edge-app', 'main'))!;
    await ado.createRepo('Edge', 'marked', gitopsFiles({ devtest: BASE_PINS }));
    const dir = await copy('Edge', 'marked');
    // UpdateGitOpsVersions' changes carry images.json's revision and source: heuristic names its repository, http-connector has none (the run's own repository is used)
    const changes = (JSON.parse(await applyBump(dir, 'devtest', { heuristic: 'v1.5.0', 'http-connector': 'v2.1.0' })) as Array<Record<string, string>>).map((c) => ({
      ...c,
      revision: built,
      ...(c.component === 'heuristic' ? { source: ado.remoteUrl('Edge', 'edge-app') } : {}),
    }));
    const result = await createEnvPR(dir, { environment: 'devtest', changes: JSON.stringify(changes) }, { variables: { 'Build.Repository.Provider': 'TfsGit', 'Build.Repository.ID': app.id } });
    succeeded(result);
    const marks = ado.commitStatuses('edge-app', built);
    assert.deepEqual(
      marks.map((m) => [m.context.genre, m.context.name, m.state, m.description, m.targetUrl]),
      [['rust-gitops-release', 'gitops/devtest', 'pending', `PR !${result.outputs.pullRequestId} into main`, result.outputs.pullRequestUrl]],
      'one mark for the commit (both changes were built by it)',
    );
    assert.deepEqual(result.warnings, []);

    // without the permission the pull request is still opened, with a warning naming it
    ado.denyPermission(ado.buildService, 'GenericContribute');
    try {
      const next = (JSON.parse(await applyBump(dir, 'devtest', { heuristic: 'v1.6.0' })) as Array<Record<string, string>>).map((c) => ({ ...c, revision: built, source: ado.remoteUrl('Edge', 'edge-app') }));
      const refused = await createEnvPR(dir, { environment: 'devtest', changes: JSON.stringify(next) });
      succeeded(refused);
      assert.ok(refused.warnings.some((w) => /HTTP 403.*GenericContribute.*grant it 'Contribute' on the app repository 'edge-app'/.test(w)), refused.warnings.join('\n'));
      assert.equal(ado.commitStatuses('edge-app', built).length, 1);
    } finally {
      ado.allowPermission(ado.buildService, 'GenericContribute');
    }
  });

  it('puts the pull request in the project of the GitOps repository, not the pipeline project', async () => {
    await ado.createRepo('Platform', 'fleet-gitops', gitopsFiles({ qa: BASE_PINS }));
    await ado.createRepo('Edge', 'fleet-gitops', gitopsFiles({ qa: BASE_PINS })); // same name, wrong project
    const dir = await copy('Platform', 'fleet-gitops');
    await applyBump(dir, 'qa', { 'edge-agent': 'v0.10.0' });
    // System.TeamProject is Edge (the pipeline's); 'project' is left at its default, $(System.TeamProject).
    const result = await createEnvPR(dir, { environment: 'qa' }, { variables: { 'System.TeamProject': 'Edge' } });
    succeeded(result);
    const inPlatform = ado.pullRequests('fleet-gitops').filter((p) => p.repository === 'fleet-gitops');
    assert.equal(inPlatform.length, 1);
    assert.equal(await ado.branchTip('Edge', 'fleet-gitops', 'gitops/qa'), undefined);
    assert.ok(await ado.branchTip('Platform', 'fleet-gitops', 'gitops/qa'));
    assert.match(result.outputs.pullRequestUrl, /\/Platform\/_git\/fleet-gitops\/pullrequest\//);
  });

  it('sets reviewers, labels, work items of the run, draft and auto-complete by the creating identity', async () => {
    await ado.createRepo('Edge', 'reviewed', gitopsFiles({ devtest: BASE_PINS }));
    const ann = ado.addIdentity({ displayName: 'Ann Lee', uniqueName: 'ann@example.com', mail: 'ann@example.com' });
    const team = ado.addIdentity({ displayName: '[Edge]\\Release Approvers', uniqueName: 'vstfs:///Classification/TeamProject/edge\\Release Approvers' });
    ado.linkWorkItems('7001', ['4242', '4243']);
    const dir = await copy('Edge', 'reviewed');
    await applyBump(dir, 'devtest', { heuristic: 'v1.4.2' });
    const result = await createEnvPR(
      dir,
      { environment: 'devtest', reviewers: 'ann@example.com', requiredReviewers: '[Edge]\\Release Approvers', labels: 'gitops, devtest', isDraft: true, autoComplete: true, mergeStrategy: 'rebaseMerge', deleteSourceBranch: false },
      { variables: { 'Build.BuildId': '7001' } },
    );
    succeeded(result);
    const pr = ado.pullRequests('reviewed')[0];
    assert.deepEqual(
      pr.reviewers.map((r) => [r.id, r.isRequired]).sort(),
      [[ann.id, false], [team.id, true]].sort(),
    );
    assert.deepEqual(pr.labels, ['gitops', 'devtest']);
    assert.deepEqual(pr.workItems, ['4242', '4243']);
    assert.equal(pr.isDraft, true);
    assert.equal(pr.autoCompleteSetBy, ado.buildService.id);
    assert.equal(pr.completionOptions?.mergeStrategy, 'rebaseMerge');
    assert.equal(pr.completionOptions?.deleteSourceBranch, false);

    // A later run's work items join the open pull request: only those it lacks, each linked once.
    ado.linkWorkItems('7002', ['4243', '4250']);
    const later = await copy('Edge', 'reviewed');
    await applyBump(later, 'devtest', { 'http-connector': 'v2.1.0' });
    const start = ado.requests.length;
    const updated = await createEnvPR(later, { environment: 'devtest' }, { variables: { 'Build.BuildId': '7002' } });
    succeeded(updated);
    assert.equal(updated.outputs.created, 'false');
    assert.deepEqual(ado.pullRequests('reviewed')[0].workItems, ['4242', '4243', '4250']);
    const links = ado.requests.slice(start).filter((r) => r.method === 'PATCH' && /_apis\/wit\/workitems\//i.test(r.url));
    assert.deepEqual(links.map((r) => [r.url.replace(/\?.*/, '').split('/').pop(), r.status]), [['4250', 200]]);
    assert.deepEqual(updated.warnings, []);

    // One the build identity cannot link (here: a work item that does not exist) is a warning, not a failure.
    const third = await copy('Edge', 'reviewed');
    await applyBump(third, 'devtest', { 'http-connector': 'v2.2.0' });
    const warned = await createEnvPR(third, { environment: 'devtest', workItems: '4250, 9999' });
    succeeded(warned);
    assert.match(warned.warnings.join('\n'), /Could not link work item 9999 to pull request \d+: work item 9999 does not exist/);
    assert.deepEqual(ado.pullRequests('reviewed')[0].workItems, ['4242', '4243', '4250']);

    const unknown = await copy('Edge', 'reviewed');
    await applyBump(unknown, 'devtest', { 'edge-agent': 'v1.0.0' });
    const failed = await createEnvPR(unknown, { environment: 'devtest', reviewers: 'nobody@example.com' });
    assert.equal(failed.result, 'Failed');
    assert.match(failed.errors.join('\n'), /reviewer 'nobody@example\.com' was not found/);
  });

  it('ends with exactly one pull request per environment when 30% of REST requests fail (429 Retry-After, 503)', async () => {
    const environments = Array.from({ length: 20 }, (_, i) => `env${i + 1}`);
    const dirs = new Map<string, string>();
    for (const env of environments) {
      await ado.createRepo('Edge', `gitops-${env}`, gitopsFiles({ [env]: BASE_PINS }));
      const dir = await copy('Edge', `gitops-${env}`);
      await applyBump(dir, env, { heuristic: 'v1.6.0', 'edge-agent': 'v0.9.4' });
      dirs.set(env, dir);
    }
    const start = ado.requests.length;
    ado.faults = { failRate: 0.3, failWith: [{ status: 429, retryAfter: '0' }, { status: 429, retryAfter: '1' }, { status: 503 }], seed: 20261123 };
    try {
      // Four at a time, as agents in a pool would.
      for (let i = 0; i < environments.length; i += 4) {
        await Promise.all(
          environments.slice(i, i + 4).map(async (env) => {
            const result = await createEnvPR(dirs.get(env)!, { environment: env });
            succeeded(result);
            assert.equal(result.outputs.created, 'true', `${env}: ${result.stdout}`);
          }),
        );
      }
    } finally {
      ado.faults = undefined;
    }
    for (const env of environments) {
      const prs = ado.pullRequests(`gitops-${env}`);
      assert.equal(prs.length, 1, `${env} has exactly one pull request`);
      assert.equal(prs[0].title, `chore(${env}): update 2 component(s)`);
      const lock = (await lockAt('Edge', `gitops-${env}`, `gitops/${env}`))!;
      assert.ok(lock.includes(pinned('heuristic', 'v1.6.0')) && lock.includes(pinned('edge-agent', 'v0.9.4')));
    }
    const log = ado.requests.slice(start).filter((r) => r.kind === 'rest');
    const faults = log.filter((r) => r.fault);
    assert.ok(faults.some((r) => r.status === 429) && faults.some((r) => r.status === 503), 'both kinds of failure were injected');
    assert.ok(log.filter((r) => r.retry && !r.fault).length > 0, 'the log shows retried requests that then succeeded');
    assert.ok(log.some((r) => r.method === 'POST' && r.retry), 'writes were retried too');
  });

  it('survives answers cut after the service did the work: the pull request is never opened twice', async () => {
    const envs = ['cut1', 'cut2', 'cut3', 'cut4', 'cut5', 'cut6'];
    for (const env of envs) {
      const repo = `gitops-${env}`;
      await ado.createRepo('Edge', repo, gitopsFiles({ [env]: BASE_PINS }));
      const dir = await copy('Edge', repo);
      await applyBump(dir, env, { heuristic: 'v1.7.0' });
      // Every create is done, but its answer is cut half-way; everything else is answered.
      ado.faults = { truncateRate: 1, match: (method, p) => method === 'POST' && /pullRequests$/.test(p) };
      try {
        const result = await createEnvPR(dir, { environment: env });
        succeeded(result);
        assert.equal(result.outputs.created, 'true');
      } finally {
        ado.faults = undefined;
      }
      assert.equal(ado.pullRequests(repo).length, 1);
    }
  });

  it('two runs for the same environment at the same moment end with one pull request holding both changes', async () => {
    await ado.createRepo('Edge', 'race', gitopsFiles({ devtest: BASE_PINS }));
    const a = await copy('Edge', 'race');
    const b = await copy('Edge', 'race');
    await applyBump(a, 'devtest', { heuristic: 'v1.8.0' });
    await applyBump(b, 'devtest', { 'http-connector': 'v2.2.0' });
    const [ra, rb] = await Promise.all([createEnvPR(a, { environment: 'devtest' }), createEnvPR(b, { environment: 'devtest' })]);
    succeeded(ra);
    succeeded(rb);
    const prs = ado.pullRequests('race');
    assert.equal(prs.length, 1);
    assert.deepEqual([ra.outputs.pullRequestId, rb.outputs.pullRequestId], [String(prs[0].pullRequestId), String(prs[0].pullRequestId)]);
    assert.deepEqual([ra.outputs.created, rb.outputs.created].sort(), ['false', 'true']);
    const lock = (await lockAt('Edge', 'race', 'gitops/devtest'))!;
    assert.ok(lock.includes(pinned('heuristic', 'v1.8.0')), 'first change kept');
    assert.ok(lock.includes(pinned('http-connector', 'v2.2.0')), 'second change kept');
    assert.equal(prs[0].title, 'chore(devtest): update 2 component(s)');
  });

  it('a push rejected because the branch moved is fetched again, re-applied and retried', async () => {
    const repo = await ado.createRepo('Edge', 'moving', gitopsFiles({ devtest: BASE_PINS }));
    const a = await copy('Edge', 'moving');
    await applyBump(a, 'devtest', { heuristic: 'v1.8.1' });
    succeeded(await createEnvPR(a, { environment: 'devtest' }));
    // Between this run's fetch and its push, another run adds its own change to the branch.
    let moved = false;
    ado.beforeGit = async ({ repo: name, service }) => {
      if (name !== 'moving' || service !== 'git-receive-pack' || moved) return;
      moved = true;
      const lock = (await lockAt('Edge', 'moving', 'gitops/devtest'))!;
      await ado.commitFiles(repo, 'gitops/devtest', { 'versions.yaml': lock.replace(pinned('edge-agent', 'v0.9.3'), pinned('edge-agent', 'v0.9.8')) }, 'chore(devtest): edge-agent v0.9.8');
    };
    try {
      const b = await copy('Edge', 'moving');
      await applyBump(b, 'devtest', { 'http-connector': 'v2.3.0' });
      const result = await createEnvPR(b, { environment: 'devtest' });
      succeeded(result);
      assert.ok(moved);
      assert.match(result.stdout, /The push to gitops\/devtest was rejected because the branch moved; fetching it again and re-applying/);
      assert.equal(result.outputs.created, 'false');
    } finally {
      ado.beforeGit = undefined;
    }
    const lock = (await lockAt('Edge', 'moving', 'gitops/devtest'))!;
    for (const [component, tag] of [['heuristic', 'v1.8.1'], ['edge-agent', 'v0.9.8'], ['http-connector', 'v2.3.0']]) {
      assert.ok(lock.includes(pinned(component, tag)), `${component} ${tag} on the branch`);
    }
    assert.equal(ado.pullRequests('moving').length, 1);
    assert.equal(ado.pullRequests('moving')[0].title, 'chore(devtest): update 3 component(s)');
  });

  it('after a merge, the next change opens a new pull request; a kept branch is started again from the target', async () => {
    await ado.createRepo('Edge', 'merged', gitopsFiles({ devtest: BASE_PINS }));
    const a = await copy('Edge', 'merged');
    await applyBump(a, 'devtest', { heuristic: 'v3.0.0' });
    const first = await createEnvPR(a, { environment: 'devtest' });
    succeeded(first);
    // Reviewed and merged, with the branch kept (deleteSourceBranch: false).
    await ado.completePullRequest('merged', Number(first.outputs.pullRequestId), { deleteSourceBranch: false });
    const b = await copy('Edge', 'merged'); // main now holds v3.0.0
    await applyBump(b, 'devtest', { 'edge-agent': 'v1.0.0' });
    const second = await createEnvPR(b, { environment: 'devtest' });
    succeeded(second);
    assert.equal(second.outputs.created, 'true');
    assert.notEqual(second.outputs.pullRequestId, first.outputs.pullRequestId);
    assert.match(second.stdout, /left over from a completed pull request: starting it again from main/);
    const prs = ado.pullRequests('merged');
    assert.deepEqual(prs.map((p) => p.status), ['completed', 'active']);
    assert.equal(prs[1].title, 'chore(devtest): update 1 component(s)', 'only the new change is proposed');
    const main = await ado.branchTip('Edge', 'merged', 'main');
    const log = await run('git', ['rev-list', '--parents', '-n', '1', second.outputs.commitId], { cwd: path.join(ado.root, (await findBare(ado.root, 'merged'))!) });
    assert.equal(log.stdout.trim().split(' ')[1], main, 'the branch starts again from main');
  });

  it('works on a GitOps tree in a subfolder of the repository', async () => {
    const files = Object.fromEntries(Object.entries(gitopsFiles({ devtest: BASE_PINS })).map(([f, c]) => [`deploy/${f}`, c]));
    await ado.createRepo('Edge', 'monorepo', { ...files, 'README.md': 'app and deploy\n' });
    const a = await copy('Edge', 'monorepo');
    await applyBump(path.join(a, 'deploy'), 'devtest', { heuristic: 'v1.4.7' });
    succeeded(await createEnvPR(path.join(a, 'deploy'), { environment: 'devtest' }));
    const b = await copy('Edge', 'monorepo');
    await applyBump(path.join(b, 'deploy'), 'devtest', { 'edge-agent': 'v0.9.9' });
    const second = await createEnvPR(path.join(b, 'deploy'), { environment: 'devtest' });
    succeeded(second);
    assert.equal(second.outputs.created, 'false');
    const lock = (await ado.readFile('Edge', 'monorepo', 'gitops/devtest', 'deploy/versions.yaml'))!;
    assert.ok(lock.includes(pinned('heuristic', 'v1.4.7')) && lock.includes(pinned('edge-agent', 'v0.9.9')));
    assert.equal(await ado.readFile('Edge', 'monorepo', 'gitops/devtest', 'versions.yaml'), undefined);
  });

  it('uses a service connection (personal access token, sent as Basic) instead of the job token', async () => {
    const pat = 'pat-3e4f5a6b7c8d9e0f';
    const robot = ado.addIdentity({ displayName: 'GitOps Robot', uniqueName: 'gitops-robot@example.com' });
    ado.addToken(pat, robot);
    await ado.createRepo('Edge', 'other-org', gitopsFiles({ devtest: BASE_PINS }));
    const dir = await copy('Edge', 'other-org');
    await applyBump(dir, 'devtest', { heuristic: 'v1.4.3' });
    const start = ado.requests.length;
    const result = await createEnvPR(
      dir,
      { environment: 'devtest', connection: 'gitops-org', autoComplete: true },
      { accessToken: undefined, endpoints: { 'gitops-org': { url: ado.collectionUrl, scheme: 'Token', parameters: { apitoken: pat } } } },
    );
    succeeded(result);
    const pr = ado.pullRequests('other-org')[0];
    assert.equal(pr.createdBy, robot.id);
    assert.equal(pr.autoCompleteSetBy, robot.id);
    assert.ok(ado.requests.slice(start).every((r) => r.status !== 401));
    const visible = result.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.setsecret]')).join('\n');
    assert.ok(!visible.includes(pat) && !JSON.stringify(result.childArgv).includes(pat));
    assert.ok(!visible.includes(Buffer.from(`pat:${pat}`).toString('base64')), 'the derived Basic header is not shown');
    assert.match(result.stdout, new RegExp(`##vso\\[task\\.setsecret\\]${Buffer.from(`pat:${pat}`).toString('base64')}`), 'the derived Basic header is masked');
  });

  it('five environments in parallel end with five pull requests', async () => {
    const envs = ['devtest', 'qa', 'staging', 'edge-eu', 'edge-us'];
    await ado.createRepo('Edge', 'fleet', gitopsFiles(Object.fromEntries(envs.map((e) => [e, BASE_PINS]))));
    const results = await Promise.all(
      envs.map(async (env, i) => {
        const dir = await copy('Edge', 'fleet');
        await applyBump(dir, env, { heuristic: `v1.9.${i}` });
        return createEnvPR(dir, { environment: env });
      }),
    );
    results.forEach(succeeded);
    const prs = ado.pullRequests('fleet');
    assert.equal(prs.length, 5);
    assert.deepEqual(prs.map((p) => p.sourceRefName).sort(), envs.map((e) => `refs/heads/gitops/${e}`).sort());
    for (const [i, env] of envs.entries()) {
      const lock = (await lockAt('Edge', 'fleet', `gitops/${env}`))!;
      assert.equal(lock.split('tag: v1.9.').length, 2, `${env} carries only its own change`);
      assert.ok(lock.includes(pinned('heuristic', `v1.9.${i}`)));
    }
  });

  it('two runs bumping the same component end with the newer version, whatever their order', async () => {
    await ado.createRepo('Edge', 'same', gitopsFiles({ devtest: BASE_PINS }));
    const a = await copy('Edge', 'same');
    await applyBump(a, 'devtest', { heuristic: 'v2.0.0' });
    succeeded(await createEnvPR(a, { environment: 'devtest' }));
    // A newer build: re-applied on the branch's files (not replayed as text), it moves v2.0.0 to v2.1.0.
    const b = await copy('Edge', 'same');
    await applyBump(b, 'devtest', { heuristic: 'v2.1.0' });
    const newer = await createEnvPR(b, { environment: 'devtest' });
    succeeded(newer);
    assert.equal(newer.outputs.created, 'false');
    let lock = (await lockAt('Edge', 'same', 'gitops/devtest'))!;
    assert.ok(lock.includes(pinned('heuristic', 'v2.1.0')));
    const overlay = await ado.readFile('Edge', 'same', 'gitops/devtest', 'environments/devtest/kustomization.yaml');
    assert.match(overlay!, /newTag: v2\.1\.0\n {4}digest: sha256:/, 'the overlay moves with the lock');
    // An older build arriving late leaves the newer version in place: nothing to push.
    const tip = await ado.branchTip('Edge', 'same', 'gitops/devtest');
    const c = await copy('Edge', 'same');
    await applyBump(c, 'devtest', { heuristic: 'v2.0.5' });
    const older = await createEnvPR(c, { environment: 'devtest' });
    succeeded(older);
    assert.match(older.stdout, /already has v2\.1\.0, newer than this run's v2\.0\.5; keeping v2\.1\.0/);
    assert.equal(await ado.branchTip('Edge', 'same', 'gitops/devtest'), tip);
    lock = (await lockAt('Edge', 'same', 'gitops/devtest'))!;
    assert.ok(lock.includes(pinned('heuristic', 'v2.1.0')));
    assert.equal(ado.pullRequests('same').length, 1);
    assert.match(ado.pullRequests('same')[0].description, /\| heuristic \| v1\.4\.1@\S+ \| v2\.1\.0@\S+ \| major \|/);
  });

  it('an edit that cannot be applied to the open pull request fails clearly and leaves the remote untouched', async () => {
    const files = { ...gitopsFiles({ devtest: BASE_PINS }), 'environments/devtest/replicas.yaml': 'replicas: 1\n' };
    await ado.createRepo('Edge', 'clash', files);
    // Manifest-only edits (no lock change): the edit itself is applied, and both runs edit the same line.
    const a = await copy('Edge', 'clash');
    await fs.writeFile(path.join(a, 'environments/devtest/replicas.yaml'), 'replicas: 2\n');
    succeeded(await createEnvPR(a, { environment: 'devtest' }));
    const tip = await ado.branchTip('Edge', 'clash', 'gitops/devtest');
    const b = await copy('Edge', 'clash');
    await fs.writeFile(path.join(b, 'environments/devtest/replicas.yaml'), 'replicas: 3\n');
    const result = await createEnvPR(b, { environment: 'devtest' });
    assert.equal(result.result, 'Failed');
    assert.match(result.errors.join('\n'), /environments\/devtest\/replicas\.yaml: This run's change \(the edit\) conflicts with what the pull request's branch already holds in environments\/devtest\/replicas\.yaml: nothing was pushed/);
    assert.equal(await ado.branchTip('Edge', 'clash', 'gitops/devtest'), tip);
    assert.equal(ado.pullRequests('clash').length, 1);
  });

  describe('clear errors', () => {
    let dir: string;
    before(async () => {
      await ado.createRepo('Edge', 'errors', gitopsFiles({ devtest: BASE_PINS }));
      dir = await copy('Edge', 'errors');
      await applyBump(dir, 'devtest', { heuristic: 'v1.4.5' });
    });
    afterEach(async () => {
      assert.equal(await ado.branchTip('Edge', 'errors', 'gitops/devtest'), undefined, 'nothing was pushed');
      assert.equal(ado.pullRequests('errors').length, 0);
    });

    it('without a token', async () => {
      const result = await createEnvPR(dir, { environment: 'devtest' }, { accessToken: '' });
      assert.equal(result.result, 'Failed');
      assert.match(result.errors.join('\n'), /No access token/);
    });
    it('with a token the service refuses', async () => {
      const result = await createEnvPR(dir, { environment: 'devtest' }, { accessToken: 'expired-token-5f4e3d' });
      assert.equal(result.result, 'Failed');
      assert.match(result.errors.join('\n'), /token was refused .*HTTP 401.*Contribute to pull requests/);
    });
    it('for an unknown repository', async () => {
      const result = await createEnvPR(dir, { environment: 'devtest', repository: 'no-such-repo' });
      assert.equal(result.result, 'Failed');
      assert.match(result.errors.join('\n'), /repository 'no-such-repo' was not found in project 'Edge'/);
    });
    it('for an unknown project', async () => {
      const result = await createEnvPR(dir, { environment: 'devtest', project: 'Nowhere' });
      assert.equal(result.result, 'Failed');
      assert.match(result.errors.join('\n'), /project 'Nowhere' was not found/);
    });
    it('for a description over the service limit', async () => {
      const result = await createEnvPR(dir, { environment: 'devtest', description: `{table}\n\n${'Release notes. '.repeat(300)}` });
      assert.equal(result.result, 'Failed');
      assert.match(result.errors.join('\n'), /Input 'description' is \d+ characters long once filled: Azure Repos accepts at most 4000/);
    });
    it('for a target branch that does not exist', async () => {
      const result = await createEnvPR(dir, { environment: 'devtest', targetBranch: 'release' });
      assert.equal(result.result, 'Failed');
      assert.match(result.errors.join('\n'), /branch 'release' does not exist/);
    });
  });

  it('a rollback goes onto an open pull request that holds a newer version, wins, keeps its hold and is described as a rollback', async () => {
    await ado.createRepo('Edge', 'rollback', gitopsFiles({ devtest: BASE_PINS }));
    const a = await copy('Edge', 'rollback');
    await applyBump(a, 'devtest', { heuristic: 'v1.5.0' });
    const merged = await createEnvPR(a, { environment: 'devtest' });
    succeeded(merged);
    await ado.completePullRequest('rollback', Number(merged.outputs.pullRequestId)); // main: v1.5.0, one commit after the first
    const b = await copy('Edge', 'rollback');
    await applyBump(b, 'devtest', { heuristic: 'v1.6.0', 'edge-agent': 'v0.9.4' });
    const open = await createEnvPR(b, { environment: 'devtest' });
    succeeded(open);

    // The rollback needs the history: a full clone, as with fetchDepth: 0.
    const full = await fs.mkdtemp(path.join(os.tmpdir(), 'gitops-full-'));
    copies.push(full);
    await run('git', ['clone', '--quiet', ado.remoteUrl('Edge', 'rollback'), full], { env: remoteEnv({ token }).env });
    const rolled = await updateGitOps({ gitopsPath: full, environment: 'devtest', source: 'revision', revision: 'HEAD~1', components: 'heuristic', requestedFor: 'Jane Doe', buildNumber: '20261204.3' }, testLog());
    const hold = rolled.changes[0].hold!;
    assert.match(hold, /^rollback to HEAD~1 \(\w{12}\) by Jane Doe in run 20261204\.3$/);
    const result = await createEnvPR(full, { environment: 'devtest', changes: JSON.stringify(rolled.changes) });
    succeeded(result);
    assert.equal(result.outputs.pullRequestId, open.outputs.pullRequestId);
    const lock = (await lockAt('Edge', 'rollback', 'gitops/devtest'))!;
    assert.ok(lock.includes(`${pinned('heuristic', 'v1.4.1')}\n      hold: "${hold}"\n`), lock);
    assert.ok(lock.includes(pinned('edge-agent', 'v0.9.4')), 'the open change of another component stays');
    const overlay = (await ado.readFile('Edge', 'rollback', 'gitops/devtest', 'environments/devtest/kustomization.yaml'))!;
    assert.match(overlay, /- name: heuristic\n {4}newName: .*\n {4}newTag: v1\.4\.1\n/);
    const pr = ado.pullRequests('rollback').find((p) => String(p.pullRequestId) === open.outputs.pullRequestId)!;
    assert.match(pr.description, /^\*\*Rollback\*\*: sets 1 component\(s\) of \*\*devtest\*\* back to an earlier version, and promotes 1 more\./);
    assert.match(pr.description, /\| heuristic \| v1\.5\.0@sha256:\w+ \| v1\.4\.1@sha256:\w+ \| minor \(rollback\) \|/);
    assert.ok(pr.description.includes(`- **Held**: heuristic at v1.4.1@sha256:`) && pr.description.includes(`(${hold})`), pr.description);
    assert.match(result.summaries[0], /#### What runs where \(versions\.yaml\)\n\n\| Component \| devtest \|\n\|---\|---\|\n\| edge-agent \| `v0\.9\.4@sha256:\w+`<br>this pull request \|/);
  });

  it('a dry run reports the pull request and changes nothing', async () => {
    await ado.createRepo('Edge', 'dry', gitopsFiles({ devtest: BASE_PINS }));
    const dir = await copy('Edge', 'dry');
    await applyBump(dir, 'devtest', { heuristic: 'v1.4.9' });
    const result = await createEnvPR(dir, { environment: 'devtest', dryRun: true });
    succeeded(result);
    assert.match(result.message, /Dry run: would commit 2 changed file\(s\) \(heuristic v1\.4\.9@sha256:\w+\) to gitops\/devtest of Edge\/dry/);
    assert.equal(await ado.branchTip('Edge', 'dry', 'gitops/devtest'), undefined);
    assert.equal(ado.pullRequests('dry').length, 0);
  });

  describe('secrets (after every run above)', () => {
    it('never lets the token into output, child argv, .git/config or the service log', async () => {
      assert.ok(runs.length > 20);
      for (const r of runs) {
        // The agent masks the job token everywhere (System.AccessToken is a secret variable); what must not
        // exist is any other line carrying it: only task-lib's own endpoint debug line and setsecret may.
        const stdout = r.stdout
          .split('\n')
          .filter((line) => !line.startsWith('##vso[task.setsecret]') && !line.startsWith('##vso[task.debug]SystemVssConnection auth param AccessToken'))
          .join('\n');
        const visible = [stdout, r.stderr, JSON.stringify(r.childArgv), ...r.summaries].join('\n');
        assert.ok(!visible.includes(token), 'token in task output or argv');
      }
      assert.ok(runs.some((r) => r.childArgv.some((argv) => argv[1] === 'push')), 'pushes were traced');
      for (const dir of copies) {
        const config = await fs.readFile(path.join(dir, '.git', 'config'), 'utf8');
        assert.ok(!config.includes(token) && !/extraheader/i.test(config), `${dir}/.git/config`);
      }
      assert.ok(!JSON.stringify(ado.requests).includes(token));
    });
  });
});

async function findBare(root: string, name: string): Promise<string | undefined> {
  for (const project of await fs.readdir(root)) {
    const candidate = path.join(project, `${name}.git`);
    if (await fs.stat(path.join(root, candidate)).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

