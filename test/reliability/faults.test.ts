import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../shared/errors';
import { readLock } from '../../shared/lock/lockfile';
import { createEnvPR as createEnvPRCore } from '../../shared/flows/create-env-pr';
import { DEFAULT_PUSH_ATTEMPTS } from '../../shared/pr/branch';
import { createAppRepo } from '../helpers/app-repo';
import { workspaceRepo } from '../helpers/containers';
import { gitopsTree, snapshot, testLog } from '../helpers/gitops-tree';
import { runTask, type TaskRun, type TaskRunOptions } from '../helpers/run-task';
import { applyBump, BASE_PINS, digestOf, gitopsFiles, workingCopy } from '../integration/create-env-pr/fixture';
import { AzureRepos } from '../../shared/repos/azure-repos';
import { AdoServer, type FaultOptions } from '../../stand-ins/azure-devops';
import { FaultProxy } from '../../stand-ins/fault-proxy';
import { GitServer } from '../../stand-ins/git-server';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';

/**
 * Each task, when the services around it misbehave, either succeeds exactly once or fails with a clear
 * message and nothing half-written. Fault randomness comes from fixed seeds, so a run can be replayed.
 */
describe('Faults: each task succeeds exactly once or fails clearly with nothing half-written', function () {
  this.timeout(180_000);

  describe('CreateEnvPR against a misbehaving Azure DevOps', () => {
    const token = 'job-token-fau1ts-11aa22bb33cc44dd55ee';
    let ado: AdoServer;
    const copies: string[] = [];
    before(async () => {
      ado = await AdoServer.start(token);
    });
    after(async () => {
      await ado?.stop();
      for (const dir of copies) await fs.rm(dir, { recursive: true, force: true });
    });

    async function copy(repo: string): Promise<string> {
      const dir = await workingCopy(ado, 'Edge', repo, token);
      copies.push(dir);
      return dir;
    }
    const createEnvPR = (dir: string, env: string, extra: Partial<TaskRunOptions> = {}) =>
      runTask('CreateEnvPR', { inputs: { gitopsPath: dir, environment: env }, accessToken: token, collectionUrl: ado.collectionUrl, env: { GIT_CONFIG_GLOBAL: '/dev/null' }, ...extra });
    const pinned = (component: string, tag: string) => `tag: ${tag}\n      digest: ${digestOf(component, tag)}`;
    const detail = (r: TaskRun) => `${r.errors.join('\n')}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1000)}`;

    /** Either one pull request whose branch holds the change, or a clear error and nothing on the remote. */
    async function assertOnceOrClean(repo: string, env: string, result: TaskRun, bumps: Array<[string, string]>): Promise<'succeeded' | 'failed'> {
      const prs = ado.pullRequests(repo);
      if (result.result === 'Succeeded') {
        assert.equal(prs.length, 1, `${repo}: exactly one pull request`);
        assert.equal(prs[0].status, 'active');
        assert.equal(result.outputs.pullRequestId, String(prs[0].pullRequestId));
        assert.equal(result.outputs.commitId, await ado.branchTip('Edge', repo, `gitops/${env}`));
        const lock = (await ado.readFile('Edge', repo, `gitops/${env}`, 'versions.yaml'))!;
        readLock(lock, 'versions.yaml');
        for (const [component, tag] of bumps) assert.ok(lock.includes(pinned(component, tag)), `${repo}: ${component} ${tag} on the branch`);
        for (const [component] of bumps) assert.match(prs[0].description, new RegExp(`\\| ${component} \\|`));
        return 'succeeded';
      }
      assert.equal(result.result, 'Failed', detail(result));
      assert.equal(result.errors.length, 1, detail(result));
      // A clear error names what failed; never a bare stack or "undefined".
      assert.match(result.errors[0], /Azure DevOps|git |pull request|push/i, detail(result));
      assert.doesNotMatch(result.errors[0], /undefined|\bat .*\.js:\d+/);
      assert.equal(prs.length, 0, `${repo}: no stray pull request after a failure`);
      assert.equal(await ado.branchTip('Edge', repo, `gitops/${env}`), undefined, `${repo}: no stray branch after a failure`);
      return 'failed';
    }

    async function underFaults(name: string, faults: FaultOptions, count: number, parallel = 3): Promise<{ outcomes: string[]; repos: string[]; errors: string[] }> {
      const repos: string[] = [];
      const dirs: string[] = [];
      for (let i = 0; i < count; i++) {
        const repo = `${name}-${i}`;
        await ado.createRepo('Edge', repo, gitopsFiles({ devtest: BASE_PINS }));
        const dir = await copy(repo);
        await applyBump(dir, 'devtest', { heuristic: 'v1.6.0', 'edge-agent': 'v0.9.4' });
        repos.push(repo);
        dirs.push(dir);
      }
      const outcomes: string[] = [];
      const errors: string[] = [];
      ado.faults = faults;
      try {
        // `parallel` agents at a time.
        for (let i = 0; i < count; i += parallel) {
          const batch = await Promise.all(dirs.slice(i, i + parallel).map((dir) => createEnvPR(dir, 'devtest')));
          for (const [j, result] of batch.entries()) {
            outcomes.push(await assertOnceOrClean(repos[i + j], 'devtest', result, [['heuristic', 'v1.6.0'], ['edge-agent', 'v0.9.4']]));
            errors.push(...result.errors);
          }
        }
      } finally {
        ado.faults = undefined;
      }
      // Whatever happened, running again (as a re-run of the failed job would) ends with exactly one pull request.
      for (const [i, repo] of repos.entries()) {
        const again = await createEnvPR(dirs[i], 'devtest');
        assert.equal(again.result, 'Succeeded', detail(again));
        assert.equal(await assertOnceOrClean(repo, 'devtest', again, [['heuristic', 'v1.6.0'], ['edge-agent', 'v0.9.4']]), 'succeeded');
        assert.equal(again.outputs.created, outcomes[i] === 'succeeded' ? 'false' : 'true');
      }
      return { outcomes, repos, errors };
    }

    it('REST answered 429/503, dropped before the answer and cut after the work: one pull request each, never two', async () => {
      const start = ado.requests.length;
      // One agent at a time, so the seeded fault sequence meets the same requests on every run.
      const { outcomes, errors } = await underFaults(
        'rest-faults',
        { failRate: 0.25, dropRate: 0.1, truncateRate: 0.1, failWith: [{ status: 429, retryAfter: '0' }, { status: 503 }], scope: 'rest', seed: 7001 },
        6,
        1,
      );
      const log = ado.requests.slice(start);
      for (const fault of ['429', '503', 'drop', 'truncate']) assert.ok(log.some((r) => r.fault === fault), `${fault} was injected`);
      // REST faults are retried: every run is expected to get through.
      assert.deepEqual(outcomes, Array(6).fill('succeeded'), errors.join('\n'));
    });

    it('a cut answer to the repository lookup is retried, never reported as a missing repository', async () => {
      await ado.createRepo('Edge', 'cut-lookup', gitopsFiles({ devtest: BASE_PINS }));
      // The first three answers to GET .../repositories/cut-lookup are cut half-way; the client reads those as null.
      let cut = 0;
      ado.faults = { truncateRate: 1, match: (method, p) => method === 'GET' && /\/_apis\/git\/repositories\/cut-lookup$/.test(p) && cut++ < 3 };
      try {
        const repos = await AzureRepos.open({ collectionUrl: ado.collectionUrl, token, project: 'Edge', repository: 'cut-lookup', log: testLog(), retry: { baseMs: 1, capMs: 5 } });
        assert.equal(repos.repository.name, 'cut-lookup');
      } finally {
        ado.faults = undefined;
      }
      assert.ok(cut >= 4, 'three answers were cut');
      // A cut repository answer, then a cut answer to the project lookup that tells a missing repository from a missing project.
      await ado.createRepo('Edge', 'cut-project', gitopsFiles({ devtest: BASE_PINS }));
      const cuts = { repo: 0, project: 0 };
      ado.faults = {
        truncateRate: 1,
        match: (method, p) =>
          method === 'GET' && ((/\/_apis\/git\/repositories\/cut-project$/.test(p) && cuts.repo++ < 1) || (/\/_apis\/projects\/Edge$/.test(p) && cuts.project++ < 1)),
      };
      try {
        const repos = await AzureRepos.open({ collectionUrl: ado.collectionUrl, token, project: 'Edge', repository: 'cut-project', log: testLog(), retry: { baseMs: 1, capMs: 5 } });
        assert.equal(repos.repository.name, 'cut-project');
      } finally {
        ado.faults = undefined;
      }
      assert.deepEqual(cuts, { repo: 2, project: 2 }, 'one answer of each was cut, then asked again');
      // A repository that does not exist is still reported as such.
      await assert.rejects(
        AzureRepos.open({ collectionUrl: ado.collectionUrl, token, project: 'Edge', repository: 'no-such-repo', log: testLog(), retry: { baseMs: 1, capMs: 5 } }),
        /The repository 'no-such-repo' was not found in project 'Edge'/,
      );
    });

    it('git smart HTTP answered 503 or dropped (fetch, ls-remote and push): retried, every run pushes once and opens one pull request', async () => {
      const start = ado.requests.length;
      // One agent at a time, so the seeded fault sequence meets the same requests on every run.
      const { outcomes, errors } = await underFaults('git-faults', { failRate: 0.15, dropRate: 0.15, failWith: [{ status: 503 }], scope: 'git', seed: 7004 }, 6, 1);
      const faults = new Set(ado.requests.slice(start).filter((r) => r.fault).map((r) => `${r.fault} ${r.method} ${/info\/refs|git-upload-pack|git-receive-pack/.exec(r.url)?.[0]}`));
      for (const fault of ['503', 'drop']) {
        for (const request of ['GET info/refs', 'POST git-upload-pack', 'POST git-receive-pack']) assert.ok(faults.has(`${fault} ${request}`), `${fault} on ${request}: ${[...faults].join(', ')}`);
      }
      // git's transient failures are retried like REST's: every run is expected to get through.
      assert.deepEqual(outcomes, Array(6).fill('succeeded'), errors.join('\n'));
    });

    it('main and the environment branch both move between fetch and push: fetched again, both changes kept', async () => {
      const repo = await ado.createRepo('Edge', 'moving-both', gitopsFiles({ devtest: BASE_PINS, qa: BASE_PINS }));
      const first = await copy('moving-both');
      await applyBump(first, 'devtest', { heuristic: 'v1.8.1' });
      assert.equal((await createEnvPR(first, 'devtest')).result, 'Succeeded');
      // This run starts from the old main; before its push lands, a qa promotion is merged into main and
      // another devtest run adds its change to gitops/devtest.
      const second = await copy('moving-both');
      await applyBump(second, 'devtest', { 'http-connector': 'v2.3.0' });
      let moves = 0;
      ado.beforeGit = async ({ repo: name, service }) => {
        if (name !== 'moving-both' || service !== 'git-receive-pack' || moves > 0) return;
        moves++;
        const mainLock = (await ado.readFile('Edge', 'moving-both', 'main', 'versions.yaml'))!;
        const qaFrom = `    edge-agent:\n      image: registry.example.com/edge/edge-agent   # repository, without tag\n      ${pinned('edge-agent', 'v0.9.3')}\n`;
        const at = mainLock.lastIndexOf(qaFrom);
        assert.ok(at > 0);
        const qaTo = qaFrom.replace(pinned('edge-agent', 'v0.9.3'), pinned('edge-agent', 'v0.9.9'));
        await ado.commitFiles(repo, 'main', { 'versions.yaml': mainLock.slice(0, at) + qaTo + mainLock.slice(at + qaFrom.length) }, 'Merged PR: qa edge-agent v0.9.9');
        const lock = (await ado.readFile('Edge', 'moving-both', 'gitops/devtest', 'versions.yaml'))!;
        await ado.commitFiles(repo, 'gitops/devtest', { 'versions.yaml': lock.replace(pinned('edge-agent', 'v0.9.3'), pinned('edge-agent', 'v0.9.8')) }, 'chore(devtest): edge-agent v0.9.8');
      };
      let result: TaskRun;
      try {
        result = await createEnvPR(second, 'devtest');
      } finally {
        ado.beforeGit = undefined;
      }
      assert.equal(result.result, 'Succeeded', detail(result));
      assert.equal(moves, 1);
      assert.match(result.stdout, /rejected because the branch moved; fetching it again/);
      const lock = readLock((await ado.readFile('Edge', 'moving-both', 'gitops/devtest', 'versions.yaml'))!, 'versions.yaml');
      const devtest = lock.environments.get('devtest')!;
      assert.deepEqual(
        ['heuristic', 'edge-agent', 'http-connector'].map((c) => devtest.get(c)!.tag),
        ['v1.8.1', 'v0.9.8', 'v2.3.0'],
        'the first run, the concurrent run and this run',
      );
      const main = readLock((await ado.readFile('Edge', 'moving-both', 'main', 'versions.yaml'))!, 'versions.yaml');
      assert.equal(main.environments.get('qa')!.get('edge-agent')!.tag, 'v0.9.9', 'main keeps the merged qa change');
      assert.equal(main.environments.get('devtest')!.get('heuristic')!.tag, 'v1.4.1', 'main gets devtest only through the pull request');
      assert.equal(ado.pullRequests('moving-both').length, 1);
      assert.equal(ado.pullRequests('moving-both')[0].title, 'chore(devtest): update 3 component(s)');
    });

    it("a run whose pull request write lands after a later run's: the description still lists everything the branch holds", async () => {
      const repo = await ado.createRepo('Edge', 'late-write', gitopsFiles({ devtest: BASE_PINS }));
      const first = await copy('late-write');
      await applyBump(first, 'devtest', { heuristic: 'v1.8.1' });
      assert.equal((await createEnvPR(first, 'devtest')).result, 'Succeeded');
      const dir = await copy('late-write');
      await applyBump(dir, 'devtest', { 'http-connector': 'v2.3.0' });
      // Right after this run's push lands, a later run pushes edge-agent v0.9.8 and writes its description
      // first (here: before this run's write); this run's write then describes an older branch tip.
      let pushed = false;
      let moved = false;
      ado.beforeGit = async ({ repo: name, service, method }) => {
        if (name !== 'late-write') return;
        if (service === 'git-receive-pack' && method === 'POST') pushed = true;
        else if (pushed && !moved && service === 'info/refs') {
          moved = true;
          const lock = (await ado.readFile('Edge', 'late-write', 'gitops/devtest', 'versions.yaml'))!;
          await ado.commitFiles(repo, 'gitops/devtest', { 'versions.yaml': lock.replace(pinned('edge-agent', 'v0.9.3'), pinned('edge-agent', 'v0.9.8')) }, 'chore(devtest): edge-agent v0.9.8@x\n\nedge-agent: v0.9.3 -> v0.9.8 (patch)');
        }
      };
      let result: TaskRun;
      try {
        result = await createEnvPR(dir, 'devtest');
      } finally {
        ado.beforeGit = undefined;
      }
      assert.equal(result.result, 'Succeeded', detail(result));
      assert.ok(moved);
      assert.match(result.stdout, /gitops\/devtest moved to \w+ after this run's push: describing the 3 change\(s\) it holds now/);
      const [pr] = ado.pullRequests('late-write');
      assert.equal(pr.title, 'chore(devtest): update 3 component(s)');
      for (const component of ['heuristic', 'http-connector', 'edge-agent']) assert.match(pr.description, new RegExp(`\\| ${component} \\|`), component);
    });

    it('a branch that keeps moving on every push ends in a clear error, and this run changes nothing', async () => {
      // The shared core with a small attempt limit (the task allows DEFAULT_PUSH_ATTEMPTS, which would take a minute here).
      assert.ok(DEFAULT_PUSH_ATTEMPTS >= 20, 'the task outlasts a pool of 20 competing runs');
      const repo = await ado.createRepo('Edge', 'churn', gitopsFiles({ devtest: BASE_PINS }));
      const first = await copy('churn');
      await applyBump(first, 'devtest', { heuristic: 'v1.8.1' });
      assert.equal((await createEnvPR(first, 'devtest')).result, 'Succeeded');
      const dir = await copy('churn');
      await applyBump(dir, 'devtest', { 'http-connector': 'v2.3.0' });
      let moves = 0;
      ado.beforeGit = async ({ repo: name, service }) => {
        if (name !== 'churn' || service !== 'git-receive-pack') return;
        moves++;
        await ado.commitFiles(repo, 'gitops/devtest', { [`notes/${moves}.txt`]: `${moves}\n` }, `someone else ${moves}`);
      };
      const log = testLog();
      try {
        await assert.rejects(
          createEnvPRCore({ gitopsPath: dir, environment: 'devtest', token, collectionUrl: ado.collectionUrl, maxPushAttempts: 3 }, log),
          (error: Error) => error instanceof UserError && /gitops\/devtest kept moving while this run pushed \(3 attempts\): run the task again; nothing was changed on the remote by this run/.test(error.message),
        );
      } finally {
        ado.beforeGit = undefined;
      }
      assert.ok(moves >= 3);
      const lock = (await ado.readFile('Edge', 'churn', 'gitops/devtest', 'versions.yaml'))!;
      assert.ok(!lock.includes('v2.3.0'), 'nothing of this run on the branch');
      assert.equal(ado.pullRequests('churn').length, 1);
      assert.equal(ado.pullRequests('churn')[0].title, 'chore(devtest): update 1 component(s)');
    });
  });

  describe('TagComponents against a remote that refuses pushes', () => {
    const token = 'tok-fau1ts-9f8e7d6c5b4a';
    let server: GitServer;
    before(async () => {
      server = await GitServer.start(token);
    });
    after(async () => server?.stop());

    it('HTTP 500 on every receive-pack: a clear error, no local tag left, nothing on the remote', async () => {
      const app = await createAppRepo(server, 'refusing');
      let refused = 0;
      server.beforeRequest = (req, res) => {
        if (!(req.url ?? '').includes('git-receive-pack')) return false;
        refused++;
        req.resume();
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Internal Server Error');
        return true;
      };
      let result: TaskRun;
      try {
        result = await runTask('TagComponents', { inputs: { componentsPath: app.work }, accessToken: token, cwd: app.work, env: { HOME: app.home, GIT_CONFIG_NOSYSTEM: '1' } });
      } finally {
        server.beforeRequest = undefined;
      }
      assert.ok(refused > 0);
      assert.equal(result.result, 'Failed', result.stdout);
      assert.equal(result.errors.length, 1);
      assert.match(result.errors[0], /push/i);
      assert.match(result.errors[0], /500/);
      assert.deepEqual(await app.tagState(), { local: '', remote: '' });
      // Once the remote accepts pushes again, a re-run tags everything.
      const again = await runTask('TagComponents', { inputs: { componentsPath: app.work }, accessToken: token, cwd: app.work, env: { HOME: app.home, GIT_CONFIG_NOSYSTEM: '1' } });
      assert.equal(again.result, 'Succeeded', again.stdout);
      assert.equal((await app.tagState()).remote.split('\n').length, 3);
    });
  });

  describe('the registry answering 500 (a fault proxy in front of the real registry)', function () {
    let registry: TestRegistry;
    let proxy: FaultProxy;
    const digests: Record<string, string> = {};
    const dirs: string[] = [];
    before(async function () {
      await requireTool(this, ...REGISTRY_TOOLS);
      registry = await TestRegistry.start();
      for (const tag of ['v1.4.1', 'v1.4.2', 'v1.5.0']) digests[`heuristic:${tag}`] = await registry.pushImage('heuristic', tag);
      for (const tag of ['v2.0.0', 'v2.0.1']) digests[`collector:${tag}`] = await registry.pushImage('collector', tag);
      proxy = await FaultProxy.start(registry.host);
    });
    after(async () => {
      await proxy?.stop();
      await registry?.stop();
      for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
    });
    afterEach(() => {
      if (proxy) proxy.faults = undefined;
    });

    async function tree(): Promise<string> {
      const dir = await gitopsTree(proxy.host);
      dirs.push(dir);
      return dir;
    }
    const update = (dir: string, inputs: Record<string, string | boolean>) =>
      runTask('UpdateGitOpsVersions', {
        inputs: { gitopsPath: dir, environment: 'devtest', registry: proxy.host, registryUsername: registry.username, registryPassword: registry.password, ...inputs },
      });
    const expected = () => [
      ['collector', `${proxy.host}/collector:v2.0.1@${digests['collector:v2.0.1']}`],
      ['heuristic', `${proxy.host}/heuristic:v1.5.0@${digests['heuristic:v1.5.0']}`],
    ];

    it('UpdateGitOpsVersions source: registry with 30% of requests answered 500: retried, the same result as without faults', async () => {
      const dir = await tree();
      const before = await snapshot(dir);
      const start = proxy.requests.length;
      proxy.faults = { failRate: 0.3, seed: 7003 };
      const result = await update(dir, { source: 'registry', maxBump: 'minor' });
      const injected = proxy.requests.slice(start).filter((r) => r.fault === '500').length;
      assert.ok(injected > 0, 'faults were injected');
      if (result.result === 'Succeeded') {
        assert.deepEqual(JSON.parse(result.outputs.changes).map((c: { component: string; to: string }) => [c.component, c.to]), expected());
        const lock = readLock(await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8'), 'versions.yaml');
        assert.equal(lock.environments.get('devtest')!.get('heuristic')!.digest, digests['heuristic:v1.5.0']);
      } else {
        assert.match(result.errors.join('\n'), /500/);
        assert.deepEqual(await snapshot(dir), before, 'every file byte-identical after a failure');
      }
      // With this seed the retries get through (the client tries each request four times).
      assert.equal(result.result, 'Succeeded', result.errors.join('\n'));
    });

    for (const [name, inputs] of [
      ['source: registry', { source: 'registry', maxBump: 'minor' }],
      ['pinDigest of given tags', { images: 'heuristic=v1.4.2\ncollector=v2.0.1', pinDigest: true }],
    ] as const) {
      it(`UpdateGitOpsVersions ${name} with the registry down (every request 500): a clear error, every file byte-identical`, async () => {
        const dir = await tree();
        const before = await snapshot(dir);
        proxy.faults = { failRate: 1 };
        const result = await update(dir, inputs);
        assert.equal(result.result, 'Failed');
        assert.equal(result.errors.length, 1, result.errors.join('\n'));
        assert.match(result.errors[0], new RegExp(proxy.host.replace(/\./g, '\\.')));
        assert.match(result.errors[0], /500/);
        assert.deepEqual(await snapshot(dir), before, 'every file byte-identical');
        // Once the registry is back, the same run succeeds.
        proxy.faults = undefined;
        const again = await update(dir, inputs);
        assert.equal(again.result, 'Succeeded', again.errors.join('\n'));
        assert.equal(again.outputs.changed, 'true');
      });
    }

    it('BuildRustContainers with the registry down fails clearly before building or pushing anything (plan and build)', async () => {
      const workspace = await workspaceRepo();
      dirs.push(workspace);
      const agentTemp = await fs.mkdtemp(path.join(os.tmpdir(), 'faults-build-'));
      dirs.push(agentTemp);
      proxy.faults = { failRate: 1 };
      for (const mode of ['plan', 'build']) {
        const manifestPath = path.join(agentTemp, `${mode}-images.json`);
        const result = await runTask('BuildRustContainers', {
          inputs: { componentsPath: workspace, registry: proxy.host, registryUsername: registry.username, registryPassword: registry.password, mode, builder: 'buildah', manifestPath },
          variables: { 'Agent.TempDirectory': agentTemp },
          cwd: workspace,
          traceChildren: ['docker', 'podman', 'buildah'],
        });
        assert.equal(result.result, 'Failed', `${mode}: ${result.stdout.slice(-2000)}`);
        assert.equal(result.errors.length, 1, result.errors.join('\n'));
        assert.match(result.errors[0], /500/);
        assert.match(result.errors[0], new RegExp(proxy.host.replace(/\./g, '\\.')));
        assert.deepEqual(
          result.childArgv.filter((argv) => /^(build|bud|push|manifest)$/.test(argv[1] ?? '')),
          [],
          `${mode}: no builder build or push`,
        );
        assert.ok(!existsSync(manifestPath), `${mode}: no images.json written`);
        assert.equal(result.outputs.matrix ?? '', '', `${mode}: no matrix`);
      }
      assert.ok(proxy.requests.every((r) => r.fault || r.method === 'GET' || r.method === 'HEAD'), 'nothing reached the registry but reads');
    });
  });
});
