import { strict as assert } from 'node:assert';
import { asTransient, call, required } from '../../../shared/repos/rest-retry';
import { TransientError } from '../../../shared/retry';

/** Errors shaped as typed-rest-client raises them: statusCode and lower-cased responseHeaders. */
const restError = (statusCode: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP ${statusCode}`), { statusCode, responseHeaders: headers });

describe('Azure Repos retries', () => {
  it('waits what Retry-After says, or until X-RateLimit-Reset when the budget is spent', () => {
    assert.equal(asTransient(restError(429, { 'retry-after': '3' }))?.retryAfterMs, 3000);
    const reset = Math.ceil(Date.now() / 1000) + 2;
    const wait = asTransient(restError(429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }))?.retryAfterMs;
    assert.ok(wait !== undefined && wait > 1000 && wait <= 3000, String(wait));
    assert.equal(asTransient(restError(503))?.retryAfterMs, undefined, 'no hint: jittered backoff');
  });

  it('retries 429, 5xx and dropped connections, and nothing the caller must fix', () => {
    for (const status of [429, 500, 502, 503, 504]) assert.ok(asTransient(restError(status)));
    assert.ok(asTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    for (const status of [400, 401, 403, 404, 409]) assert.equal(asTransient(restError(status)), undefined);
    assert.throws(() => required(null, 'the new pull request'), TransientError);
  });

  it('honours the wait, then succeeds; a refusal ends at once', async () => {
    const waits: number[] = [];
    let calls = 0;
    const value = await call(
      'reading',
      async () => {
        calls++;
        if (calls === 1) throw restError(429, { 'retry-after': '1' });
        if (calls === 2) throw restError(503);
        return 'ok';
      },
      { sleep: async (ms) => void waits.push(ms), baseMs: 100, capMs: 1000 },
    );
    assert.equal(value, 'ok');
    assert.equal(calls, 3);
    assert.equal(waits[0], 1000);
    assert.ok(waits[1] >= 0 && waits[1] <= 200, `jitter within the backoff: ${waits[1]}`);
    let refused = 0;
    await assert.rejects(call('writing', async () => { refused++; throw restError(400); }, { sleep: async () => undefined }), /HTTP 400/);
    assert.equal(refused, 1);
  });

  it('gives up after the attempts, with the last failure', async () => {
    let calls = 0;
    await assert.rejects(call('reading', async () => { calls++; throw restError(503); }, { attempts: 4, sleep: async () => undefined }), /HTTP 503/);
    assert.equal(calls, 4);
  });
});
