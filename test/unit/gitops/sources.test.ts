import { strict as assert } from 'node:assert';
import { mapLimit } from '../../../shared/gitops/sources';

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
