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

describe('Registry credentials: one resolver for containerRegistry, registry, registryUsername and registryPassword', () => {
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
