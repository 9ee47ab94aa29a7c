import type { Agent } from '../agent';
import { azureConnection } from '../azure/connection';
import { acrCredentials, type AzureLoginOptions } from '../azure/login';
import { serviceConnection } from '../inputs';
import { fetchWith } from '../net/proxy-fetch';
import type { RegistryCredentials } from './client';

/** The registry a task talks to, and the credentials it signs in with there. */
export interface RegistryAccess {
  /** As given (a host, maybe with a scheme or namespace): the `registry` input, else the connection's; '' when none names one. */
  registry: string;
  credentials: RegistryCredentials;
  /**
   * An Azure connection given without `registry`: signs in to the registry the run's images name, once the
   * task knows which (registryClientsFor in gitops/sources.ts); `registry` is then '' and `credentials` empty.
   */
  signIn?: (registry: string) => Promise<RegistryCredentials>;
}

/**
 * The registry and its credentials from the inputs BuildRustContainers and UpdateGitOpsVersions share, in
 * the contract's precedence: the `containerRegistry` service connection, then the `azureSubscription`
 * one (an ACR refresh token for the `registry` input, signed in now, so a refusal stops the task before
 * anything is built or written; without the input, `signIn` for the registry the images name), then
 * `registryUsername` / `registryPassword`. The `registry` input names the registry; a Docker registry
 * connection supplies it when the input is empty.
 * Every password and token is masked before anything can log it.
 */
export async function registryAccess(agent: Agent, login: AzureLoginOptions = {}): Promise<RegistryAccess> {
  const registry = agent.input('registry');
  const connection = serviceConnection(agent, 'containerRegistry');
  const warnIgnored = (by: string) => {
    // secretInput, never input, for the password: the task library would print it to the debug log.
    const ignored = [agent.input('registryUsername') && 'registryUsername', agent.secretInput('registryPassword') && 'registryPassword'].filter(Boolean);
    if (ignored.length) agent.warn(`${ignored.join(' and ')} ignored: the ${by} service connection supplies the credentials.`);
  };
  if (connection) {
    warnIgnored('containerRegistry');
    if (agent.input('azureSubscription')) agent.warn('azureSubscription ignored: the containerRegistry service connection supplies the credentials.');
    return masked(agent, {
      registry: registry || connection.data.loginServer || connection.data.registry || connection.url || '',
      credentials: { username: connection.username, password: connection.password },
    });
  }
  const arm = serviceConnection(agent, 'azureSubscription');
  if (arm) {
    warnIgnored('azureSubscription');
    // Entra, the agent's OIDC endpoint, IMDS and the registry are reached through the agent's proxy and CA, as every other call.
    const options = { fetch: fetchWith(agent.network()), ...login };
    // The connection is read now, so a scheme the tasks cannot use stops the task even when the sign-in waits for the images.
    const connection = azureConnection(agent.input('azureSubscription'), arm);
    const signIn = (to: string) => acrCredentials(agent, connection, to, options);
    return registry ? { registry, credentials: await signIn(registry) } : { registry: '', credentials: {}, signIn };
  }
  return masked(agent, {
    registry,
    credentials: { username: agent.input('registryUsername') || undefined, password: agent.secretInput('registryPassword') || undefined },
  });
}

function masked(agent: Agent, access: RegistryAccess): RegistryAccess {
  if (access.credentials.password) agent.setSecret(access.credentials.password);
  return access;
}
