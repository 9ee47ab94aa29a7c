import { UserError } from '../errors';
import { TransientError } from '../retry';
import { proxyRefused, untrustedCertificate } from './network';

/** A function called as the global `fetch` is: what HTTP clients of this extension take (RegistryClient, the ACR login). */
export type FetchFunction = typeof fetch;

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
