import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { UserError } from '../../shared/errors';
import { updateGitOps } from '../../shared/flows/update-gitops';
import { REFRESH_TOKEN_USER, RegistryClient } from '../../shared/registry/client';
import { registryAccess } from '../../shared/registry/credentials';
import { REGISTRY_TOOLS, TestRegistry, TOKEN_REGISTRY_TOOLS } from '../../stand-ins/registry';
import { readOptions as gitopsOptions } from '../../tasks/UpdateGitOpsVersions/task';
import { CLIENT_SECRET, CONNECTIONS, jobContext, memoryEndpoints, startAzureAcr, type AzureAcr, type ConnectionKind } from '../helpers/azure-acr';
import { gitopsTree, snapshot } from '../helpers/gitops-tree';
import { memoryAgents, type MemoryAgent } from '../helpers/memory-agent';
import { requireTool } from '../helpers/requires';

/**
 * The Azure Resource Manager sign-in to a container registry (shared/azure through the one credential
 * resolver) against the Azure sign-in stand-in and a real registry in token-auth mode: every scheme signs in
 * and reads the registry with scoped tokens; every refusal is a UserError that names the step, the
 * connection and the fix, raised before the task does anything else.
 */
describe('Azure Resource Manager connections: ACR sign-in against docker-registry in token-auth mode', function () {
  this.timeout(60_000);
  const agent = memoryAgents();
  let acr: AzureAcr;
  let host: string;
  const digests: Record<string, string> = {};

  before(async function () {
    await requireTool(this, ...TOKEN_REGISTRY_TOOLS);
    acr = await startAzureAcr();
    host = acr.registry.host;
    for (const tag of ['v1.4.1', 'v1.4.2', 'v1.5.0']) digests[`heuristic:${tag}`] = await acr.registry.pushImage('heuristic', tag);
    for (const tag of ['v2.0.0', 'v2.0.1']) digests[`collector:${tag}`] = await acr.registry.pushImage('collector', tag);
  });
  after(async () => acr?.stop());
  afterEach(() => {
    acr.standIn.setup.lifetimes = { oidc: 600, entra: 3600, refresh: 10800, access: 3600 };
  });

  /** A job whose task has azureSubscription set to the connection of `kind`. */
  function job(kind: ConnectionKind, inputs: Record<string, string> = {}): MemoryAgent {
    return agent({ inputs: { azureSubscription: CONNECTIONS[kind], registry: host, ...inputs }, endpoints: memoryEndpoints(acr.standIn), ...jobContext(acr.standIn) });
  }
  const login = { imdsUrl: '' };
  before(() => (login.imdsUrl = acr.standIn.imdsUrl));

  /** The sign-in fails with a UserError whose message matches every pattern; nothing reached the registry's token service. */
  async function refused(a: MemoryAgent, patterns: RegExp[], options = login): Promise<void> {
    const tokenRequests = acr.standIn.requests.filter((r) => r.path === '/oauth2/token').length;
    let message = '';
    await assert.rejects(registryAccess(a, options), (error: Error) => {
      message = error.message;
      return error instanceof UserError;
    });
    for (const pattern of patterns) assert.match(message, pattern);
    assert.equal(acr.standIn.requests.filter((r) => r.path === '/oauth2/token').length, tokenRequests, 'no registry token was asked for');
  }

  for (const kind of ['wif', 'secret', 'managed'] as const) {
    it(`signs in with ${kind === 'wif' ? 'workload identity federation' : kind === 'secret' ? 'a service principal secret' : 'a managed identity'}, masks every token, and reads the registry with scoped tokens`, async () => {
      const issuedBefore = acr.standIn.issued.length;
      const requestsBefore = acr.standIn.requests.length;
      const a = job(kind);
      const { registry, credentials } = await registryAccess(a, login);
      assert.equal(registry, host);
      assert.equal(credentials.username, REFRESH_TOKEN_USER);
      assert.match(credentials.password!, /^ey[\w-]+\.[\w-]+\.[\w-]+$/, 'an ACR refresh token');
      // The OIDC token (workload identity federation), the Entra token and the refresh token: each masked as it arrived.
      const issued = acr.standIn.issued.slice(issuedBefore);
      assert.equal(issued.length, kind === 'wif' ? 3 : 2);
      for (const token of issued) assert.ok(a.secrets.includes(token), 'masked');
      if (kind === 'secret') assert.ok(a.secrets.includes(CLIENT_SECRET));
      assert.deepEqual(a.lines, [`Signed in to ${host} with the Azure connection '${CONNECTIONS[kind]}' (${{ wif: 'WorkloadIdentityFederation', secret: 'ServicePrincipal', managed: 'ManagedServiceIdentity' }[kind]}).`]);
      assert.doesNotMatch(a.shown(), new RegExp([...issued, CLIENT_SECRET].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')));

      const client = new RegistryClient(registry, credentials);
      assert.deepEqual((await client.listTags('heuristic')).sort(), ['v1.4.1', 'v1.4.2', 'v1.5.0']);
      assert.equal(await client.digest('heuristic', 'v1.5.0'), digests['heuristic:v1.5.0']);
      await client.checkPush('heuristic');
      const tokenRequests = acr.standIn.requests.slice(requestsBefore).filter((r) => r.path === '/oauth2/token');
      assert.deepEqual(
        // The registry's challenge lists a scope's actions in no fixed order.
        tokenRequests.map((r) => [r.method, r.grant, r.scope?.replace(/:([\w,]+)$/, (_, actions: string) => `:${actions.split(',').sort().join(',')}`)]),
        [
          ['POST', 'refresh_token', 'repository:heuristic:pull'],
          ['POST', 'refresh_token', 'repository:heuristic:pull,push'],
        ],
        'scoped tokens by the refresh-token grant, pull for reading, pull,push to check pushing',
      );
    });
  }

  it('asks Azure DevOps for the OIDC token of the connection with the job token, and Entra with it as a client assertion', async () => {
    const before = acr.standIn.requests.length;
    await registryAccess(job('wif'), login);
    const [oidc, entra, exchange] = acr.standIn.requests.slice(before);
    assert.match(oidc.path, /^\/edge\/Edge\/_apis\/distributedtask\/hubs\/build\/plans\/[\w-]+\/jobs\/[\w-]+\/oidctoken$/);
    assert.equal(oidc.method, 'POST');
    assert.equal(entra.path, `/${acr.standIn.setup.tenantId}/oauth2/v2.0/token`);
    assert.equal(exchange.path, '/oauth2/exchange');
    assert.deepEqual([oidc.status, entra.status, exchange.status], [200, 200, 200]);
  });

  describe('refusals: a UserError naming the step, the connection and the fix, before the registry is used', () => {
    it('a federated token the application does not trust (AADSTS70021)', async () => {
      await refused(job('mismatched'), [
        /^Signing in to Microsoft Entra ID \(127\.0\.0\.1:\d+\) as the service principal 66666666-[\w-]+ of the Azure connection 'a1b2c3d4-[\w-]+f6' failed \(400\): AADSTS70021: No matching federated identity record found for presented assertion\./,
        /Assertion Subject: 'sc:\/\/edge\/Edge\/edge-acr-mismatched'/,
        /its issuer and subject \(sc:\/\/<organization>\/<project>\/<connection>\) must be exactly those shown on the connection/,
      ]);
    });

    it('an expired federated token (AADSTS700024)', async () => {
      acr.standIn.setup.lifetimes.oidc = -3600;
      await refused(job('wif'), [/failed \(400\): AADSTS700024: Client assertion is not within its valid time range; the federated token was not valid at the time it reached Entra/]);
    });

    it('a wrong service principal secret (AADSTS7000215)', async () => {
      const a = agent({
        inputs: { azureSubscription: CONNECTIONS.secret, registry: host },
        endpoints: { [CONNECTIONS.secret]: { ...memoryEndpoints(acr.standIn)[CONNECTIONS.secret], password: 'not-the-secret' } },
      });
      await refused(a, [/failed \(401\): AADSTS7000215: Invalid client secret provided\..*; the service principal's secret is wrong or has expired: create a new secret/]);
    });

    it('a job token Azure DevOps refuses', async () => {
      const a = agent({ inputs: { azureSubscription: CONNECTIONS.wif, registry: host }, endpoints: memoryEndpoints(acr.standIn), ...jobContext(acr.standIn), accessToken: 'not-the-job-token' });
      await refused(a, [/^Asking Azure DevOps for the job's OIDC token for the Azure connection 'a1b2c3d4-[\w-]+f1' failed \(401: TF400813.*\): the job's access token was refused: authorize this pipeline/]);
    });

    it('a job without System.OidcRequestUri', async () => {
      const a = agent({ inputs: { azureSubscription: CONNECTIONS.wif, registry: host }, endpoints: memoryEndpoints(acr.standIn), accessToken: acr.standIn.setup.jobToken });
      await refused(a, [/the job has no System\.OidcRequestUri\. Workload identity federation needs Azure DevOps Services/]);
    });

    it('an identity without a role on the registry (the exchange is refused, 403)', async () => {
      await refused(job('noRole'), [
        /^Exchanging the Entra token of the service principal 55555555-[\w-]+ for a token of the registry 127\.0\.0\.1:\d+ \(127\.0\.0\.1:\d+\/oauth2\/exchange\) failed \(403: DENIED: requested access to the resource is denied\): give the service principal 55555555-[\w-]+ \(Azure connection 'a1b2c3d4-[\w-]+f5'\) the AcrPush role on the registry/,
      ]);
    });

    it('no Instance Metadata Service (an agent that is not an Azure VM)', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      await refused(
        job('managed'),
        [
          new RegExp(
            `^Asking the Azure Instance Metadata Service \\(127\\.0\\.0\\.1:${port}\\) for a token of the agent machine's managed identity \\(Azure connection 'a1b2c3d4-[\\w-]+f3'\\) ` +
              `failed: http://127\\.0\\.0\\.1:${port} could not be reached: .*ECONNREFUSED 127\\.0\\.0\\.1:${port}\\. A managed identity connection works only on a self-hosted agent running on an Azure VM`,
          ),
        ],
        { imdsUrl: `http://127.0.0.1:${port}` },
      );
    });

    it('a VM without a managed identity', async () => {
      const identity = acr.standIn.setup.managedIdentity;
      acr.standIn.setup.managedIdentity = undefined;
      try {
        await refused(job('managed'), [/failed \(400: Identity not found\): assign a managed identity to the agent's VM/]);
      } finally {
        acr.standIn.setup.managedIdentity = identity;
      }
    });

    it('a registry that is not an Azure Container Registry (Basic sign-in)', async function () {
      await requireTool(this, ...REGISTRY_TOOLS);
      const basic = await TestRegistry.start();
      try {
        await refused(job('wif', { registry: basic.host }), [
          /^The registry 127\.0\.0\.1:\d+ does not offer token sign-in \(it answered 401 with a basic challenge\), so it is not an Azure Container Registry: leave azureSubscription empty/,
        ]);
      } finally {
        await basic.stop();
      }
    });
  });

  describe('refusals by the registry once signed in', () => {
    it('a pull-only identity is refused push access (insufficient_scope), naming the role to give', async () => {
      const { credentials } = await registryAccess(job('pullOnly'), login);
      const client = new RegistryClient(host, credentials);
      assert.deepEqual((await client.listTags('collector')).sort(), ['v2.0.0', 'v2.0.1'], 'AcrPull reads');
      await assert.rejects(
        client.checkPush('heuristic'),
        /The registry 127\.0\.0\.1:\d+ refused the credentials \(401, insufficient_scope\) while checking push access to heuristic: give the service principal 44444444-[\w-]+ \(Azure connection 'a1b2c3d4-[\w-]+f4'\) the AcrPush role/,
      );
    });

    it('an expired refresh token is refused by the token service, which says so', async () => {
      acr.standIn.setup.lifetimes.refresh = -3600;
      const { credentials } = await registryAccess(job('wif'), login);
      await assert.rejects(
        new RegistryClient(host, credentials).ping(),
        /The registry 127\.0\.0\.1:\d+ refused the credentials \(401: UNAUTHORIZED: the refresh token is expired\) when its token service \(127\.0\.0\.1:\d+\) was asked for a sign-in token: the registry refresh token expired or was revoked: run the job again\./,
      );
    });
  });

  describe('UpdateGitOpsVersions source: registry, through the task\'s readOptions', () => {
    let dir: string;
    afterEach(async () => dir && fs.rm(dir, { recursive: true, force: true }));

    for (const kind of ['wif', 'secret', 'managed'] as const) {
      it(`takes the newest tag and its digest with a ${kind === 'wif' ? 'workload identity federation' : kind === 'secret' ? 'service principal' : 'managed identity'} connection`, async () => {
        dir = await gitopsTree(host);
        const a = job(kind, { gitopsPath: dir, environment: 'devtest', source: 'registry', maxBump: 'minor' });
        const result = await updateGitOps(await gitopsOptions(a, login), a);
        assert.deepEqual(
          result.changes.map((c) => [c.component, c.to]),
          [
            ['collector', `${host}/collector:v2.0.1@${digests['collector:v2.0.1']}`],
            ['heuristic', `${host}/heuristic:v1.5.0@${digests['heuristic:v1.5.0']}`],
          ],
        );
        assert.match(await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8'), new RegExp(`tag: v1\\.5\\.0\\n\\s+digest: ${digests['heuristic:v1.5.0']}`));
      });
    }

    it('stops before reading the lock when the sign-in is refused, and writes nothing', async () => {
      dir = await gitopsTree(host);
      const before = await snapshot(dir);
      await assert.rejects(gitopsOptions(job('noRole', { gitopsPath: dir, environment: 'devtest', source: 'registry' }), login), /403: DENIED.*AcrPush role/);
      assert.deepEqual(await snapshot(dir), before);
    });
  });
});
