import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../shared/process';
import { OUTSIDE, type FileSpec } from './corpus';

/** What the sentinel folder beside every repository holds: what a `..` or a symlink would reach. */
export const SENTINEL: Record<string, string> = {
  'Cargo.toml': '[workspace]\nmembers = ["crate"]\n',
  'crate/Cargo.toml': '[package]\nname = "outsider"\nversion = "6.6.6"\n',
  'crate/src/lib.rs': '',
  'etc/passwd': 'root:x:0:0:root:/root:/bin/bash\n',
  'versions.yaml': 'schemaVersion: 1\nenvironments:\n  prod:\n    outsider:\n      image: evil.example.com/outsider\n      tag: v6.6.6\n',
  'overlay/kustomization.yaml': 'images:\n  - name: outsider\n    newTag: v6.6.6\n',
};

/**
 * A folder holding a sentinel directory (`outside`, what `..` paths and symlinks of hostile inputs
 * point at) and, one at a time, the repositories the cases run in. `verify()` proves nothing was
 * written outside the repository: the sentinel is byte for byte as it was and no other entry appeared.
 */
export class Sandbox {
  private initial = '';
  private count = 0;

  private constructor(readonly base: string) {}

  get outside(): string {
    return path.join(this.base, 'outside');
  }

  static async create(sentinel: Record<string, string>): Promise<Sandbox> {
    const sandbox = new Sandbox(await fs.mkdtemp(path.join(os.tmpdir(), 'hostile-')));
    await fs.mkdir(path.join(sandbox.base, 'home'));
    await writeFiles(sandbox.outside, sentinel, sandbox.outside);
    sandbox.initial = await snapshot(sandbox.outside);
    return sandbox;
  }

  /** A new folder for one case's repository (`repo-N`), with `files` written into it. */
  async repo(files: Record<string, FileSpec>): Promise<string> {
    const dir = path.join(this.base, `repo-${++this.count}`);
    await fs.mkdir(dir);
    await writeFiles(dir, files, this.outside);
    return dir;
  }

  /**
   * A git working copy of `files`, all committed unless `commit` is false (FIFOs are made after the
   * commit: git cannot add them). No hook templates: nothing but git itself runs.
   */
  async gitRepo(files: Record<string, FileSpec>, commit = true): Promise<string> {
    const plain = Object.fromEntries(Object.entries(files).filter(([, spec]) => !isFifo(spec)));
    const dir = await this.repo(plain);
    const env = { HOME: path.join(this.base, 'home'), GIT_CONFIG_NOSYSTEM: '1' };
    const git = (...args: string[]) => run('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { cwd: dir, env });
    await git('init', '--quiet', '--template=', '--initial-branch=main');
    if (commit) {
      await git('add', '-A');
      await git('commit', '--quiet', '--allow-empty', '-m', 'hostile case');
    }
    for (const [file, spec] of Object.entries(files)) {
      if (!isFifo(spec)) continue;
      await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await run('mkfifo', [path.join(dir, file)]);
    }
    return dir;
  }

  /** Throws unless the sentinel is unchanged and the base holds only it, `home` and the live repositories. */
  async verify(live: string[] = []): Promise<void> {
    const now = await snapshot(this.outside);
    if (now !== this.initial) throw new Error(`a file outside the repository changed:\n${diff(this.initial, now)}`);
    const entries = (await fs.readdir(this.base)).sort();
    const expected = ['home', 'outside', ...live.map((dir) => path.basename(dir))].sort();
    const unexpected = entries.filter((entry) => !expected.includes(entry));
    if (unexpected.length) throw new Error(`written beside the repository: ${unexpected.join(', ')}`);
    const home = await fs.readdir(path.join(this.base, 'home'));
    if (home.length) throw new Error(`files written into HOME: ${home.join(', ')}`);
  }

  async remove(dir: string): Promise<void> {
    await fs.rm(dir, { recursive: true, force: true });
  }

  async dispose(): Promise<void> {
    await fs.rm(this.base, { recursive: true, force: true });
  }
}

function isFifo(spec: FileSpec): spec is { fifo: true } {
  return typeof spec === 'object' && !Buffer.isBuffer(spec) && 'fifo' in spec;
}

export async function writeFiles(dir: string, files: Record<string, FileSpec | string>, outside: string): Promise<void> {
  for (const [file, spec] of Object.entries(files)) {
    const target = path.join(dir, file);
    await fs.mkdir(path.dirname(target), { recursive: true });
    if (typeof spec === 'function') await fs.writeFile(target, spec());
    else if (typeof spec === 'string' || Buffer.isBuffer(spec)) await fs.writeFile(target, spec);
    else if ('symlink' in spec) await fs.symlink(spec.symlink.split(OUTSIDE).join(outside), target);
    else await run('mkfifo', [target]);
  }
}

/**
 * Every entry under `dir` (not following symlinks; `skip`: relative paths left out): type, mode, size, a hash of the content or the
 * link target, and mtime; one line each, sorted.
 */
export async function snapshot(dir: string, skip: string[] = []): Promise<string> {
  const lines: string[] = [];
  const visit = async (current: string): Promise<void> => {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (skip.includes(path.relative(dir, full))) continue;
      const stat = await fs.lstat(full);
      const rel = path.relative(dir, full);
      if (entry.isSymbolicLink()) lines.push(`${rel} link ${await fs.readlink(full)}`);
      else if (entry.isDirectory()) {
        lines.push(`${rel} dir ${stat.mode.toString(8)}`);
        await visit(full);
      } else if (entry.isFile()) {
        const hash = createHash('sha256').update(await fs.readFile(full)).digest('hex');
        lines.push(`${rel} file ${stat.mode.toString(8)} ${stat.size} ${hash} ${stat.mtimeMs}`);
      } else lines.push(`${rel} other ${stat.mode.toString(8)}`);
    }
  };
  await visit(dir);
  return lines.sort().join('\n');
}

function diff(before: string, after: string): string {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  return [...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`), ...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`)].join('\n');
}
