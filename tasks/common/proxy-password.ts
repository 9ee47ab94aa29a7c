/**
 * The agent's proxy password, taken out of the environment before azure-pipelines-task-lib loads:
 * task-lib reads Agent.ProxyPassword as it loads (internal._exposeProxySettings, through _getVariable,
 * which prints every value it reads in a debug line) and would put it on the task's stdout before
 * anything could mask it. Imported by task-lib-agent.ts ahead of task-lib; TaskLibAgent.network() reads it here.
 * The agent hands it over as a secret variable (SECRET_AGENT_PROXYPASSWORD), or a public one on older agents.
 */
export const proxyPassword: string | undefined = take('SECRET_AGENT_PROXYPASSWORD') ?? take('AGENT_PROXYPASSWORD');

function take(key: string): string | undefined {
  const value = process.env[key];
  delete process.env[key];
  return value || undefined;
}
