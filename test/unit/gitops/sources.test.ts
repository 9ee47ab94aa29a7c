import { strict as assert } from 'node:assert';
import { mapLimit, registryHost, registryLocation } from '../../../shared/gitops/sources';

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

  it('asks Docker Hub for images without registry host, and the host otherwise', () => {
    assert.deepEqual(registryLocation('busybox'), { host: 'registry-1.docker.io', repository: 'library/busybox' });
    assert.deepEqual(registryLocation('myacr.azurecr.io/edge/heuristic'), { host: 'myacr.azurecr.io', repository: 'edge/heuristic' });
    assert.deepEqual(registryLocation('127.0.0.1:5000/heuristic'), { host: '127.0.0.1:5000', repository: 'heuristic' });
  });

  it('takes the host from a registry input or service connection URL', () => {
    assert.equal(registryHost('https://myacr.azurecr.io/'), 'myacr.azurecr.io');
    assert.equal(registryHost('myacr.azurecr.io'), 'myacr.azurecr.io');
    assert.equal(registryHost('https://index.docker.io/v1/'), 'registry-1.docker.io');
    assert.equal(registryHost(''), undefined);
  });
});
