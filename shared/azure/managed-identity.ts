import { shown, UserError } from '../errors';
import { identityOf, type AzureConnection } from './connection';
import type { FetchFunction } from '../net/fetch';
import { azureRequest, field } from './http';

/** The Azure Instance Metadata Service, which gives a VM's managed identity its tokens. */
export const IMDS_URL = 'http://169.254.169.254';

/**
 * An access token of the agent machine's managed identity from IMDS
 * (`GET <imds>/metadata/identity/oauth2/token?api-version=2018-02-01&resource=...`, header `Metadata: true`),
 * for the connection's Azure Resource Manager resource; a user-assigned identity is picked by its client id.
 */
export async function managedIdentityToken(connection: AzureConnection, fetchImpl: FetchFunction, imdsUrl = IMDS_URL): Promise<string> {
  const url = new URL('/metadata/identity/oauth2/token', imdsUrl);
  url.searchParams.set('api-version', '2018-02-01');
  url.searchParams.set('resource', connection.resource);
  if (connection.clientId) url.searchParams.set('client_id', connection.clientId);
  const step = `Asking the Azure Instance Metadata Service (${url.host}) for a token of ${identityOf(connection)} (Azure connection ${shown(connection.id)})`;
  const answer = await azureRequest(
    fetchImpl,
    { method: 'GET', url, headers: { Metadata: 'true' }, timeoutMs: 5000 },
    step,
    'A managed identity connection works only on a self-hosted agent running on an Azure VM or scale set: ' +
      'run this job there, or use a workload identity federation connection.',
  );
  const token = field(answer, 'access_token');
  if (answer.status === 200 && token) return token;
  const said = field(answer, 'error_description') ?? field(answer, 'error') ?? field(answer, 'text') ?? 'no reason given';
  throw new UserError(
    `${step} failed (${answer.status}: ${said}): assign a managed identity to the agent's VM (and name a user-assigned one's client id in the connection).`,
  );
}
