import type { Agent } from '../agent';
import { shown } from '../errors';
import { REFRESH_TOKEN_USER, type RegistryCredentials } from '../registry/client';
import { acrRefreshToken, acrRoleFix } from './acr';
import type { AzureConnection } from './connection';
import { entraToken } from './entra';
import type { FetchFunction } from '../net/fetch';
import { managedIdentityToken } from './managed-identity';
import { pipelineOidcToken } from './pipeline-oidc';

/** What a caller may replace in the sign-in: the transport (a proxy), and the IMDS address (a test stand-in). */
export interface AzureLoginOptions {
  fetch?: FetchFunction;
  imdsUrl?: string;
}

/**
 * Credentials for an Azure Container Registry from an Azure Resource Manager service connection:
 * an Entra token for the connection's identity (workload identity federation: the job's OIDC token as a
 * client assertion; a service principal's secret; or the agent VM's managed identity through IMDS),
 * exchanged at the registry for an ACR refresh token. Returned as builders and `docker login` take it:
 * user 00000000-0000-0000-0000-000000000000, the refresh token as password. Every token is masked the moment it is received.
 */
export async function acrCredentials(agent: Agent, connection: AzureConnection, registry: string, options: AzureLoginOptions = {}): Promise<RegistryCredentials> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const { id } = connection;
  const masked = (token: string) => {
    agent.setSecret(token);
    return token;
  };
  let entra: string;
  if (connection.scheme === 'WorkloadIdentityFederation') {
    const oidc = masked(
      await pipelineOidcToken({ requestUri: agent.variable('System.OidcRequestUri'), accessToken: agent.accessToken(), connectionId: id }, fetchImpl),
    );
    entra = masked(await entraToken(connection, { assertion: oidc }, fetchImpl));
  } else if (connection.scheme === 'ServicePrincipal') {
    entra = masked(await entraToken(connection, { secret: connection.clientSecret! }, fetchImpl));
  } else {
    entra = masked(await managedIdentityToken(connection, fetchImpl, options.imdsUrl));
  }
  const refreshToken = masked(await acrRefreshToken(connection, registry, entra, fetchImpl));
  agent.info(`Signed in to ${registry} with the Azure connection ${shown(id)} (${connection.scheme}).`);
  return { username: REFRESH_TOKEN_USER, password: refreshToken, hint: acrRoleFix(connection, registry) };
}
