import { shown, UserError } from '../errors';
import { isLoopback, parseChallenge, registryBaseUrl, registryMessage } from '../registry/client';
import { identityOf, type AzureConnection } from './connection';
import type { FetchFunction } from '../net/fetch';
import { azureRequest, field } from './http';

/** What an identity needs on a registry, said the same way wherever a registry refuses it. */
export function acrRoleFix(connection: AzureConnection, registry: string): string {
  return (
    `give ${identityOf(connection)} (Azure connection ${shown(connection.id)}) the AcrPush role on the registry ${registry} ` +
    "(AcrPull is enough to read tags and digests) in the registry's Access control (IAM)"
  );
}

/**
 * An ACR refresh token for `registry`, as `az acr login` gets one: the registry's Bearer challenge names
 * its token service (realm) and service name; the Entra token is exchanged at the realm's
 * `/oauth2/exchange` (`grant_type=access_token&service&tenant&access_token`) for `{ refresh_token }`.
 * The Entra token goes only to the registry's own host name, and over HTTPS unless the registry is on loopback.
 */
export async function acrRefreshToken(connection: AzureConnection, registry: string, entraToken: string, fetchImpl: FetchFunction): Promise<string> {
  const base = registryBaseUrl(registry);
  const challenge = await azureRequest(
    fetchImpl,
    { method: 'GET', url: `${base}/v2/` },
    `Asking the registry ${registry} how to sign in`,
    'Check the registry input (the login server, e.g. myacr.azurecr.io) and that the agent reaches it.',
  );
  const { scheme, params } = parseChallenge(challenge.headers.get('www-authenticate') ?? '');
  if (challenge.status !== 401 || scheme !== 'bearer' || !params.realm) {
    throw new UserError(
      `The registry ${registry} does not offer token sign-in (it answered ${challenge.status}${scheme ? ` with a ${scheme} challenge` : ''}), so it is not an Azure ` +
        'Container Registry: leave azureSubscription empty and use containerRegistry or registryUsername/registryPassword.',
    );
  }
  const realm = new URL(params.realm);
  if (realm.hostname !== new URL(base).hostname || (realm.protocol !== 'https:' && !isLoopback(realm.host))) {
    throw new UserError(`The registry ${registry} names ${shown(params.realm)} as its token service: an Entra token is sent only to the registry's own host over HTTPS.`);
  }
  const step = `Exchanging the Entra token of ${identityOf(connection)} for a token of the registry ${registry} (${realm.host}/oauth2/exchange)`;
  const answer = await azureRequest(
    fetchImpl,
    {
      method: 'POST',
      url: new URL('/oauth2/exchange', realm),
      form: { grant_type: 'access_token', service: params.service || new URL(base).host, tenant: connection.tenantId, access_token: entraToken },
    },
    step,
    'Check that the agent reaches the registry.',
  );
  const refreshToken = field(answer, 'refresh_token');
  if (answer.status === 200 && refreshToken) return refreshToken;
  const said = registryMessage(answer.body);
  const fix =
    answer.status === 401 || answer.status === 403
      ? `${acrRoleFix(connection, registry)}, and check that the registry allows Microsoft Entra sign-in`
      : 'check the registry input: it must be the login server of an Azure Container Registry';
  throw new UserError(`${step} failed (${answer.status}${said ? `: ${said}` : ''}): ${fix}.`);
}
