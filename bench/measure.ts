import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../shared/process';
import { missingTools, missingToolsMessage } from '../test/helpers/requires';

/** Milliseconds `body` takes (wall clock), with its result. */
export async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await body();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (ms: number): number => Math.round(ms);

/** Throws, naming the missing programs, unless all of `tools` are installed: the scenario is then reported as not run. */
export async function requireTools(...tools: string[]): Promise<void> {
  const missing = await missingTools(tools);
  if (missing.length) throw new Error(missingToolsMessage(missing));
}

/** "load 5.2 on 2 cores": timings on a shared machine are read against this. */
export function machineLoad(): string {
  return `load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`;
}

/** Writes files (relative path -> content) under `root`, creating folders. */
export async function writeTree(root: string, files: Iterable<[string, string]>): Promise<void> {
  const list = [...files];
  const dirs = new Set(list.map(([file]) => path.dirname(path.join(root, file))));
  await Promise.all([...dirs].map((dir) => fs.mkdir(dir, { recursive: true })));
  await Promise.all(list.map(([file, content]) => fs.writeFile(path.join(root, file), content)));
}

/** A fixed identity and no global or system config: git behaves the same on every machine. */
export function gitEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

/** `git init` + add + commit of `files` in `dir` (created); returns the commit. */
export async function commitTree(dir: string, files: Iterable<[string, string]>, env: Record<string, string>): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const git = (...args: string[]) => run('git', args, { cwd: dir, env });
  await git('init', '--quiet', '--initial-branch=main');
  await writeTree(dir, files);
  await git('add', '-A');
  await git('commit', '--quiet', '-m', 'bench fixture');
  return (await git('rev-parse', 'HEAD')).stdout.trim();
}

/** A fresh temporary folder, removed after `body`. */
export async function inTemp<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
