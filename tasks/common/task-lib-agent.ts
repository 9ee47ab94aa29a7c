import * as tl from 'azure-pipelines-task-lib/task';
import { _getVariableKey, _vault } from 'azure-pipelines-task-lib/internal';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runWithAgent, type Agent, type ServiceConnection, type SourceLocation } from '../../shared/agent';

/**
 * The task.json beside the running script; the unbundled tsc output (build/tasks/<Task>/index.js,
 * which mock-runner tests load) has none beside it, so fall back to the source tasks/<Task>/task.json.
 */
function taskJson(taskDir: string): string {
  const beside = path.join(taskDir, 'task.json');
  if (existsSync(beside)) return beside;
  const source = path.resolve(taskDir, '..', '..', '..', 'tasks', path.basename(taskDir), 'task.json');
  return existsSync(source) ? source : beside;
}

/**
 * A log line the agent shows as it is: a `##vso[` anywhere in a line is a command to the agent, and a
 * `##[` formats the line (a group, an error), so text from elsewhere (a builder's output, a file) has
 * them defused, as the agent itself does (`**vso`).
 */
export function inert(text: string): string {
  return text.replace(/##(vso\[|\[)/gi, '**$1');
}

/** Authorization parameters that hold a secret (lower case), masked as they are read. */
const SECRET_PARAMETERS = ['password', 'apitoken', 'serviceprincipalkey', 'serviceprincipalcertificate', 'accesstoken'];
/** The data fields tasks read: a Docker registry's, an Azure Resource Manager connection's cloud. */
const ENDPOINT_DATA = ['registry', 'registrytype', 'loginServer', 'environmentAuthorityUrl', 'activeDirectoryAuthority', 'msiclientId'];

/** The Agent interface over azure-pipelines-task-lib: the only place that talks to the agent. */
export class TaskLibAgent implements Agent {
  private scratch?: string;

  constructor(taskDir: string) {
    tl.setResourcePath(taskJson(taskDir));
  }

  input(name: string): string {
    return (tl.getInput(name, false) ?? '').trim();
  }

  secretInput(name: string): string {
    // tl.getInput prints every value to the debug log: read the vault directly and mask first.
    const value = (_vault.retrieveSecret(`INPUT_${_getVariableKey(name)}`) ?? '').trim();
    if (value) tl.setSecret(value);
    return value;
  }

  variable(name: string): string | undefined {
    return tl.getVariable(name) || undefined;
  }

  accessToken(): string | undefined {
    // Not getEndpointAuthorizationParameter: task-lib echoes that value into a debug line before anyone can mask it.
    const token =
      tl.getEndpointAuthorization('SystemVssConnection', true)?.parameters?.['AccessToken'] || tl.getVariable('System.AccessToken');
    if (token) tl.setSecret(token);
    return token || undefined;
  }

  collectionUrl(): string | undefined {
    return tl.getEndpointUrl('SYSTEMVSSCONNECTION', true) || tl.getVariable('System.CollectionUri') || undefined;
  }

  endpoint(id: string): ServiceConnection | undefined {
    const url = tl.getEndpointUrl(id, true);
    const auth = tl.getEndpointAuthorization(id, true);
    if (!url && !auth) return undefined;
    // Parameter keys differ in case between connection types (username/password for Docker registries,
    // servicePrincipalId/servicePrincipalKey and loginServer for Azure Container Registry ones).
    const parameters = Object.fromEntries(Object.entries(auth?.parameters ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    for (const key of SECRET_PARAMETERS) if (parameters[key]) tl.setSecret(parameters[key]);
    const username = parameters['username'] ?? parameters['registryid'] ?? parameters['serviceprincipalid'];
    const password = parameters['password'] ?? parameters['apitoken'] ?? parameters['serviceprincipalkey'];
    const data: Record<string, string> = {};
    for (const key of ENDPOINT_DATA) {
      const value = tl.getEndpointDataParameter(id, key, true) || parameters[key.toLowerCase()];
      if (value) data[key] = value;
    }
    return { url: url || data['loginServer'] || data['registry'], username, password, data, scheme: auth?.scheme, parameters };
  }

  debug(message: string): void {
    tl.debug(message);
  }

  info(message: string): void {
    console.log(inert(message));
  }

  group(title: string): void {
    console.log(`##[group]${inert(title).replace(/[\r\n]+/g, ' ')}`);
  }

  endGroup(): void {
    console.log('##[endgroup]');
  }

  progress(percent: number, message: string): void {
    tl.setProgress(Math.max(0, Math.min(100, Math.round(percent))), message);
  }

  warn(message: string, where?: SourceLocation): void {
    tl.logIssue(tl.IssueType.Warning, message, where?.file, where?.line);
  }

  error(message: string, where?: SourceLocation): void {
    tl.logIssue(tl.IssueType.Error, message, where?.file, where?.line);
  }

  setSecret(value: string): void {
    if (value) tl.setSecret(value);
  }

  setOutput(name: string, value: string): void {
    tl.setVariable(name, value, false, true);
  }

  summary(title: string, markdown: string): string {
    const file = path.join(this.tempDir(), `${title.replace(/[^A-Za-z0-9]+/g, '-')}.md`);
    writeFileSync(file, markdown);
    tl.uploadSummary(file);
    return file;
  }

  tempDir(): string {
    if (!this.scratch) {
      const base = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
      this.scratch = mkdtempSync(path.join(base, 'rust-gitops-'));
    }
    return this.scratch;
  }

  succeed(message = 'Done'): void {
    tl.setResult(tl.TaskResult.Succeeded, message);
  }

  fail(message: string): void {
    // Not tl.setResult: it would log the message as a second error issue.
    tl.command('task.complete', { result: 'Failed' }, message);
  }
}

/** A task's entry point: runs `body` on the agent over task-lib (see runWithAgent). */
export async function runTask(taskDir: string, body: (agent: Agent) => Promise<string | void>): Promise<void> {
  await runWithAgent(new TaskLibAgent(taskDir), body);
}
