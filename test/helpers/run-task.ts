import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

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
  /** Files attached with task.uploadsummary, read back. */
  summaries: string[];
  /** argv of every git/docker/podman/buildah child, when `traceChildren` was on. */
  childArgv: string[][];
}

export interface TaskRunOptions {
  /** Task inputs by their task.json name. */
  inputs: Record<string, string | boolean | number | undefined>;
  /** Pipeline variables (e.g. 'Build.BuildId'). */
  variables?: Record<string, string>;
  /** The job access token, given as the agent does: the SystemVssConnection endpoint. */
  accessToken?: string;
  collectionUrl?: string;
  /** Service connections: id -> { url, scheme, parameters, data }. */
  endpoints?: Record<string, { url: string; scheme?: string; parameters: Record<string, string>; data?: Record<string, string> }>;
  cwd?: string;
  /** Extra process environment. */
  env?: Record<string, string>;
  /** Record argv of every child process named here (through PATH shims). */
  traceChildren?: string[];
  /** Run the unbundled tsc output instead of the bundle (for mock runner comparisons). */
  unbundled?: boolean;
}

const variableKey = (name: string) => name.replace(/\./g, '_').toUpperCase();

/**
 * Runs a bundled task the way the agent does: `node tasks/<Name>/index.js` with INPUT_*, variables,
 * ENDPOINT_* for SystemVssConnection and service connections, and parses the ##vso commands it prints.
 */
export async function runTask(task: string, options: TaskRunOptions): Promise<TaskRun> {
  const temp = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-temp-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.homedir(),
    AGENT_TEMPDIRECTORY: temp,
    AGENT_VERSION: '4.248.0',
    SYSTEM_CULTURE: 'en-US',
    SYSTEM_TEAMPROJECT: 'Edge',
    BUILD_BUILDID: '5678',
    BUILD_SOURCESDIRECTORY: options.cwd ?? process.cwd(),
    BUILD_ARTIFACTSTAGINGDIRECTORY: path.join(temp, 'staging'),
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs)) {
    if (value !== undefined) env[`INPUT_${variableKey(name)}`] = String(value);
  }
  for (const [name, value] of Object.entries(options.variables ?? {})) env[variableKey(name)] = value;
  const endpoints = { ...options.endpoints };
  if (options.accessToken !== undefined || options.collectionUrl) {
    endpoints['SystemVssConnection'] = {
      url: options.collectionUrl ?? 'https://dev.azure.com/edge/',
      scheme: 'OAuth',
      parameters: options.accessToken ? { AccessToken: options.accessToken } : {},
    };
  }
  for (const [id, endpoint] of Object.entries(endpoints)) {
    const key = id.toUpperCase();
    env[`ENDPOINT_URL_${key}`] = endpoint.url;
    env[`ENDPOINT_AUTH_${key}`] = JSON.stringify({ scheme: endpoint.scheme ?? 'UsernamePassword', parameters: endpoint.parameters });
    env[`ENDPOINT_AUTH_SCHEME_${key}`] = endpoint.scheme ?? 'UsernamePassword';
    for (const [param, value] of Object.entries(endpoint.parameters)) env[`ENDPOINT_AUTH_PARAMETER_${key}_${param.toUpperCase()}`] = value;
    for (const [param, value] of Object.entries(endpoint.data ?? {})) env[`ENDPOINT_DATA_${key}_${param.toUpperCase()}`] = value;
  }
  const traceLog = path.join(temp, 'argv.log');
  if (options.traceChildren?.length) {
    const shims = path.join(temp, 'shims');
    await fs.mkdir(shims);
    for (const program of options.traceChildren) {
      const real = await which(program, env.PATH);
      if (!real) continue;
      const shim = [
        '#!/usr/bin/env node',
        `require('fs').appendFileSync(${JSON.stringify(traceLog)}, JSON.stringify([${JSON.stringify(program)}, ...process.argv.slice(2)]) + '\\n');`,
        `const r = require('child_process').spawnSync(${JSON.stringify(real)}, process.argv.slice(2), { stdio: 'inherit' });`,
        'process.exit(r.status === null ? 1 : r.status);',
      ].join('\n');
      await fs.writeFile(path.join(shims, program), shim, { mode: 0o755 });
    }
    env.PATH = `${shims}:${env.PATH}`;
  }
  const entry = options.unbundled
    ? path.join(repoRoot, 'build', 'tasks', task, 'index.js')
    : path.join(repoRoot, 'tasks', task, 'index.js');
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [entry], { cwd: options.cwd ?? repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (c) => resolve({ code: c ?? 1, stdout: out, stderr: err }));
  });
  const outputs: Record<string, string> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  const summaries: string[] = [];
  let result: TaskRun['result'];
  let message = '';
  for (const line of stdout.split(/\r?\n/)) {
    const match = /##vso\[([\w.]+)([^\]]*)\](.*)$/.exec(line);
    if (!match) continue;
    const [, command, props, value] = match;
    const prop = (name: string) => new RegExp(`[ ;]${name}=([^;]*)`).exec(props)?.[1];
    if (command === 'task.setvariable' && prop('isOutput') === 'true') outputs[prop('variable') ?? ''] = unescape(value);
    // task.issue from tl.error/warning/setResult, task.logissue from tl.logIssue (with sourcepath/linenumber).
    else if ((command === 'task.issue' || command === 'task.logissue') && prop('type') === 'error') errors.push(unescape(value));
    else if ((command === 'task.issue' || command === 'task.logissue') && prop('type') === 'warning') warnings.push(unescape(value));
    else if (command === 'task.uploadsummary') summaries.push(await fs.readFile(value, 'utf8'));
    else if (command === 'task.complete') {
      result = prop('result') as TaskRun['result'];
      message = unescape(value);
    }
  }
  let childArgv: string[][] = [];
  try {
    childArgv = (await fs.readFile(traceLog, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]);
  } catch {
    childArgv = [];
  }
  return { code, stdout, stderr, outputs, result, message, errors, warnings, summaries, childArgv };
}

function unescape(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%3B/g, ';').replace(/%25/g, '%');
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
