import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAppRepo } from '../helpers/app-repo';
import { workspaceRepo } from '../helpers/containers';
import { runTask } from '../helpers/run-task';
import { FaultProxy } from '../../stand-ins/fault-proxy';
import { GitServer } from '../../stand-ins/git-server';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';
import { snapshot } from './sandbox';

/**
 * Faults: the registry answering 500 (on every other request, then on all of them) to
 * UpdateGitOpsVersions and BuildRustContainers, and the git remote failing or refusing TagComponents'
 * push. Each task either succeeds exactly once or fails clearly with nothing half-written.
 */
describe('reliability: faults', function () {
  this.timeout(300_000);
  let scratch: string;
  before(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'faults-'));
  });
  after(async () => fs.rm(scratch, { recursive: true, force: true }));

  describe('the registry answering 500', function () {
    let registry: TestRegistry;
    let proxy: FaultProxy;
    let digest: string;
    before(async function () {
      await requireTool(this, ...REGISTRY_TOOLS);
      registry = await TestRegistry.start();
      await registry.pushImage('heuristic', 'v1.4.2');
      digest = await registry.pushImage('heuristic', 'v1.4.3');
      proxy = await FaultProxy.start(registry.host);
    });
    after(async () => {
      await proxy?.stop();
      await registry?.stop();
    });

    async function gitopsRepo(): Promise<string> {
      const dir = await fs.mkdtemp(path.join(scratch, 'gitops-'));
      const host = proxy.host;
      const files: Record<string, string> = {
        'versions.yaml': `schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: ${host}/heuristic\n      tag: v1.4.2\n`,
        'environments/devtest/kustomization.yaml': `resources:\n  - deploy.yaml\nimages:\n  - name: ${host}/heuristic\n    newTag: v1.4.2\n`,
        'environments/devtest/deploy.yaml': `kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: h\n          image: ${host}/heuristic:v1.4.2\n`,
      };
      for (const [file, content] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await fs.writeFile(path.join(dir, file), content);
      }
      return dir;
    }

    const updateTask = (dir: string) =>
      runTask('UpdateGitOpsVersions', {
        inputs: { gitopsPath: dir, environment: 'devtest', source: 'registry', registry: proxy.host, registryUsername: registry.username, registryPassword: registry.password },
        cwd: dir,
        variables: { 'Agent.TempDirectory': scratch },
      });

    it('UpdateGitOpsVersions: every other request failing, the update happens once, with the real digest', async () => {
      const dir = await gitopsRepo();
      proxy.faults = { failWhen: (index) => index % 2 === 0 };
      const from = proxy.requests.length;
      const run = await updateTask(dir);
      assert.equal(run.result, 'Succeeded', `${run.errors.join('\n')}\n${run.stdout.slice(-1500)}`);
      assert.ok(proxy.requests.slice(from).filter((r) => r.fault).length >= 2, 'faults were injected');
      const lock = await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8');
      assert.equal((lock.match(/tag: v1\.4\.3/g) ?? []).length, 1);
      assert.ok(lock.includes(`digest: ${digest}`), lock);
      assert.match(await fs.readFile(path.join(dir, 'environments/devtest/deploy.yaml'), 'utf8'), new RegExp(`heuristic:v1\\.4\\.3@${digest}`));
      // A second run (faults still on) finds nothing to do and writes nothing.
      const before = await snapshot(dir);
      const again = await updateTask(dir);
      assert.equal(again.result, 'Succeeded');
      assert.equal(again.outputs.changed, 'false');
      assert.equal(await snapshot(dir), before);
    });

    it('UpdateGitOpsVersions: every request failing, it fails naming the registry and writes nothing', async () => {
      const dir = await gitopsRepo();
      const before = await snapshot(dir);
      proxy.faults = { failRate: 1 };
      const run = await updateTask(dir);
      assert.equal(run.result, 'Failed');
      assert.equal(run.errors.length, 1, run.errors.join('\n'));
      assert.match(run.errors[0], new RegExp(proxy.host.replace(/\./g, '\\.')));
      assert.match(run.errors[0], /500/);
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+:\d+:\d+/, 'a stack trace');
      assert.equal(await snapshot(dir), before);
    });

    const planTask = (workspace: string, manifestPath: string) =>
      runTask('BuildRustContainers', {
        inputs: { componentsPath: workspace, mode: 'plan', repositoryPrefix: 'plan/', registry: proxy.host, registryUsername: registry.username, registryPassword: registry.password, manifestPath },
        cwd: workspace,
        variables: { 'Agent.TempDirectory': scratch },
      });

    it('BuildRustContainers plan: every other request failing, the plan is complete; every request failing, a clear failure and no images.json', async () => {
      const workspace = await workspaceRepo();
      try {
        proxy.faults = { failWhen: (index) => index % 2 === 0 };
        const manifest = path.join(scratch, 'plan-1', 'images.json');
        const ok = await planTask(workspace, manifest);
        assert.equal(ok.result, 'Succeeded', `${ok.errors.join('\n')}\n${ok.stdout.slice(-1500)}`);
        assert.deepEqual(Object.keys(JSON.parse(ok.outputs.matrix) as object).sort(), ['heuristic', 'http_connector', 'telemetry']);
        proxy.faults = { failRate: 1 };
        const failedManifest = path.join(scratch, 'plan-2', 'images.json');
        const failed = await planTask(workspace, failedManifest);
        assert.equal(failed.result, 'Failed');
        assert.match(failed.errors[0], /500/);
        await assert.rejects(fs.access(failedManifest), 'images.json is not written');
      } finally {
        await fs.rm(workspace, { recursive: true, force: true });
      }
    });
  });

  describe('the git remote failing or refusing pushes', () => {
    const token = 'fault-token-6d2b9e1a4c7f';
    let server: GitServer;
    before(async () => {
      server = await GitServer.start(token);
    });
    after(async () => server?.stop());

    const isPush = (req: http.IncomingMessage) => req.method === 'POST' && (req.url ?? '').includes('git-receive-pack');

    it('TagComponents: a 500 on the push is retried and the tags land once; a refused push leaves no tag anywhere, and the re-run tags', async () => {
      const app = await createAppRepo(server, 'faults-app');
      const tagTask = () =>
        runTask('TagComponents', { inputs: { componentsPath: app.work }, accessToken: token, cwd: app.work, env: { HOME: app.home, GIT_CONFIG_NOSYSTEM: '1' } });

      // A refused push (HTTP 403 on every receive-pack): nothing on the remote, the local tags undone.
      server.beforeRequest = (req, res) => {
        if (!isPush(req)) return false;
        req.resume();
        res.writeHead(403).end('forbidden');
        return true;
      };
      const refused = await tagTask();
      assert.equal(refused.result, 'Failed');
      assert.match(refused.errors[0], /HTTP 403.*Create tag/);
      assert.deepEqual(await app.tagState(), { local: '', remote: '' });

      // One 500 on the first push: retried with the same refspecs; every tag lands exactly once.
      let failures = 1;
      server.beforeRequest = (req, res) => {
        if (!isPush(req) || failures-- <= 0) return false;
        req.resume();
        res.writeHead(500).end('injected');
        return true;
      };
      const start = server.requests.length;
      const ok = await tagTask();
      assert.equal(ok.result, 'Succeeded', ok.errors.join('\n'));
      const pushes = server.requests.slice(start).filter((r) => r.method === 'POST' && r.url.includes('git-receive-pack'));
      assert.deepEqual(pushes.map((p) => p.status), [500, 200]);
      const state = await app.tagState();
      assert.equal(state.local, state.remote);
      assert.deepEqual(state.remote.split('\n').map((l) => l.split(' ')[0]).sort(), ['edge-http-connector/0.3.1', 'edgectl/0.0.0', 'heuristic/1.4.2']);

      // And again: a no-op, no push at all.
      server.beforeRequest = undefined;
      const beforeAgain = server.requests.length;
      const again = await tagTask();
      assert.equal(again.result, 'Succeeded');
      assert.equal(server.requests.slice(beforeAgain).filter((r) => r.method === 'POST' && r.url.includes('git-receive-pack')).length, 0);
      assert.deepEqual(await app.tagState(), state);
      await fs.rm(path.dirname(app.work), { recursive: true, force: true });
    });
  });
});
