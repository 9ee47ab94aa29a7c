import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../shared/process';
import type { GitServer } from '../../stand-ins/git-server';

/** A Rust app repository: a bare repo on the test git server and a working copy cloned from it. */
export interface AppRepo {
  /** The working copy (cloned with the plain URL: no credentials in it). */
  work: string;
  /** The server's bare repository. */
  bare: string;
  url: string;
  /** An empty HOME: git has no global config, no identity, no credential helper. */
  home: string;
  /** git in `dir`, authenticated through the environment, with a fixed test identity. */
  git(dir: string, ...args: string[]): Promise<string>;
  /** Writes files (path -> content) into the working copy and commits them; returns the new HEAD. */
  commit(files: Record<string, string>, message: string): Promise<string>;
  /** refs/tags of the working copy and of the remote: `name object` lines. */
  tagState(): Promise<{ local: string; remote: string }>;
}

/**
 * A workspace of two members (one inheriting the workspace version, one explicit) and a standalone
 * crate without a version, committed and pushed to `main`, then cloned into a fresh directory.
 */
export const RUST_APP: Record<string, string> = {
  'services/Cargo.toml': '[workspace]\nmembers = ["heuristic", "http-connector"]\nresolver = "2"\n\n[workspace.package]\nversion = "1.4.2"\nedition = "2021"\n',
  'services/heuristic/Cargo.toml': '[package]\nname = "heuristic"\nversion.workspace = true\nedition.workspace = true\n',
  'services/heuristic/src/main.rs': 'fn main() {}\n',
  // The folder name differs from the package name: tags must use the package name.
  'services/http-connector/Cargo.toml': '[package]\nname = "edge-http-connector"\nversion = "0.3.1"\nedition = "2021"\n',
  'services/http-connector/src/main.rs': 'fn main() {}\n',
  'tools/cli/Cargo.toml': '[package]\nname = "edgectl"\nedition = "2021"\n',
  'tools/cli/src/main.rs': 'fn main() {}\n',
  'README.md': '# app\n',
};

export async function createAppRepo(server: GitServer, name: string, files: Record<string, string> = RUST_APP): Promise<AppRepo> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), `app-${name}-`));
  const home = path.join(base, 'home');
  await fs.mkdir(home);
  const bare = await server.createRepo(name);
  const url = server.repoUrl(name);
  const env = {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraheader',
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: bearer ${server.token}`,
    GIT_AUTHOR_NAME: 'Dev',
    GIT_AUTHOR_EMAIL: 'dev@example.com',
    GIT_COMMITTER_NAME: 'Dev',
    GIT_COMMITTER_EMAIL: 'dev@example.com',
    GIT_TERMINAL_PROMPT: '0',
  };
  const git = async (dir: string, ...args: string[]) => (await run('git', args, { cwd: dir, env })).stdout.trim();

  const seed = path.join(base, 'seed');
  await fs.mkdir(seed);
  await git(seed, 'init', '--quiet', '--initial-branch=main');
  await write(seed, files);
  await git(seed, 'add', '-A');
  await git(seed, 'commit', '--quiet', '-m', 'Initial services');
  await git(seed, 'remote', 'add', 'origin', url);
  await git(seed, 'push', '--quiet', 'origin', 'main');

  const work = path.join(base, 'work');
  await git(base, 'clone', '--quiet', url, work);

  const refs = async (dir: string) => git(dir, 'for-each-ref', '--format=%(refname:strip=2) %(objectname)', 'refs/tags');
  return {
    work,
    bare,
    url,
    home,
    git,
    async commit(changes, message) {
      await write(work, changes);
      await git(work, 'add', '-A');
      await git(work, 'commit', '--quiet', '-m', message);
      return git(work, 'rev-parse', 'HEAD');
    },
    async tagState() {
      return { local: await refs(work), remote: await refs(bare) };
    },
  };
}

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, content);
  }
}
