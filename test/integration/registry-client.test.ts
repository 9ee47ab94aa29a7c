import * as assert from 'node:assert/strict';
import { RegistryClient } from '../../shared/registry/client';
import { UserError } from '../../shared/errors';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';

describe('RegistryClient against a real registry (docker-registry, htpasswd)', function () {
  let registry: TestRegistry;

  before(async function () {
    await requireTool(this, ...REGISTRY_TOOLS);
    registry = await TestRegistry.start();
  });
  after(async () => registry?.stop());

  it('lists every tag across pages and reads the registry digest', async () => {
    const pushed: Record<string, string> = {};
    for (const tag of ['v1.0.0', 'v1.1.0', 'v1.2.0', 'rc9', 'rc10']) pushed[tag] = await registry.pushImage('edge/heuristic', tag);
    const client = new RegistryClient(registry.host, { username: registry.username, password: registry.password });
    const tags = await client.listTags('edge/heuristic', 2);
    assert.deepEqual([...tags].sort(), Object.keys(pushed).sort());
    assert.equal(await client.digest('edge/heuristic', 'v1.1.0'), pushed['v1.1.0']);
    assert.equal(await client.digest('edge/heuristic', 'v9.9.9'), undefined);
    assert.deepEqual(await client.listTags('edge/absent'), []);
  });

  it('checks push access by starting a blob upload and cancelling it, pushing nothing', async () => {
    const seen: string[] = [];
    const client = new RegistryClient(registry.host, { username: registry.username, password: registry.password }, async (input, init) => {
      const response = await fetch(input, init);
      seen.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname.replace(/[0-9a-f-]{36}$/, '<uuid>')} ${response.status}`);
      return response;
    });
    await client.ping();
    await client.checkPush('edge/new-service');
    assert.deepEqual(seen, ['GET /v2/ 401', 'GET /v2/ 200', 'POST /v2/edge/new-service/blobs/uploads/ 202', 'DELETE /v2/edge/new-service/blobs/uploads/<uuid> 204']);
    assert.deepEqual(await client.listTags('edge/new-service'), []);
  });

  it('names the registry when the credentials are refused', async () => {
    const client = new RegistryClient(registry.host, { username: registry.username, password: 'wrong' });
    await assert.rejects(client.ping(), (error: Error) => error instanceof UserError && /refused the credentials/.test(error.message));
  });
});
