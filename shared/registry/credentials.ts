import type { Agent } from '../agent';
import { serviceConnection } from '../inputs';
import type { RegistryCredentials } from './client';

/** The registry a task talks to, and the credentials it signs in with there. */
export interface RegistryAccess {
  /** As given (a host, maybe with a scheme or namespace): the `registry` input, else the connection's; '' when none names one. */
  registry: string;
  credentials: RegistryCredentials;
}

/**
 * The registry and its credentials from the inputs BuildRustContainers and UpdateGitOpsVersions share, in
 * the contract's precedence: the `containerRegistry` service connection, then `registryUsername` /
 * `registryPassword`. (`azureSubscription`, an ACR token, goes between the two: one more branch, the
 * reason this is async.) The `registry` input names the registry in every case; a connection supplies
 * it when the input is empty. The password is masked before anything can log it.
 */
export async function registryAccess(agent: Agent): Promise<RegistryAccess> {
  const registry = agent.input('registry');
  const connection = serviceConnection(agent, 'containerRegistry');
  if (connection) {
    // secretInput, never input, for the password: the task library would print it to the debug log.
    const ignored = [agent.input('registryUsername') && 'registryUsername', agent.secretInput('registryPassword') && 'registryPassword'].filter(Boolean);
    if (ignored.length) agent.warn(`${ignored.join(' and ')} ignored: the containerRegistry service connection supplies the credentials.`);
    return masked(agent, {
      registry: registry || connection.data.loginServer || connection.data.registry || connection.url || '',
      credentials: { username: connection.username, password: connection.password },
    });
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
