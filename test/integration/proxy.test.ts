import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Git } from '../../shared/git/git';
import { remoteEnv } from '../../shared/git/remote';
import { AdoServer } from '../../stand-ins/azure-devops';
import type { Repo } from '../../stand-ins/azure-devops/store';
import { FaultProxy } from '../../stand-ins/fault-proxy';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import type { GateRecord } from '../../stand-ins/source-gate';
import { TinyProxy } from '../../stand-ins/tinyproxy';
import { RUST_APP } from '../helpers/app-repo';
import { requireTool } from '../helpers/requires';
import { runTask, type TaskRun, type TaskRunOptions } from '../helpers/run-task';
import { SecretScan } from '../helpers/secrets';

const TOKEN = 'proxy-job-token-3c9d1e';
const PROXY_USER = 'ci-agent';
// tinyproxy's BasicAuth takes letters, digits and -._ only.
const PROXY_PASSWORD = 'pr0xy-Pa55.word_7b2';
const WRONG_PASSWORD = 'wrong-Pa55-4e1';

/**
 * The agent's proxy, end to end: the bundled tasks run as the agent runs them, with the agent's proxy
 * settings (Agent.ProxyUrl, Agent.ProxyUsername, and Agent.ProxyPassword as a secret variable), against
 * a real proxy (Debian's tinyproxy, with Basic proxy authentication).
 *
 * How the tests know the traffic went through the proxy: tinyproxy makes its outgoing connections from
 * an address of its own (127.0.0.2, its `Bind`), and every server the tasks talk to (the Azure DevOps
 * stand-in, which serves both git and REST, and a front of the registry) accepts connections only from
 * that address (stand-ins/source-gate.ts). A client that goes around the proxy has its connection closed
 * before a byte is read: the direct route is blocked, and a run without the proxy settings fails. The
 * gates record who connected (only the proxy), and tinyproxy's log shows each request: CONNECT tunnels
 * for the Node clients (undici for the registry, typed-rest-client for the REST API), absolute-URI
 * requests for git over plain HTTP.
 */
describe('through the agent\'s proxy: tinyproxy with basic auth, the direct route blocked', function () {
  this.timeout(180_000);
  let proxy: TinyProxy;
  let ado: AdoServer;
  let registry: TestRegistry;
  let front: FaultProxy;
  let adoGate: GateRecord;
  let registryGate: GateRecord;
  let work: string;
  let app: string;
  let gitops: string;
  let digest: string;
  let appRepo: Repo;
  const runs: Array<[string, TaskRun]> = [];

  const proxyVariables = (bypass: string[] = []) => ({
    variables: { 'Agent.ProxyUrl': proxy.url, 'Agent.ProxyUsername': PROXY_USER, 'Agent.ProxyBypassList': JSON.stringify(bypass) },
    secretVariables: { 'Agent.ProxyPassword': PROXY_PASSWORD },
  });
  const task = async (name: string, options: TaskRunOptions) => {
    const run = await runTask(name, { accessToken: TOKEN, collectionUrl: ado.collectionUrl, traceChildren: ['git'], ...options });
    runs.push([name, run]);
    return run;
  };
  /** What a failed run said, without its debug lines. */
  const failure = (run: TaskRun) =>
    `exit ${run.code}: ${run.errors.join('\n')}\n${run.stdout.split('\n').filter((line) => !line.startsWith('##vso[task.debug]')).join('\n').slice(-2000)}\n${run.stderr}`;
  /** UpdateGitOpsVersions reading the registry (through its gated front) for the GitOps working copy. */
  const update = ({ dryRun = false, ...options }: Partial<TaskRunOptions> & { dryRun?: boolean }) =>
    task('UpdateGitOpsVersions', {
      inputs: { gitopsPath: gitops, environment: 'devtest', source: 'registry', registry: front.host, registryUsername: registry.username, registryPassword: registry.password, dryRun },
      cwd: gitops,
      ...options,
    });

  before(async function () {
    await requireTool(this, 'tinyproxy', ...REGISTRY_TOOLS);
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'proxy-test-'));
    proxy = await TinyProxy.start(PROXY_USER, PROXY_PASSWORD);
    registry = await TestRegistry.start();
    await registry.pushImage('heuristic', 'v1.4.2');
    digest = await registry.pushImage('heuristic', 'v1.4.3');
    // The tasks know the registry by its front's address only; the front is gated, the registry is not asked directly.
    front = await FaultProxy.start(registry.host);
    ado = await AdoServer.start(TOKEN);

    // The working copies are made before the gates close (the test itself is no proxy client).
    appRepo = await ado.createRepo('Edge', 'app', RUST_APP);
    const host = front.host;
    await ado.createRepo('Edge', 'gitops', {
      'versions.yaml': `schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: ${host}/heuristic\n      tag: v1.4.2\n`,
      'environments/devtest/kustomization.yaml': `resources:\n  - deploy.yaml\nimages:\n  - name: ${host}/heuristic\n    newTag: v1.4.2\n`,
      'environments/devtest/deploy.yaml': `kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: h\n          image: ${host}/heuristic:v1.4.2\n`,
    });
    app = path.join(work, 'app');
    gitops = path.join(work, 'gitops');
    for (const [name, dir] of [['app', app], ['gitops', gitops]]) {
      await new Git(work).run(['clone', '--quiet', ado.remoteUrl('Edge', name), dir], { env: remoteEnv({ token: TOKEN }).env });
    }
    adoGate = ado.acceptOnlyFrom(TinyProxy.outgoing);
    registryGate = front.acceptOnlyFrom(TinyProxy.outgoing);
  });
  after(async () => {
    await Promise.all([proxy?.stop(), ado?.stop(), front?.stop(), registry?.stop()]);
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('blocks the direct route: the servers reset a connection that does not come from the proxy, and a run without the proxy settings fails', async () => {
    await assert.rejects(fetch(`${ado.collectionUrl}_apis/projects`), 'Azure DevOps is not reached directly');
    assert.equal(adoGate.refused.length, 1);
    const refused = registryGate.refused.length;
    const run = await update({ dryRun: true });
    assert.equal(run.result, 'Failed', failure(run));
    assert.match(run.errors[0], new RegExp(`the registry ${front.host.replace(/\./g, '\\.')} could not be reached`));
    assert.ok(registryGate.refused.length > refused, 'the registry front refused the direct connections');
  });

  it('TagComponents pushes its tags through the proxy', async () => {
    const run = await task('TagComponents', { inputs: { componentsPath: 'services', push: true }, cwd: app, ...proxyVariables() });
    assert.equal(run.result, 'Succeeded', failure(run));
    const pushed = await new Git(appRepo.dir).text(['for-each-ref', '--format=%(refname:short)', 'refs/tags']);
    assert.deepEqual(pushed.split('\n').sort(), ['edge-http-connector/0.3.1', 'heuristic/1.4.2']);
    const requests = await proxy.requests();
    const origin = new URL(ado.collectionUrl).host;
    assert.ok(requests.some((r) => r.startsWith(`GET http://${origin}/`) && r.includes('/_git/app/info/refs?service=git-receive-pack')), requests.join('\n'));
    assert.ok(requests.some((r) => r.startsWith(`POST http://${origin}/`) && r.includes('/_git/app/git-receive-pack')), requests.join('\n'));
  });


  it('fails on a wrong proxy password, the registry client naming the agent settings, and never shows it', async () => {
    const wrong = { ...proxyVariables(), secretVariables: { 'Agent.ProxyPassword': WRONG_PASSWORD } };
    const read = await update({ ...wrong, dryRun: true });
    assert.equal(read.result, 'Failed', failure(read));
    // tinyproxy refuses a tunnel with 401 where proxies answer 407: both read as the proxy's refusal.
    assert.match(read.errors[0], new RegExp(`^Could not reach the registry ${front.host.replace(/\./g, '\\.')}: the proxy refused the agent's proxy credentials \\(HTTP 40[17]\\): check the proxy username and password the agent was configured with \\(Agent\\.ProxyUsername, Agent\\.ProxyPassword\\)`));
    const tag = await task('TagComponents', { inputs: { componentsPath: 'services', push: true, dryRun: true }, cwd: app, ...wrong });
    assert.equal(tag.result, 'Failed', failure(tag));
    // git asks in absolute form, which tinyproxy 1.11 refuses with a server's 401 (and WWW-Authenticate), so git
    // cannot tell it from the remote's refusal; a proxy's 407 is read as the proxy's refusal (test/integration/git-remote.test.ts).
    assert.match(tag.errors[0], /Could not read the tags of remote 'origin' .*\(HTTP 401\)/, failure(tag));
  });

  it('goes around the proxy for a URL a bypass pattern matches (and so meets the blocked direct route)', async () => {
    const before = (await proxy.requests()).length;
    const refused = registryGate.refused.length;
    const run = await update({ ...proxyVariables(['^http://127\\.0\\.0\\.1:']), dryRun: true });
    assert.equal(run.result, 'Failed', failure(run));
    assert.match(run.errors[0], /could not be reached/);
    assert.ok(registryGate.refused.length > refused, 'it went straight to the registry');
    assert.equal((await proxy.requests()).length, before, 'nothing went through the proxy');
  });

  it('UpdateGitOpsVersions reads the registry through the proxy (CONNECT tunnels)', async () => {
    const accepted = registryGate.accepted.length;
    const run = await update({ ...proxyVariables(['\\.corp\\.example']) });
    assert.equal(run.result, 'Succeeded', failure(run));
    assert.equal(run.outputs.changed, 'true');
    const lock = await fs.readFile(path.join(gitops, 'versions.yaml'), 'utf8');
    assert.match(lock, /tag: v1\.4\.3/);
    assert.ok(lock.includes(`digest: ${digest}`), lock);
    assert.ok((await proxy.requests()).includes(`CONNECT ${front.host} HTTP/1.1`), 'tinyproxy tunnelled to the registry');
    assert.ok(registryGate.accepted.length > accepted, 'the registry front was reached, from the proxy only');
  });

  it('CreateEnvPR pushes the branch and opens the pull request through the proxy', async () => {
    const changes = runs.find(([name, run]) => name === 'UpdateGitOpsVersions' && run.result === 'Succeeded')![1].outputs.changes;
    const run = await task('CreateEnvPR', { inputs: { gitopsPath: gitops, environment: 'devtest', changes }, cwd: gitops, variables: { ...proxyVariables().variables, 'System.TeamProject': 'Edge' }, secretVariables: proxyVariables().secretVariables });
    assert.equal(run.result, 'Succeeded', failure(run));
    assert.equal(run.outputs.created, 'true');
    const pulls = ado.pullRequests('gitops');
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0].sourceRefName, 'refs/heads/gitops/devtest');
    const requests = await proxy.requests();
    const origin = new URL(ado.collectionUrl).host;
    assert.ok(requests.includes(`CONNECT ${origin} HTTP/1.1`), 'the REST client tunnelled through the proxy');
    assert.ok(requests.some((r) => r.startsWith(`POST http://${origin}/`) && r.includes('/_git/gitops/git-receive-pack')), 'git pushed through the proxy');
  });

  it('reached the Azure DevOps stand-in only through the proxy, and left the proxy password nowhere', async () => {
    assert.ok(adoGate.accepted.length > 0);
    assert.equal(adoGate.refused.length, 1, "no task went around the proxy to Azure DevOps (the one refusal is the test's own probe)");
    assert.ok(runs.length >= 6);
    const scan = new SecretScan([{ value: PROXY_PASSWORD, usernames: [PROXY_USER] }, { value: WRONG_PASSWORD, usernames: [PROXY_USER] }]);
    for (const [name, run] of runs) scan.taskRun(name, run);
    await scan.tree('app working copy', app);
    await scan.tree('gitops working copy', gitops);
    scan.assertClean();
    assert.ok(runs.some(([, run]) => run.childArgv.length > 0), 'git children were traced');
  });
});
