import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Runs a task of this extension on this machine the way the Azure Pipelines agent does: inputs as
 * INPUT_* (defaults from task.json, `$(Variable)` macros expanded), variables, the SystemVssConnection
 * endpoint carrying the job token, service connections as ENDPOINT_*, then `node index.js`, and reads
 * back the ##vso logging commands it printed.
 */

export const repoRoot = path.resolve(__dirname, '..', '..');

export interface TaskRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Output variables set with isOutput=true. */
  outputs: Record<string, string>;
  result: 'Succeeded' | 'SucceededWithIssues' | 'Failed' | undefined;
  /** The message of the final task.complete command. */
  message: string;
  errors: string[];
  warnings: string[];
  /** Every error and warning issue with the file and line it names (task.logissue's sourcepath and linenumber). */
  issues: Array<{ type: 'error' | 'warning'; message: string; file?: string; line?: number }>;
  /** Files attached with task.uploadsummary, read back. */
  summaries: string[];
  /** argv of every traced child process (see `traceChildren`). */
  childArgv: string[][];
}

export interface Endpoint {
  url: string;
  scheme?: string;
  parameters: Record<string, string>;
  data?: Record<string, string>;
}

export interface TaskRunOptions {
  /** Task inputs by their task.json name; unset inputs take the task.json default, as on the agent. */
  inputs: Record<string, string | boolean | number | undefined>;
  /** Pipeline variables (e.g. 'Build.BuildId', or the agent's proxy settings 'Agent.ProxyUrl'). */
  variables?: Record<string, string>;
  /** Secret variables, handed over as the agent does (SECRET_* and VSTS_SECRET_VARIABLES), e.g. 'Agent.ProxyPassword'. */
  secretVariables?: Record<string, string>;
  /** The job access token, given as the agent does: the SystemVssConnection endpoint. */
  accessToken?: string;
  collectionUrl?: string;
  /** Service connections by id. */
  endpoints?: Record<string, Endpoint>;
  cwd?: string;
  /** Extra process environment. */
  env?: Record<string, string>;
  /** Record argv of every child process named here (through PATH shims). */
  traceChildren?: string[];
  /** Run the unbundled tsc output instead of the bundle. */
  unbundled?: boolean;
  /** Each line the task prints, as it prints it. */
  onLine?: (line: string) => void;
}

interface TaskJson {
  inputs?: Array<{ name: string; defaultValue?: string; aliases?: string[] }>;
}

const variableKey = (name: string) => name.replace(/[.\s]/g, '_').toUpperCase();

export function readTaskJson(task: string): TaskJson {
  return JSON.parse(readFileSync(path.join(repoRoot, 'tasks', task, 'task.json'), 'utf8')) as TaskJson;
}

/** Expands `$(Name)` macros from variables, leaving unknown ones as the agent does. */
export function expandMacros(value: string, variables: Record<string, string>): string {
  const lookup = new Map(Object.entries(variables).map(([k, v]) => [k.toLowerCase(), v]));
  return value.replace(/\$\(([^)]+)\)/g, (whole, name: string) => lookup.get(name.trim().toLowerCase()) ?? whole);
}

export async function runTask(task: string, options: TaskRunOptions): Promise<TaskRun> {
  const temp = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-temp-'));
  const cwd = options.cwd ?? process.cwd();
  const variables: Record<string, string> = {
    'Agent.TempDirectory': temp,
    'Agent.Version': '4.248.0',
    'System.Culture': 'en-US',
    'System.TeamProject': 'Edge',
    'System.DefaultWorkingDirectory': cwd,
    'Build.BuildId': '5678',
    'Build.SourcesDirectory': cwd,
    'Build.ArtifactStagingDirectory': path.join(temp, 'staging'),
    ...options.variables,
  };
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), ...options.env };
  for (const [name, value] of Object.entries(variables)) env[variableKey(name)] = value;
  const secrets = Object.entries(options.secretVariables ?? {});
  for (const [name, value] of secrets) env[`SECRET_${variableKey(name)}`] = value;
  if (secrets.length) env.VSTS_SECRET_VARIABLES = JSON.stringify(secrets.map(([name]) => name));
  const given = new Map(Object.entries(options.inputs).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
  for (const input of readTaskJson(task).inputs ?? []) {
    const alias = [input.name, ...(input.aliases ?? [])].find((n) => given.has(n));
    const value = alias !== undefined ? given.get(alias)! : input.defaultValue;
    if (alias !== undefined) given.delete(alias);
    if (value !== undefined && value !== '') env[`INPUT_${variableKey(input.name)}`] = expandMacros(value, variables);
  }
  for (const [name, value] of given) env[`INPUT_${variableKey(name)}`] = expandMacros(value, variables);
  const endpoints = { ...options.endpoints };
  if (options.accessToken !== undefined || options.collectionUrl) {
    endpoints['SystemVssConnection'] = {
      url: options.collectionUrl ?? 'https://dev.azure.com/edge/',
      scheme: 'OAuth',
      parameters: options.accessToken ? { AccessToken: options.accessToken } : {},
    };
  }
  for (const [id, endpoint] of Object.entries(endpoints)) {
    // The agent keys a connection by its id as it is (task-lib reads ENDPOINT_URL_<id> and ENDPOINT_DATA_<id>_<KEY>
    // from the environment, case-sensitively), and the job's own connection as SYSTEMVSSCONNECTION.
    const key = id === 'SystemVssConnection' ? id.toUpperCase() : id;
    env[`ENDPOINT_URL_${key}`] = endpoint.url;
    env[`ENDPOINT_AUTH_${key}`] = JSON.stringify({ scheme: endpoint.scheme ?? 'UsernamePassword', parameters: endpoint.parameters });
    env[`ENDPOINT_AUTH_SCHEME_${key}`] = endpoint.scheme ?? 'UsernamePassword';
    for (const [param, value] of Object.entries(endpoint.parameters)) env[`ENDPOINT_AUTH_PARAMETER_${key}_${param.toUpperCase()}`] = value;
    for (const [param, value] of Object.entries(endpoint.data ?? {})) env[`ENDPOINT_DATA_${key}_${param.toUpperCase()}`] = value;
  }
  const traceLog = path.join(temp, 'argv.log');
  if (options.traceChildren?.length) env.PATH = `${await writeShims(path.join(temp, 'shims'), options.traceChildren, traceLog, env.PATH)}:${env.PATH}`;
  const entry = path.join(repoRoot, ...(options.unbundled ? ['build', 'tasks', task, 'index.js'] : ['tasks', task, 'index.js']));
  const { code, stdout, stderr } = await spawnTask(entry, cwd, env, options.onLine);
  const run = await parseCommands(stdout);
  let childArgv: string[][];
  try {
    childArgv = (await fs.readFile(traceLog, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
  } catch {
    childArgv = [];
  }
  return { code, stdout, stderr, childArgv, ...run };
}

function spawnTask(entry: string, cwd: string, env: Record<string, string>, onLine?: (line: string) => void) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let pending = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!onLine) return;
      const lines = (pending + c.toString()).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (c) => {
      if (onLine && pending) onLine(pending);
      resolve({ code: c ?? 1, stdout: out, stderr: err });
    });
  });
}

async function parseCommands(stdout: string) {
  const outputs: Record<string, string> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  const summaries: string[] = [];
  const issues: TaskRun['issues'] = [];
  let result: TaskRun['result'];
  let message = '';
  for (const line of stdout.split(/\r?\n/)) {
    const match = /##vso\[([\w.]+)([^\]]*)\](.*)$/.exec(line);
    if (!match) continue;
    const [, command, props, value] = match;
    const prop = (name: string) => new RegExp(`[ ;]${name}=([^;]*)`).exec(props)?.[1];
    if (command === 'task.setvariable' && prop('isOutput') === 'true') outputs[prop('variable') ?? ''] = unescapeValue(value);
    // task.issue comes from tl.error/warning/setResult, task.logissue from tl.logIssue (with sourcepath/linenumber).
    else if ((command === 'task.issue' || command === 'task.logissue') && (prop('type') === 'error' || prop('type') === 'warning')) {
      const type = prop('type') as 'error' | 'warning';
      (type === 'error' ? errors : warnings).push(unescapeValue(value));
      const file = prop('sourcepath');
      const line = prop('linenumber');
      issues.push({ type, message: unescapeValue(value), ...(file ? { file: unescapeValue(file) } : {}), ...(line ? { line: Number(line) } : {}) });
    }
    else if (command === 'task.uploadsummary') summaries.push(await fs.readFile(value, 'utf8'));
    else if (command === 'task.complete') {
      result = prop('result') as TaskRun['result'];
      message = unescapeValue(value);
    }
  }
  return { outputs, result, message, errors, warnings, issues, summaries };
}

function unescapeValue(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%3B/g, ';').replace(/%25/g, '%');
}

/** PATH shims that log each call's argv as a JSON line, then run the real program. */
async function writeShims(dir: string, programs: string[], log: string, searchPath: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (const program of programs) {
    const real = await which(program, searchPath);
    if (!real) continue;
    const shim = [
      '#!/usr/bin/env node',
      `require('fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify([${JSON.stringify(program)}, ...process.argv.slice(2)]) + '\\n');`,
      `const r = require('child_process').spawnSync(${JSON.stringify(real)}, process.argv.slice(2), { stdio: 'inherit' });`,
      'process.exit(r.status === null ? 1 : r.status);',
    ].join('\n');
    await fs.writeFile(path.join(dir, program), shim, { mode: 0o755 });
  }
  return dir;
}

async function which(program: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(dir, program);
    try {
      await fs.access(candidate, 1);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}
