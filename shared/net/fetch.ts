import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type * as Undici from 'undici';
import { UserError } from '../errors';
import { TransientError } from '../retry';
import { basicCredentials, bypassesProxy, NETWORK_VARIABLES, proxyRefused, untrustedCertificate, type NetworkSettings } from './network';

/** A function called as the global `fetch` is: what HTTP clients of this extension take (RegistryClient, the ACR login). */
export type FetchFunction = typeof fetch;

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

/** TLS errors of a certificate the client does not trust (Node's codes). */
const UNTRUSTED_CERTIFICATE = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED)$/;

/**
 * What a request that got no answer means, for `what` (e.g. `the registry example.azurecr.io`): a
 * proxy that refused the agent's proxy credentials, or a server certificate no trusted authority
 * signed, is a UserError saying which agent setting to fix; anything else (a refused or dropped
 * connection) a TransientError to try again. Reads the cause fetch wraps its errors in.
 */
export function networkFailure(error: unknown, what: string): Error {
  const causes: Array<Error & { code?: string }> = [];
  for (let e = error as (Error & { cause?: unknown }) | undefined; e && causes.length < 5; e = e.cause as typeof e) causes.push(e);
  const said = causes.map((e) => e.message).filter(Boolean).join(': ');
  // What undici says when the proxy refuses the tunnel: 407, as proxies answer, or 401, as some (tinyproxy) do.
  const refused = /Proxy response \((40[17])\)/.exec(said)?.[1];
  if (refused) return new UserError(`Could not reach ${what}: ${proxyRefused(Number(refused))}`);
  if (causes.some((e) => UNTRUSTED_CERTIFICATE.test(e.code ?? ''))) {
    return new UserError(`Could not reach ${what}: ${untrustedCertificate(said)}`);
  }
  return new TransientError(`${what} could not be reached: ${said}`);
}
