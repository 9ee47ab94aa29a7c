import type { ServiceConnection } from '../agent';
import { shown, UserError } from '../errors';

export type AzureScheme = 'WorkloadIdentityFederation' | 'ServicePrincipal' | 'ManagedServiceIdentity';

/** An Azure Resource Manager service connection, as far as signing in to a registry needs it. */
export interface AzureConnection {
  /** What the azureSubscription input holds (the connection's id, or its name in YAML): named in every message. */
  id: string;
  scheme: AzureScheme;
  /** The tenant (directory) id; may be empty for a managed identity. */
  tenantId: string;
  /** The service principal's application (client) id; for a managed identity, a user-assigned identity's client id or ''. */
  clientId: string;
  /** The service principal's secret (ServicePrincipal only), masked by the agent. */
  clientSecret?: string;
  /** Microsoft Entra's authority host, ending in '/': the public cloud's unless the connection names another. */
  authority: string;
  /** The Azure Resource Manager resource the Entra token is for (what `az acr login` exchanges), ending in '/'. */
  resource: string;
}

export const PUBLIC_AUTHORITY = 'https://login.microsoftonline.com/';
export const PUBLIC_RESOURCE_MANAGER = 'https://management.azure.com/';

const SCHEMES: AzureScheme[] = ['WorkloadIdentityFederation', 'ServicePrincipal', 'ManagedServiceIdentity'];
const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

/**
 * Reads an Azure Resource Manager connection: its scheme (none means ServicePrincipal, as Azure Pipelines'
 * own tasks read it), tenant, service principal, secret and cloud. Refuses what cannot sign in to a
 * registry (a publish profile, a certificate) with the fix.
 */
export function azureConnection(id: string, endpoint: ServiceConnection): AzureConnection {
  const name = `The Azure connection ${shown(id)} (input 'azureSubscription')`;
  const given = endpoint.scheme || 'ServicePrincipal';
  const scheme = SCHEMES.find((s) => s.toLowerCase() === given.toLowerCase());
  if (!scheme) {
    throw new UserError(
      `${name} uses the ${shown(given)} scheme, which cannot sign in to a container registry: ` +
        'use a connection with workload identity federation (recommended), a service principal secret, or a managed identity.',
    );
  }
  const parameters = endpoint.parameters ?? {};
  const tenantId = parameters['tenantid'] ?? '';
  const clientId = scheme === 'ManagedServiceIdentity' ? (endpoint.data['msiclientId'] ?? '') : (parameters['serviceprincipalid'] ?? endpoint.username ?? '');
  if (scheme !== 'ManagedServiceIdentity') {
    if (!tenantId || !clientId) throw new UserError(`${name} has no ${tenantId ? 'service principal id' : 'tenant id'}: edit the service connection and verify it.`);
  }
  let clientSecret: string | undefined;
  if (scheme === 'ServicePrincipal') {
    if ((parameters['authenticationtype'] ?? '').toLowerCase() === 'spncertificate') {
      throw new UserError(
        `${name} signs in with a certificate, which this task does not support: ` +
          'convert the connection to workload identity federation (recommended) or give it a secret.',
      );
    }
    clientSecret = endpoint.password || parameters['serviceprincipalkey'];
    if (!clientSecret) throw new UserError(`${name} has no service principal secret: edit the service connection and give it one.`);
  }
  return {
    id,
    scheme,
    tenantId,
    clientId,
    clientSecret,
    authority: withSlash(endpoint.data['activeDirectoryAuthority'] || endpoint.data['environmentAuthorityUrl'] || PUBLIC_AUTHORITY),
    resource: withSlash(endpoint.url || PUBLIC_RESOURCE_MANAGER),
  };
}

/** Who signs in, for messages: the application, or the agent machine's managed identity. */
export function identityOf(connection: AzureConnection): string {
  if (connection.scheme !== 'ManagedServiceIdentity') return `the service principal ${connection.clientId}`;
  return connection.clientId ? `the managed identity ${connection.clientId}` : "the agent machine's managed identity";
}
