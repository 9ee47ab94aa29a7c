import { shown, UserError } from '../errors';
import { identityOf, type AzureConnection } from './connection';
import type { FetchFunction } from '../net/fetch';
import { azureRequest, field } from './http';

/** How a service principal proves who it is: the job's federated (OIDC) token, or its secret. */
export type ClientCredential = { assertion: string } | { secret: string };

/** What to do about the Entra errors (AADSTS codes) a pipeline meets, by code. */
const FIXES: Array<[number[], string]> = [
  [
    [70021, 700211, 700212, 700213, 700223],
    "the application's federated credential does not match this service connection: its issuer and subject (sc://<organization>/<project>/<connection>) " +
      'must be exactly those shown on the connection in Project settings > Service connections; fix the federated credential in the app registration',
  ],
  [[700024, 700027], 'the federated token was not valid at the time it reached Entra (expired, or the clock is off): run the job again'],
  [[7000215, 7000222], "the service principal's secret is wrong or has expired: create a new secret in the app registration and update the service connection"],
  [[700016], 'no application with this id exists in the tenant: check the service principal id and tenant id of the service connection'],
  [[90002, 900023, 90072], 'the tenant id of the service connection is wrong'],
];

/**
 * An access token from Microsoft Entra ID's v2 token endpoint, `<authority><tenant>/oauth2/v2.0/token`,
 * with the client credentials grant: the OIDC token as a client assertion (workload identity federation)
 * or the secret, for the connection's Azure Resource Manager resource (`<resource>.default`).
 */
export async function entraToken(connection: AzureConnection, credential: ClientCredential, fetchImpl: FetchFunction): Promise<string> {
  const url = new URL(`${encodeURIComponent(connection.tenantId)}/oauth2/v2.0/token`, connection.authority);
  const step = `Signing in to Microsoft Entra ID (${url.host}) as ${identityOf(connection)} of the Azure connection ${shown(connection.id)}`;
  const answer = await azureRequest(
    fetchImpl,
    {
      method: 'POST',
      url,
      form: {
        grant_type: 'client_credentials',
        client_id: connection.clientId,
        scope: `${connection.resource}.default`,
        ...('assertion' in credential
          ? { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: credential.assertion }
          : { client_secret: credential.secret }),
      },
    },
    step,
    "Check that the agent reaches Microsoft Entra ID, and the connection's cloud.",
  );
  const token = field(answer, 'access_token');
  if (answer.status === 200 && token) return token;
  throw new UserError(`${step} failed (${answer.status}): ${entraProblem(answer.body)}`);
}

/** Entra's error answer as one line (`AADSTS70021: No matching federated identity record...`) and what to do about it. */
function entraProblem(body: Record<string, unknown>): string {
  const description = typeof body.error_description === 'string' ? body.error_description : '';
  // Entra appends Trace ID, Correlation ID and Timestamp: useful to support, noise here.
  const said = description.split(/\r?\n|\s+Trace ID:/)[0].trim() || String(body.error ?? body.text ?? 'no reason given');
  const codes = Array.isArray(body.error_codes) ? body.error_codes.map(Number) : [];
  const code = codes[0] ?? Number(/AADSTS(\d+)/.exec(said)?.[1]);
  const fix = FIXES.find(([known]) => known.includes(code))?.[1] ?? 'check the service connection in Project settings > Service connections (Verify)';
  return `${said.replace(/\.$/, '')}; ${fix}.`;
}
