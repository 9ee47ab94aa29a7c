import type { Log } from '../agent';
import { isTransientStatus, retryAfterMs, TransientError, withRetry, type RetryOptions } from '../retry';

/**
 * Retries for calls through azure-devops-node-api. Its HTTP layer (typed-rest-client) never retries a
 * 429 or any write, and hides a dropped answer as an empty result, so every call goes through here.
 */

/** An error as typed-rest-client raises it: the status and, lower-cased, the answer's headers. */
export interface RestError extends Error {
  statusCode?: number;
  responseHeaders?: Record<string, string | string[] | undefined>;
  result?: { message?: string; typeKey?: string };
  code?: string;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ESOCKETTIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED']);

export const statusOf = (error: unknown): number | undefined => (error as RestError | undefined)?.statusCode;

/** Whether an error from the client is worth asking again, and how long the service asked us to wait. */
export function asTransient(error: unknown): TransientError | undefined {
  if (error instanceof TransientError) return error;
  const e = error as RestError;
  const status = e?.statusCode;
  if (status !== undefined) {
    if (!isTransientStatus(status)) return undefined;
    const headers = e.responseHeaders ?? {};
    const get = (name: string) => {
      const value = headers[name];
      return value === undefined ? null : Array.isArray(value) ? value[0] : String(value);
    };
    return new TransientError(`HTTP ${status}: ${e.message}`, retryAfterMs({ get }));
  }
  const message = String(e?.message ?? '');
  if ((e?.code && NETWORK_CODES.has(e.code)) || /socket hang up|aborted|Request timeout/i.test(message)) {
    return new TransientError(`connection failed: ${e.code ?? message}`);
  }
  // The location cache is filled only by a complete answer; a cut one reads as "no location".
  if (/Failed to find api location/.test(message)) return new TransientError(message);
  return undefined;
}

/** The client resolves a dropped or cut answer as an empty result: for calls that always answer, that is transient. */
export function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new TransientError(`empty answer to ${what}`);
  return value;
}

export interface CallOptions extends RetryOptions {
  log?: Log;
}

export const REST_RETRY: RetryOptions = { attempts: 10, baseMs: 250, capMs: 8_000 };

/**
 * Runs one REST call with retries of 429, 5xx, dropped connections and cut answers, honouring
 * Retry-After (and X-RateLimit-Reset) or else full-jitter exponential backoff with a cap.
 */
export async function call<T>(what: string, action: () => Promise<T>, options: CallOptions = {}): Promise<T> {
  const { log, ...retry } = { ...REST_RETRY, ...options };
  return withRetry(
    async () => {
      try {
        return await action();
      } catch (error) {
        throw asTransient(error) ?? error;
      }
    },
    {
      ...retry,
      onRetry: (error, attempt, waitMs) => {
        log?.info(`Azure Repos: ${what} failed (${error.message}); retry ${attempt} in ${Math.round(waitMs)} ms`);
        retry.onRetry?.(error, attempt, waitMs);
      },
    },
  );
}

/**
 * Runs a REST call whose failure must not fail the task (a status, a mark): a refusal becomes a warning that names the
 * permission to grant (`permission`, on `where`), anything else one that says what went wrong. True when it landed.
 */
export async function bestEffort(log: Log, what: string, permission: string, where: string, action: () => Promise<unknown>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch (error) {
    const status = statusOf(error);
    const said = (error as RestError).result?.message ?? (error as Error).message;
    const fix =
      status === 401
        ? `the token was refused (HTTP 401): run with the job's access token`
        : status === 403
          ? `the build service may not (HTTP 403: ${said}): grant it '${permission}' on ${where} (Project settings > Repositories > Security)`
          : `${said}${status ? ` (HTTP ${status})` : ''}`;
    log.warn(`Could not ${what}: ${fix}. This does not change the task's result.`);
    return false;
  }
}
