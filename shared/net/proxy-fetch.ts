import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type * as Undici from 'undici';
import { UserError } from '../errors';
import type { FetchFunction } from './fetch';
import { basicCredentials, bypassesProxy, NETWORK_VARIABLES, type NetworkSettings } from './network';

/**
 * A fetch that goes the way the agent's settings say: through the proxy (HTTP CONNECT, with its
 * credentials) unless a bypass pattern matches the request's URL, and trusting the agent's CA file
 * besides Node's own roots. Node's built-in fetch ignores proxies, so this is undici's fetch with a
 * dispatcher chosen per request; undici is loaded only when there is a proxy or a CA file, and with
 * neither the global fetch is returned as it is. The CA file is read here: a missing one is a UserError.
 */
export function fetchWith(network: NetworkSettings = {}): FetchFunction {
  const { proxy, caFile } = network;
  if (!proxy && !caFile) return fetch;
  let tls: { ca: string[] } | undefined;
  if (caFile) {
    try {
      tls = { ca: [...rootCertificates, readFileSync(caFile, 'utf8')] };
    } catch (error) {
      throw new UserError(`The agent's CA file (${NETWORK_VARIABLES.caFile}) ${caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): fix the certificate settings the agent was configured with.`);
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when needed: it costs every task's start
  const undici = require('undici') as typeof Undici;
  const direct = new undici.Agent({ connect: tls });
  const tunnel = proxy && new undici.ProxyAgent({
    uri: proxy.url,
    token: proxy.username || proxy.password ? basicCredentials(proxy.username, proxy.password) : undefined,
    requestTls: tls,
    proxyTls: tls,
  });
  const through = (url: string) => (tunnel && !bypassesProxy(proxy, url) ? tunnel : direct);
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    return undici.fetch(url, { ...(init as Undici.RequestInit), dispatcher: through(url) });
  }) as unknown as FetchFunction;
}

/**
 * The `fetch` option of a flow that talks HTTP (registries, the Azure sign-in): undici's, when the agent has
 * a proxy or a CA file; none (the flows then use the global fetch) when it has neither. Tasks set it; a flow
 * never loads undici itself, so a task that needs no HTTP transport (CreateEnvPR) does not carry it.
 */
export function transportFor(network: NetworkSettings): { fetch?: FetchFunction } {
  return network.proxy || network.caFile ? { fetch: fetchWith(network) } : {};
}
