import { shown, UserError } from '../errors';
import type { FetchFunction } from '../net/fetch';
import { azureRequest, field } from './http';

export interface OidcRequest {
  /** The job's System.OidcRequestUri. */
  requestUri: string | undefined;
  /** The job's access token (System.AccessToken). */
  accessToken: string | undefined;
  /** The service connection whose federated credential the token is for. */
  connectionId: string;
}

/**
 * The job's OIDC token for a service connection (workload identity federation), asked of Azure DevOps
 * as Azure Pipelines' own tasks and the Azure SDKs do: `POST <System.OidcRequestUri>?api-version=7.1&serviceConnectionId=<id>`
 * with the job's access token, answered `{ "oidcToken": "<JWT>" }`.
 */
export async function pipelineOidcToken(request: OidcRequest, fetchImpl: FetchFunction): Promise<string> {
  const step = `Asking Azure DevOps for the job's OIDC token for the Azure connection ${shown(request.connectionId)}`;
  if (!request.requestUri) {
    throw new UserError(
      `${step} is not possible: the job has no System.OidcRequestUri. Workload identity federation needs Azure DevOps Services ` +
        '(or a Server version that issues OIDC tokens): use a service principal secret or managed identity connection there.',
    );
  }
  if (!request.accessToken) {
    throw new UserError(`${step} is not possible: the job's access token is not available to this task. Check that the job may use it (not 'None' in the job's settings).`);
  }
  const url = new URL(request.requestUri);
  url.searchParams.set('api-version', '7.1');
  url.searchParams.set('serviceConnectionId', request.connectionId);
  const answer = await azureRequest(
    fetchImpl,
    // X-TFS-FedAuthRedirect: a refused token gets 401, not a redirect to a sign-in page.
    { method: 'POST', url, headers: { Authorization: `Bearer ${request.accessToken}`, 'X-TFS-FedAuthRedirect': 'Suppress' } },
    step,
    'Check that the agent reaches Azure DevOps.',
  );
  const token = field(answer, 'oidcToken');
  if (answer.status === 200 && token) return token;
  const message = field(answer, 'message') ?? field(answer, 'text');
  const fix =
    answer.status === 401 || answer.status === 403
      ? "the job's access token was refused: authorize this pipeline to use the connection (Project settings > Service connections > Security)"
      : answer.status === 404 || answer.status === 400
        ? 'check that the connection exists and uses workload identity federation'
        : 'run the job again; if it persists, check the connection in Project settings > Service connections';
  throw new UserError(`${step} failed (${answer.status}${message ? `: ${message}` : ''}): ${fix}.`);
}
