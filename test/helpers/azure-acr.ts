import type { ServiceConnection } from '../../shared/agent';
import { AzureLoginStandIn } from '../../stand-ins/azure-login';
import { TestRegistry } from '../../stand-ins/registry';
import type { Endpoint } from '../../tools/local-agent';

/**
 * An Azure Container Registry as tests meet it: the Azure sign-in stand-in (Azure DevOps' OIDC endpoint,
 * Entra, IMDS, ACR's token service) and Debian's docker-registry in token-auth mode trusting its tokens.
 * Service connections by id, each an identity in one state:
 */
export const CONNECTIONS = {
  /** Workload identity federation, AcrPush. */
  wif: 'a1b2c3d4-0000-4000-8000-0000000000f1',
  /** Service principal with a secret, AcrPush. */
  secret: 'a1b2c3d4-0000-4000-8000-0000000000f2',
  /** The agent VM's managed identity, AcrPush. */
  managed: 'a1b2c3d4-0000-4000-8000-0000000000f3',
  /** Workload identity federation, AcrPull only. */
  pullOnly: 'a1b2c3d4-0000-4000-8000-0000000000f4',
  /** Workload identity federation, no role on the registry. */
  noRole: 'a1b2c3d4-0000-4000-8000-0000000000f5',
  /** Workload identity federation whose app trusts another connection's tokens (a wrong federated token). */
  mismatched: 'a1b2c3d4-0000-4000-8000-0000000000f6',
};
export type ConnectionKind = keyof typeof CONNECTIONS;

export const CLIENT_SECRET = 'sp-secret~Qx8w.Edge-7c1f';
const CLIENT_IDS: Record<ConnectionKind, string> = {
  wif: '11111111-0000-4000-8000-00000000c11e',
  secret: '22222222-0000-4000-8000-00000000c11e',
  managed: '',
  pullOnly: '44444444-0000-4000-8000-00000000c11e',
  noRole: '55555555-0000-4000-8000-00000000c11e',
  mismatched: '66666666-0000-4000-8000-00000000c11e',
};

export interface AzureAcr {
  standIn: AzureLoginStandIn;
  registry: TestRegistry;
  stop(): Promise<void>;
}

export async function startAzureAcr(): Promise<AzureAcr> {
  const connections = Object.fromEntries(Object.entries(CONNECTIONS).map(([kind, id]) => [id, `edge-acr-${kind}`]));
  const standIn = await AzureLoginStandIn.start({ connections, managedIdentity: { objectId: 'mi-object-0003', role: 'AcrPush' } });
  const federated = (kind: ConnectionKind) => standIn.subjectOf(`edge-acr-${kind}`);
  standIn.setup.apps.push(
    { clientId: CLIENT_IDS.wif, objectId: 'app-object-0001', federatedSubject: federated('wif'), role: 'AcrPush' },
    { clientId: CLIENT_IDS.secret, objectId: 'app-object-0002', secret: CLIENT_SECRET, role: 'AcrPush' },
    { clientId: CLIENT_IDS.pullOnly, objectId: 'app-object-0004', federatedSubject: federated('pullOnly'), role: 'AcrPull' },
    { clientId: CLIENT_IDS.noRole, objectId: 'app-object-0005', federatedSubject: federated('noRole') },
    { clientId: CLIENT_IDS.mismatched, objectId: 'app-object-0006', federatedSubject: standIn.subjectOf('edge-acr-old-name'), role: 'AcrPush' },
  );
  const registry = await TestRegistry.startWithTokens(standIn).catch(async (error: unknown) => {
    await standIn.stop();
    throw error;
  });
  return {
    standIn,
    registry,
    async stop() {
      await registry.stop();
      await standIn.stop();
    },
  };
}

const SCHEMES: Record<ConnectionKind, string> = {
  wif: 'WorkloadIdentityFederation',
  secret: 'ServicePrincipal',
  managed: 'ManagedServiceIdentity',
  pullOnly: 'WorkloadIdentityFederation',
  noRole: 'WorkloadIdentityFederation',
  mismatched: 'WorkloadIdentityFederation',
};

/** One Azure Resource Manager connection as the agent holds it: URL, scheme, parameters, data. */
export function taskEndpoint(standIn: AzureLoginStandIn, kind: ConnectionKind): Endpoint {
  const parameters: Record<string, string> = { tenantid: standIn.setup.tenantId };
  if (kind !== 'managed') parameters.serviceprincipalid = CLIENT_IDS[kind];
  if (kind === 'secret') Object.assign(parameters, { serviceprincipalkey: CLIENT_SECRET, authenticationType: 'spnKey' });
  return {
    url: 'https://management.azure.com/',
    scheme: SCHEMES[kind],
    parameters,
    data: { environment: 'AzureCloud', subscriptionId: 'sub-0001', activeDirectoryAuthority: standIn.authority, environmentAuthorityUrl: standIn.authority },
  };
}

/** The same connection as TaskLibAgent reads it (shared/agent's ServiceConnection), for the memory agent. */
export function memoryEndpoint(standIn: AzureLoginStandIn, kind: ConnectionKind): ServiceConnection {
  const { url, scheme, parameters, data } = taskEndpoint(standIn, kind);
  const lower = Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k.toLowerCase(), v]));
  return { url, scheme, parameters: lower, username: lower.serviceprincipalid, password: lower.serviceprincipalkey, data: data ?? {} };
}

/** Every connection, for the memory agent. */
export function memoryEndpoints(standIn: AzureLoginStandIn): Record<string, ServiceConnection> {
  return Object.fromEntries(Object.entries(CONNECTIONS).map(([kind, id]) => [id, memoryEndpoint(standIn, kind as ConnectionKind)]));
}

/** The variables and job token a pipeline job gives a task that signs in with workload identity federation. */
export function jobContext(standIn: AzureLoginStandIn) {
  return { variables: { 'System.OidcRequestUri': standIn.oidcRequestUri }, accessToken: standIn.setup.jobToken };
}
