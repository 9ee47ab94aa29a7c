import { strict as assert } from 'node:assert';
import * as sinon from 'sinon';
import { pushRetryWait } from '../../shared/pr/branch';
import { TransientError, withRetry } from '../../shared/retry';

/** An action failing transiently `failures` times, then answering 'done'; `calls` counts its runs. */
function flaky(failures: number, retryAfterMs?: number) {
  const state = { calls: 0 };
  const action = async () => {
    state.calls++;
    if (state.calls <= failures) throw new TransientError(`busy ${state.calls}`, retryAfterMs);
    return 'done';
  };
  return { state, action };
}

describe('withRetry: full-jitter exponential backoff on the real clock, faked', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
    // The jitter draws the middle of each window: the waits are exactly half of base * 2^(attempt - 1).
    sinon.stub(Math, 'random').returns(0.5);
  });
  afterEach(() => sinon.restore());

  it('waits exactly the jittered backoff before each attempt, and not a millisecond less', async () => {
    const { state, action } = flaky(3);
    const waits: number[] = [];
    const result = withRetry(action, { baseMs: 200, onRetry: (_e, _a, ms) => waits.push(ms) });
    await clock.tickAsync(0);
    assert.equal(state.calls, 1);
    // 100 ms (half of 200), then 200, then 400.
    for (const [wait, calls] of [[100, 2], [200, 3], [400, 4]]) {
      await clock.tickAsync(wait - 1);
      assert.equal(state.calls, calls - 1, `still waiting ${wait} ms`);
      await clock.tickAsync(1);
      assert.equal(state.calls, calls);
    }
    assert.equal(await result, 'done');
    assert.deepEqual(waits, [100, 200, 400]);
    assert.equal(clock.now, 700);
  });

  it('caps the window at capMs, and gives up after `attempts` with the last failure', async () => {
    const { state, action } = flaky(10);
    const result = withRetry(action, { attempts: 4, baseMs: 1000, capMs: 1500 });
    const failed = assert.rejects(result, /busy 4/);
    // 500, then 750 (half of the 1500 cap), then 750 again.
    await clock.tickAsync(500 + 750 + 750);
    await failed;
    assert.equal(state.calls, 4);
    assert.equal(clock.now, 2000);
  });

  it("waits what the server's Retry-After says, not the backoff", async () => {
    const { state, action } = flaky(1, 3000);
    const result = withRetry(action, { baseMs: 100 });
    await clock.tickAsync(2999);
    assert.equal(state.calls, 1);
    await clock.tickAsync(1);
    assert.equal(await result, 'done');
  });

  it('ends at once on an error that is not transient', async () => {
    let calls = 0;
    await assert.rejects(withRetry(async () => { calls++; throw new Error('HTTP 400'); }), /HTTP 400/);
    assert.equal(calls, 1);
    assert.equal(clock.now, 0);
  });
});

describe('CreateEnvPR: the wait before pushing again to a branch that moved', () => {
  it('doubles from 500 ms to the 2 s cap (full jitter below it)', () => {
    assert.deepEqual([1, 2, 3, 4, 10].map((attempt) => pushRetryWait(attempt, () => 1)), [500, 1000, 2000, 2000, 2000]);
    assert.deepEqual([1, 2, 3].map((attempt) => pushRetryWait(attempt, () => 0.5)), [250, 500, 1000]);
    assert.equal(pushRetryWait(5, () => 0), 0);
  });
});
