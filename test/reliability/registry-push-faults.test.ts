import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAppRepo } from '../helpers/app-repo';
import { workspaceRepo } from '../helpers/containers';
import { runTask } from '../helpers/run-task';
import { GitServer } from '../servers/git-server';
import { registryAvailable, TestRegistry } from '../servers/registry';
import { snapshot } from './sandbox';

/**
 * A loopback HTTP proxy in front of the real registry that answers 500 where `fault` says so, and
 * forwards everything else untouched. The tasks reach it as they would a registry on a loopback address.
 */
class FaultyProxy {
  readonly seen: Array<{ method: string; url: string; status: number }> = [];
  fault: (index: number, req: http.IncomingMessage) => boolean = () => false;
  private constructor(
    private readonly server: http.Server,
    readonly host: string,
  ) {}

  static async start(target: string): Promise<FaultyProxy> {
    const [targetHost, targetPort] = target.split(':');
    const holder: { proxy?: FaultyProxy } = {};
    const server = http.createServer((req, res) => {
      const proxy = holder.proxy!;
      const index = proxy.seen.length;
      if (proxy.fault(index, req)) {
        proxy.seen.push({ method: req.method ?? '', url: req.url ?? '', status: 500 });
        req.resume();
        res.writeHead(500, { 'Content-Type': 'application/json', 'Retry-After': '0' }).end('{"errors":[{"code":"UNKNOWN","message":"injected fault"}]}');
        return;
      }
      const upstream = http.request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...req.headers, host: target } }, (answer) => {
        proxy.seen.push({ method: req.method ?? '', url: req.url ?? '', status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new FaultyProxy(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    return holder.proxy;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

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
    let proxy: FaultyProxy;
    let digest: string;
    before(async function () {
      if (!(await registryAvailable())) this.skip();
      registry = await TestRegistry.start();
      await registry.pushImage('heuristic', 'v1.4.2');
      digest = await registry.pushImage('heuristic', 'v1.4.3');
      proxy = await FaultyProxy.start(registry.host);
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
      proxy.fault = (index) => index % 2 === 0;
      const from = proxy.seen.length;
      const run = await updateTask(dir);
      assert.equal(run.result, 'Succeeded', `${run.errors.join('\n')}\n${run.stdout.slice(-1500)}`);
      assert.ok(proxy.seen.slice(from).filter((r) => r.status === 500).length >= 2, 'faults were injected');
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
      proxy.fault = () => true;
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
        proxy.fault = (index) => index % 2 === 0;
        const manifest = path.join(scratch, 'plan-1', 'images.json');
        const ok = await planTask(workspace, manifest);
        assert.equal(ok.result, 'Succeeded', `${ok.errors.join('\n')}\n${ok.stdout.slice(-1500)}`);
        assert.deepEqual(Object.keys(JSON.parse(ok.outputs.matrix) as object).sort(), ['heuristic', 'http_connector', 'telemetry']);
        proxy.fault = () => true;
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
