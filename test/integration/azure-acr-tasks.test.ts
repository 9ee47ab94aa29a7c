import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REFRESH_TOKEN_USER, RegistryClient } from '../../shared/registry/client';
import { registryAccess } from '../../shared/registry/credentials';
import { TOKEN_REGISTRY_TOOLS } from '../../stand-ins/registry';
import { CLIENT_SECRET, CONNECTIONS, jobContext, memoryEndpoints, startAzureAcr, taskEndpoint, type AzureAcr, type ConnectionKind } from '../helpers/azure-acr';
import { builderEnvironment, workspaceRepo } from '../helpers/containers';
import { gitopsTree, snapshot } from '../helpers/gitops-tree';
import { MemoryAgent } from '../helpers/memory-agent';
import { requireTool } from '../helpers/requires';
import { runTask, type TaskRun } from '../helpers/run-task';
import { SecretScan } from '../helpers/secrets';

const explain = (run: TaskRun) => `${run.message}\n${run.errors.join('\n')}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`;

/**
 * The bundled tasks as the agent runs them, with an azureSubscription connection (workload identity
 * federation) against docker-registry in token-auth mode and the Azure sign-in stand-in: BuildRustContainers
 * builds and pushes with buildah, UpdateGitOpsVersions reads the newest tags; refused sign-ins and scopes stop
 * BuildRustContainers before anything is built; no token or secret reaches a log, an argv or a file.
 */
describe('Azure connections in the bundled tasks, against a token-auth registry', function () {
  this.timeout(900_000);
  let acr: AzureAcr;
  let host: string;
  let scratch: string;
  let workspace: string;
  let containerEnv: Record<string, string>;
  let reader: RegistryClient;

  before(async function () {
    await requireTool(this, ...TOKEN_REGISTRY_TOOLS);
    acr = await startAzureAcr();
    host = acr.registry.host;
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'azure-acr-'));
    workspace = await workspaceRepo();
    containerEnv = await builderEnvironment(path.join(scratch, 'storage'));
    const signIn = new MemoryAgent({ inputs: { azureSubscription: CONNECTIONS.wif, registry: host }, endpoints: memoryEndpoints(acr.standIn), ...jobContext(acr.standIn) });
    reader = new RegistryClient(host, (await registryAccess(signIn)).credentials);
  });
  after(async () => {
    await acr?.stop();
    if (workspace) await fs.rm(workspace, { recursive: true, force: true });
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });
  afterEach(() => {
    acr.standIn.setup.lifetimes.oidc = 600;
  });

  /** After a run: every token the stand-in issued (OIDC, Entra, refresh, registry access tokens), in every form, nowhere. */
  async function assertNoSecrets(label: string, run: TaskRun, ...dirs: string[]) {
    const scan = new SecretScan([
      { value: acr.standIn.setup.jobToken },
      { value: CLIENT_SECRET },
      ...acr.standIn.issued.map((value) => ({ value, usernames: [REFRESH_TOKEN_USER] })),
    ]);
    scan.taskRun(label, run);
    for (const dir of dirs) await scan.tree(`${label}: ${dir}`, dir);
    scan.assertClean();
  }

  async function task(name: 'BuildRustContainers' | 'UpdateGitOpsVersions' | 'ValidateGitOps', kind: ConnectionKind, inputs: Record<string, string | boolean>, cwd: string) {
    const agentTemp = await fs.mkdtemp(path.join(scratch, 'agent-'));
    const { variables, accessToken } = jobContext(acr.standIn);
    const run = await runTask(name, {
      inputs: { azureSubscription: CONNECTIONS[kind], registry: host, ...inputs },
      variables: { ...variables, 'Agent.TempDirectory': agentTemp, 'Build.SourceVersion': 'f'.repeat(40) },
      accessToken,
      endpoints: { [CONNECTIONS[kind]]: taskEndpoint(acr.standIn, kind) },
      env: containerEnv,
      cwd,
      traceChildren: ['buildah'],
    });
    return { run, agentTemp };
  }

  const build = (kind: ConnectionKind, prefix: string, inputs: Record<string, string | boolean> = {}) =>
    task('BuildRustContainers', kind, { componentsPath: workspace, builder: 'buildah', repositoryPrefix: `${prefix}/`, components: 'heuristic', manifestPath: path.join(scratch, `${prefix}-images.json`), ...inputs }, workspace);

  it('BuildRustContainers builds and pushes with workload identity federation; buildah signs in with the refresh token', async function () {
    await requireTool(this, 'buildah');
    const requestsBefore = acr.standIn.requests.length;
    const { run, agentTemp } = await build('wif', 'wif');
    assert.equal(run.result, 'Succeeded', explain(run));
    assert.equal(run.outputs.built, '1');
    const [image] = JSON.parse(run.outputs.images) as Array<{ image: string; tags: string[]; digest: string; status: string }>;
    assert.equal(image.status, 'pushed');
    assert.equal(image.image, `${host}/wif/heuristic`);
    assert.equal(image.digest, await reader.digest('wif/heuristic', image.tags[0]), 'the registry digest');
    assert.ok(run.childArgv.some((argv) => argv[0] === 'buildah' && argv.includes('push')), 'buildah pushed');
    const tokenRequests = acr.standIn.requests.slice(requestsBefore).filter((r) => r.path === '/oauth2/token');
    assert.ok(tokenRequests.some((r) => r.grant === 'refresh_token'), 'the task asked with the refresh-token grant');
    assert.ok(
      tokenRequests.some((r) => r.method === 'GET' && r.grant === 'basic' && /^repository:wif\/heuristic:(pull,push|push,pull)$/.test(r.scope ?? '') && r.status === 200),
      'buildah asked with Basic 00000000-…:<refresh token> for pull,push',
    );
    assert.match(run.stdout, new RegExp(`Signed in to ${host} with the Azure connection '${CONNECTIONS.wif}' \\(WorkloadIdentityFederation\\)`));
    await assertNoSecrets('build', run, agentTemp, workspace);
  });

  const refusals: Array<[string, ConnectionKind, () => void, RegExp]> = [
    ['a federated token the application does not trust', 'mismatched', () => undefined, /AADSTS70021: No matching federated identity record found/],
    ['an expired federated token', 'wif', () => (acr.standIn.setup.lifetimes.oidc = -3600), /AADSTS700024: Client assertion is not within its valid time range/],
    ['an identity the registry refuses push access (AcrPull only)', 'pullOnly', () => undefined, /refused the credentials \(401, insufficient_scope\) while checking push access to refused\/heuristic: give the service principal 44444444-[\w-]+ \(Azure connection '[\w-]+'\) the AcrPush role/],
  ];
  for (const [what, kind, arrange, message] of refusals) {
    it(`BuildRustContainers stops before building on ${what}`, async () => {
      arrange();
      const { run, agentTemp } = await build(kind, 'refused');
      assert.equal(run.result, 'Failed', explain(run));
      assert.equal(run.errors.length, 1, run.errors.join('\n'));
      assert.match(run.errors[0], message);
      assert.deepEqual(run.childArgv.filter((argv) => argv.includes('build') || argv.includes('push')), [], 'no builder ran');
      await assert.rejects(fs.access(path.join(scratch, 'refused-images.json')), 'no images.json');
      assert.deepEqual(await reader.listTags('refused/heuristic'), []);
      await assertNoSecrets(what, run, agentTemp);
    });
  }

  it('UpdateGitOpsVersions takes the newest registry tags with workload identity federation', async () => {
    const digest = await acr.registry.pushImage('heuristic', 'v1.5.0');
    await acr.registry.pushImage('collector', 'v2.0.1');
    const dir = await gitopsTree(host);
    try {
      const { run, agentTemp } = await task('UpdateGitOpsVersions', 'wif', { gitopsPath: dir, environment: 'devtest', source: 'registry', components: 'heuristic', maxBump: 'minor' }, dir);
      assert.equal(run.result, 'Succeeded', explain(run));
      assert.deepEqual(
        JSON.parse(run.outputs.changes).map((c: { component: string; to: string }) => [c.component, c.to]),
        [['heuristic', `${host}/heuristic:v1.5.0@${digest}`]],
      );
      await assertNoSecrets('update', run, agentTemp, dir);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  describe('without the registry input: the registry the images name', () => {
    it('UpdateGitOpsVersions signs in to the registry of the lock\'s images', async () => {
      const digest = await acr.registry.pushImage('heuristic', 'v1.6.0');
      const dir = await gitopsTree(host);
      try {
        const { run, agentTemp } = await task('UpdateGitOpsVersions', 'wif', { registry: '', gitopsPath: dir, environment: 'devtest', source: 'registry', components: 'heuristic', maxBump: 'minor' }, dir);
        assert.equal(run.result, 'Succeeded', explain(run));
        assert.match(run.stdout, new RegExp(`Signed in to ${host} with the Azure connection '${CONNECTIONS.wif}'`));
        assert.deepEqual(
          JSON.parse(run.outputs.changes).map((c: { component: string; to: string }) => [c.component, c.to]),
          [['heuristic', `${host}/heuristic:v1.6.0@${digest}`]],
        );
        await assertNoSecrets('update without registry', run, agentTemp, dir);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });

    it('ValidateGitOps (checkRegistry) signs in the same way and finds what the registry lacks', async () => {
      await acr.registry.pushImage('heuristic', 'v1.4.1');
      await acr.registry.pushImage('heuristic', 'v1.3.0');
      const dir = await gitopsTree(host);
      try {
        const { run, agentTemp } = await task('ValidateGitOps', 'wif', { registry: '', gitopsPath: dir, checkRegistry: true, render: 'never' }, dir);
        assert.match(run.stdout, new RegExp(`Signed in to ${host} with the Azure connection '${CONNECTIONS.wif}'`), explain(run));
        const missing = (JSON.parse(run.outputs.findings) as Array<{ environment: string; component: string; rule: string }>).filter((f) => f.rule === 'not-in-registry');
        assert.deepEqual(missing.map((f) => `${f.environment}/${f.component}`).sort(), ['devtest/collector', 'qa/collector'], 'collector:v2.0.0 was never pushed; both heuristic tags were');
        await assertNoSecrets('validate without registry', run, agentTemp, dir);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });

    it('refuses images on several registries, none or two of them an ACR, naming them, before any sign-in or write', async () => {
      const dir = await gitopsTree(host);
      try {
        const lock = path.join(dir, 'versions.yaml');
        await fs.writeFile(lock, (await fs.readFile(lock, 'utf8')).replace(`${host}/collector`, 'ghcr.io/edge/collector'));
        const before = await snapshot(dir);
        const requestsBefore = acr.standIn.requests.length;
        const { run } = await task('UpdateGitOpsVersions', 'wif', { registry: '', gitopsPath: dir, environment: 'devtest', source: 'registry' }, dir);
        assert.equal(run.result, 'Failed', explain(run));
        assert.deepEqual(run.errors, [
          `azureSubscription is given without registry, and the images name ${[host, 'ghcr.io'].sort().join(', ')}: set registry to the login server of the Azure Container Registry the connection is for, e.g. myacr.azurecr.io.`,
        ]);
        assert.equal(acr.standIn.requests.length, requestsBefore, 'no sign-in');
        assert.deepEqual(await snapshot(dir), before, 'nothing written');
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  });
});
