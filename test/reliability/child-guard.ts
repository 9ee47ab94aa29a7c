import { appendFileSync } from 'node:fs';
// The module object itself (not an import-star copy), so that the wrappers are what every caller gets.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import childProcess = require('node:child_process');

/**
 * Records every child process a Node process starts, and whether it went through a shell. Used in
 * process by the library-level reliability tests, and loaded into a bundled task with
 * `NODE_OPTIONS=--require <this file>` and RELIABILITY_CHILD_LOG=<file> (one JSON line per call).
 */

export interface ChildCall {
  /** The child_process function called. */
  api: string;
  command: string;
  args: string[];
  /** Whether the command line went through a shell (always for exec/execSync). */
  shell: boolean;
}

type Api = 'spawn' | 'spawnSync' | 'exec' | 'execSync' | 'execFile' | 'execFileSync' | 'fork';
const APIS: Api[] = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'];

function describeCall(api: Api, params: unknown[]): ChildCall {
  const [command, second, third] = params;
  const args = Array.isArray(second) ? second.map(String) : [];
  const options = (Array.isArray(second) ? third : second) as { shell?: unknown } | undefined;
  const viaShell = api === 'exec' || api === 'execSync' || !!(options && typeof options === 'object' && options.shell);
  return { api, command: String(command), args, shell: viaShell };
}

/** Wraps the child_process functions; returns the function that puts the originals back. */
export function guardChildProcesses(record: (call: ChildCall) => void): () => void {
  const target = childProcess as unknown as Record<Api, (...params: unknown[]) => unknown>;
  const originals = new Map<Api, (...params: unknown[]) => unknown>();
  for (const api of APIS) {
    const original = target[api];
    originals.set(api, original);
    target[api] = function (this: unknown, ...params: unknown[]) {
      record(describeCall(api, params));
      return original.apply(this, params);
    };
  }
  return () => {
    for (const [api, original] of originals) target[api] = original;
  };
}

/** Reads a log written by the preloaded guard. */
export function parseChildLog(text: string): ChildCall[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ChildCall);
}

const log = process.env.RELIABILITY_CHILD_LOG;
if (log) guardChildProcesses((call) => appendFileSync(log, `${JSON.stringify({ pid: process.pid, ...call })}\n`));
