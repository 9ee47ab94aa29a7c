import * as assert from 'node:assert/strict';
import type { Agent } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import { registryAccess } from '../../shared/registry/credentials';
import { readOptions as buildOptions } from '../../tasks/BuildRustContainers/task';
import { readOptions as gitopsOptions } from '../../tasks/UpdateGitOpsVersions/task';
import { memoryAgents, type MemoryAgentSetup } from '../helpers/memory-agent';

const PASSWORD = 'connection-Pa55word';
const INPUT_PASSWORD = 'input-Pa55word';

/** A Docker registry service connection as the agent hands it over. */
const DOCKER = { url: 'https://edge.azurecr.io/', username: 'edge-pull', password: PASSWORD, data: { registry: 'https://edge.azurecr.io/' } };

describe('Registry credentials: one resolver for containerRegistry, azureSubscription, registry, registryUsername and registryPassword', () => {
  const agent = memoryAgents();

  it('takes registry and credentials from a Docker registry service connection, masking the password', async () => {
    const a = agent({ inputs: { containerRegistry: 'acr' }, endpoints: { acr: DOCKER } });
    assert.deepEqual(await registryAccess(a), { registry: 'https://edge.azurecr.io/', credentials: { username: 'edge-pull', password: PASSWORD } });
    assert.deepEqual(a.secrets, [PASSWORD]);
    assert.deepEqual(a.warnings, []);
  });

  it("names the registry from the connection's loginServer, then registry, then URL; the registry input overrides all", async () => {
    const cases: Array<[MemoryAgentSetup['endpoints'], Record<string, string>, string]> = [
      [{ c: { ...DOCKER, data: { loginServer: 'login.azurecr.io', registry: 'https://data.example' } } }, {}, 'login.azurecr.io'],
      [{ c: { ...DOCKER, data: { registry: 'https://data.example' } } }, {}, 'https://data.example'],
      [{ c: { ...DOCKER, data: {} } }, {}, 'https://edge.azurecr.io/'],
      [{ c: { ...DOCKER, data: { loginServer: 'login.azurecr.io' } } }, { registry: 'ghcr.io/edge' }, 'ghcr.io/edge'],
    ];
    for (const [endpoints, inputs, registry] of cases) {
      assert.equal((await registryAccess(agent({ inputs: { containerRegistry: 'c', ...inputs }, endpoints }))).registry, registry);
    }
  });

  it('lets the connection win over registryUsername and registryPassword, and warns that they are ignored', async () => {
    const a = agent({ inputs: { containerRegistry: 'acr', registryUsername: 'someone', registryPassword: INPUT_PASSWORD }, endpoints: { acr: DOCKER } });
    assert.deepEqual((await registryAccess(a)).credentials, { username: 'edge-pull', password: PASSWORD });
    assert.deepEqual(a.warnings.map((w) => w.message), ['registryUsername and registryPassword ignored: the containerRegistry service connection supplies the credentials.']);
    // The ignored password is masked all the same.
    assert.ok(a.secrets.includes(INPUT_PASSWORD));
    assert.doesNotMatch(a.shown(), new RegExp(`${PASSWORD}|${INPUT_PASSWORD}`));
  });

  it('without a connection takes registry, registryUsername and registryPassword (masked); none of them is needed', async () => {
    const a = agent({ inputs: { registry: 'localhost:5000', registryUsername: 'ci', registryPassword: INPUT_PASSWORD } });
    assert.deepEqual(await registryAccess(a), { registry: 'localhost:5000', credentials: { username: 'ci', password: INPUT_PASSWORD } });
    assert.deepEqual(a.secrets, [INPUT_PASSWORD]);
    assert.deepEqual(await registryAccess(agent({})), { registry: '', credentials: { username: undefined, password: undefined } });
  });

  it('refuses a connection that is missing or not authorized with the same words in both tasks', async () => {
    const expected = new UserError(
      "The service connection 'edge-acr' (input 'containerRegistry') was not found, or this pipeline is not authorized to use it: " +
        'check the name, and authorize the pipeline in Project settings > Service connections > Security.',
    );
    const setup = { inputs: { containerRegistry: 'edge-acr', registry: 'localhost:5000', gitopsPath: '/gitops', environment: 'devtest' }, endpoints: { other: DOCKER } };
    const readers: Array<(a: Agent) => Promise<unknown>> = [registryAccess, buildOptions, gitopsOptions];
    for (const read of readers) await assert.rejects(read(agent(setup)), expected);
  });

  describe('azureSubscription (an Azure Resource Manager connection), between containerRegistry and registryUsername/registryPassword', () => {
    /** A workload identity federation connection as the agent hands it over. */
    const ARM = { url: 'https://management.azure.com/', scheme: 'WorkloadIdentityFederation', parameters: { tenantid: 'tenant-1', serviceprincipalid: 'app-1' }, data: {} };
    /** No request may leave before these checks. */
    const offline = { fetch: async () => assert.fail('no request expected') };
    /** Azure DevOps refuses the job token: the sign-in stops at its first request. */
    const refusing = { fetch: async () => new Response('{"message":"TF400813: not authorized"}', { status: 401 }) };
    const job = { variables: { 'System.OidcRequestUri': 'https://dev.azure.com/edge/Edge/_apis/oidctoken' }, accessToken: 'job-token' };

    it('lets containerRegistry win, warning that azureSubscription is ignored', async () => {
      const a = agent({ inputs: { containerRegistry: 'acr', azureSubscription: 'arm' }, endpoints: { acr: DOCKER, arm: ARM } });
      assert.deepEqual((await registryAccess(a, offline)).credentials, { username: 'edge-pull', password: PASSWORD });
      assert.deepEqual(a.warnings.map((w) => w.message), ['azureSubscription ignored: the containerRegistry service connection supplies the credentials.']);
    });

    it('wins over registryUsername and registryPassword, warning that they are ignored (the password masked all the same)', async () => {
      const a = agent({ inputs: { azureSubscription: 'arm', registry: 'edge.azurecr.io', registryUsername: 'ci', registryPassword: INPUT_PASSWORD }, endpoints: { arm: ARM }, ...job });
      await assert.rejects(registryAccess(a, refusing), /^UserError: Asking Azure DevOps for the job's OIDC token for the Azure connection 'arm' failed \(401: TF400813: not authorized\)/);
      assert.deepEqual(a.warnings.map((w) => w.message), ['registryUsername and registryPassword ignored: the azureSubscription service connection supplies the credentials.']);
      assert.ok(a.secrets.includes(INPUT_PASSWORD));
    });

    const refusals: Array<[string, MemoryAgentSetup, RegExp]> = [
      ['a connection not found', { inputs: { azureSubscription: 'gone', registry: 'edge.azurecr.io' } }, /^The service connection 'gone' \(input 'azureSubscription'\) was not found, or this pipeline is not authorized to use it/],
      [
        'a certificate',
        { inputs: { azureSubscription: 'arm', registry: 'edge.azurecr.io' }, endpoints: { arm: { ...ARM, scheme: 'ServicePrincipal', parameters: { ...ARM.parameters, authenticationtype: 'spnCertificate' } } } },
        /^The Azure connection 'arm' \(input 'azureSubscription'\) signs in with a certificate, which this task does not support: convert the connection to workload identity federation/,
      ],
      [
        'a publish profile',
        { inputs: { azureSubscription: 'arm', registry: 'edge.azurecr.io' }, endpoints: { arm: { ...ARM, scheme: 'PublishProfile' } } },
        /uses the 'PublishProfile' scheme, which cannot sign in to a container registry: use a connection with workload identity federation/,
      ],
      [
        'a service principal without its secret',
        { inputs: { azureSubscription: 'arm', registry: 'edge.azurecr.io' }, endpoints: { arm: { ...ARM, scheme: undefined } } },
        /^The Azure connection 'arm' \(input 'azureSubscription'\) has no service principal secret: edit the service connection/,
      ],
      [
        'no tenant',
        { inputs: { azureSubscription: 'arm', registry: 'edge.azurecr.io' }, endpoints: { arm: { ...ARM, parameters: { serviceprincipalid: 'app-1' } } } },
        /has no tenant id: edit the service connection and verify it\.$/,
      ],
    ];
    for (const [what, setup, message] of refusals) {
      it(`refuses ${what} before any request, in both tasks, with or without registry`, async () => {
        const withTask = { ...setup, inputs: { ...setup.inputs, gitopsPath: '/gitops', environment: 'devtest' } };
        const withoutRegistry = { ...withTask, inputs: { ...withTask.inputs, registry: '' } };
        const refused = (error: Error) => error instanceof UserError && message.test(error.message);
        for (const read of [(a: Agent) => registryAccess(a, offline), (a: Agent) => buildOptions(a, offline), (a: Agent) => gitopsOptions(a, offline)]) {
          await assert.rejects(read(agent(withTask)), refused);
          await assert.rejects(read(agent(withoutRegistry)), refused);
        }
      });
    }

    it('without registry, signs in later, to the registry the images name; BuildRustContainers, which names the images, needs it', async () => {
      const setup = { inputs: { azureSubscription: 'arm', gitopsPath: '/gitops', environment: 'devtest' }, endpoints: { arm: ARM }, ...job };
      const access = await registryAccess(agent(setup), offline);
      assert.deepEqual([access.registry, access.credentials, typeof access.signIn], ['', {}, 'function']);
      const options = await gitopsOptions(agent(setup), offline);
      assert.deepEqual([options.registry, options.credentials, typeof options.signIn], ['', {}, 'function']);
      await assert.rejects(buildOptions(agent(setup), offline), /^UserError: No registry is given: set containerRegistry \(a Docker registry service connection\), or registry \(with azureSubscription: the login server/);
      await assert.rejects(access.signIn!('edge.azurecr.io'), /job's OIDC token/, 'the sign-in, when asked, goes out (here: refused offline)');
    });
  });

  it('gives both tasks the same credentials from the same inputs', async () => {
    const setup = { inputs: { containerRegistry: 'acr', gitopsPath: '/gitops', environment: 'devtest' }, endpoints: { acr: DOCKER } };
    const build = await buildOptions(agent(setup));
    const gitops = await gitopsOptions(agent(setup));
    assert.deepEqual(build.credentials, { username: 'edge-pull', password: PASSWORD });
    assert.deepEqual(gitops.credentials, build.credentials);
    // Each flow takes the registry in its own form: BuildRustContainers keeps a namespace, UpdateGitOpsVersions wants the host.
    assert.equal(build.registry, 'https://edge.azurecr.io/');
    assert.equal(gitops.registry, 'edge.azurecr.io');
  });
});
