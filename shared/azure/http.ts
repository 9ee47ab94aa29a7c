import { UserError } from '../errors';
import { type FetchFunction, networkFailure } from '../net/fetch';
import { isTransientStatus, retryAfterMs, TransientError, withRetry } from '../retry';

/** One answer of an Azure endpoint: its status and its JSON body ({} when it had none, or not JSON). */
export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export interface AzureRequest {
  method: 'GET' | 'POST';
  url: string | URL;
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string | undefined>;
  /** Gives up on an attempt after this long (IMDS, which may not exist here at all). */
  timeoutMs?: number;
}

/**
 * Sends one request of a sign-in step, asking again on 429, 5xx and dropped connections (Retry-After
 * honoured), and returns the last answer whatever its status. When the endpoint cannot be reached at
 * all, fails with a UserError: `step` (what was being done) and `fix` (what to check).
 */
export async function azureRequest(fetchImpl: FetchFunction, request: AzureRequest, step: string, fix: string): Promise<JsonAnswer> {
  const url = new URL(request.url);
  const headers: Record<string, string> = { Accept: 'application/json', ...request.headers };
  let body: string | undefined;
  if (request.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(Object.entries(request.form).filter((entry): entry is [string, string] => !!entry[1])).toString();
  }
  try {
    return await withRetry(
      async () => {
        let response: Response;
        try {
          const signal = request.timeoutMs ? AbortSignal.timeout(request.timeoutMs) : undefined;
          response = await fetchImpl(url, { method: request.method, headers, body, signal, redirect: 'manual' });
        } catch (error) {
          // A refused proxy or an untrusted certificate is a UserError naming the agent setting; the rest is tried again.
          throw (error as Error)?.name === 'TimeoutError' ? new TransientError(`${url.origin} gave no answer in time`) : networkFailure(error, url.origin);
        }
        if (isTransientStatus(response.status)) {
          throw new TransientError(`${url.origin} answered ${response.status}`, retryAfterMs(response.headers));
        }
        return { status: response.status, body: await jsonBody(response), headers: response.headers };
      },
      { attempts: 3, baseMs: 250, capMs: 2000 },
    );
  } catch (error) {
    if (error instanceof TransientError) throw new UserError(`${step} failed: ${error.message}. ${fix}`);
    throw error;
  }
}

async function jsonBody(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return text.trim() ? { text: text.trim().slice(0, 300) } : {};
  }
}

/** A string field of an answer's body, or undefined. */
export function field(answer: JsonAnswer, name: string): string | undefined {
  const value = answer.body[name];
  return typeof value === 'string' && value ? value : undefined;
}
