import { strict as assert } from 'node:assert';
import type { Log } from '../../../shared/agent';
import { fromRegistry, mapLimit, type RegistryLike } from '../../../shared/gitops/sources';

describe('GitOps sources helpers', () => {
  it('runs at most `limit` tasks at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapLimit([...Array(30).keys()], 8, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, (n * 7) % 5));
      running--;
      return n * 2;
    });
    assert.deepEqual(results, [...Array(30).keys()].map((n) => n * 2));
    assert.equal(peak, 8);
  });
});

describe('registry resolution reports its progress', () => {
  const registry: RegistryLike = {
    listTags: async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return ['v1.0.0', 'v1.2.0', 'v1.1.0'];
    },
    digest: async () => `sha256:${'a'.repeat(64)}`,
  };
  const components = (count: number) => [...Array(count).keys()].map((n) => [`c${n}`, { image: `myacr.azurecr.io/c${n}`, tag: 'v1.0.0' }] as [string, { image: string; tag: string }]);
  async function reports(count: number) {
    const progress: Array<[number, string]> = [];
    const log: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, setSecret: () => undefined, progress: (p, m) => progress.push([p, m]) };
    const desired = await fromRegistry(components(count), /^v\d+\.\d+\.\d+$/, () => registry, true, 8, log);
    assert.equal(desired.size, count);
    return progress;
  }

  it('after each component when there are few', async () => {
    assert.deepEqual(await reports(3), [
      [33, 'Resolved 1 of 3 component(s) in the registry'],
      [66, 'Resolved 2 of 3 component(s) in the registry'],
      [100, 'Resolved 3 of 3 component(s) in the registry'],
    ]);
  });

  it('every tenth of the way when there are many', async () => {
    const progress = await reports(45);
    assert.deepEqual(progress.map(([percent]) => percent), [11, 22, 33, 44, 55, 66, 77, 88, 100]);
    assert.equal(progress.at(-1)![1], 'Resolved 45 of 45 component(s) in the registry');
  });
});
