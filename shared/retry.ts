/** An answer worth asking again: HTTP 429 or 5xx, or a dropped connection. */
export class TransientError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'TransientError';
  }
}

export interface RetryOptions {
  attempts?: number;
  baseMs?: number;
  capMs?: number;
  /** Called before each wait: what failed and how long we wait. */
  onRetry?: (error: Error, attempt: number, waitMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** Waits `ms` milliseconds (the default sleep of every retry). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `action` until it succeeds, retrying TransientErrors with full-jitter exponential backoff
 * capped at `capMs`, or exactly the server's Retry-After when it gave one. Other errors end at once.
 */
export async function withRetry<T>(action: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { attempts = 6, baseMs = 200, capMs = 10_000, onRetry, sleep: pause = sleep } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await action(attempt);
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= attempts) throw error;
      const wait = error.retryAfterMs ?? Math.random() * Math.min(capMs, baseMs * 2 ** (attempt - 1));
      onRetry?.(error, attempt, wait);
      await pause(Math.min(wait, capMs * 6));
    }
  }
}

/** Milliseconds to wait from a Retry-After header (seconds or an HTTP date), or X-RateLimit-Reset. */
export function retryAfterMs(headers: { get(name: string): string | null }, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (value) {
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset) && reset > 0) {
    return Math.max(0, reset * 1000 - now);
  }
  return undefined;
}

/** Whether an HTTP status is worth retrying. */
export const isTransientStatus = (status: number) => status === 429 || status === 408 || status >= 500;
