import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export type OutputStream = 'stdout' | 'stderr';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface RunOptions {
  cwd?: string;
  /** Added to (or, with `null`, removed from) the parent's environment. */
  env?: Record<string, string | null>;
  /** Written to the child's stdin, then closed: how secrets reach a child without touching argv. */
  input?: string | Buffer;
  /** Non-zero exit is returned instead of thrown. */
  allowFailure?: boolean;
  /**
   * Receives the output line by line as the child writes it (without the line break; a line a
   * carriage return rewrote is its last version). The output is then not collected: `stdout` and
   * `stderr` of the result are empty, so a long build's output is never held in memory.
   */
  onLine?: (stream: OutputStream, line: string) => void;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Calls `onLine` with each complete line read from `source`; `flush` hands over a last unterminated one. */
function lineReader(source: Readable, onLine: (line: string) => void): { flush(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (line: string) => onLine(line.replace(/\r+$/, '').split('\r').pop()!);
  source.on('data', (chunk: Buffer) => {
    const lines = (pending + decoder.write(chunk)).split('\n');
    pending = lines.pop()!;
    lines.forEach(emit);
  });
  return {
    flush() {
      pending += decoder.end();
      if (pending) emit(pending);
      pending = '';
    },
  };
}

/** Runs a program directly (never through a shell) and collects its output, or streams it to `onLine`. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === null) delete env[key];
    else env[key] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const { onLine } = options;
    const readers = onLine
      ? [lineReader(child.stdout, (line) => onLine('stdout', line)), lineReader(child.stderr, (line) => onLine('stderr', line))]
      : [];
    if (!onLine) {
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    }
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error(`'${command}' was not found on PATH: install it on the agent`) : error),
    );
    child.on('close', (code) => {
      readers.forEach((reader) => reader.flush());
      const result = { code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (result.code !== 0 && !options.allowFailure) {
        const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
        reject(new Error(`${command} ${args[0] ?? ''} failed (exit ${result.code})${detail ? `: ${detail}` : ''}`));
      } else resolve(result);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The path of `program` in a folder of PATH, or undefined when it is not installed there. */
export async function findOnPath(program: string, searchPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, program);
    if (await fs.access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}
