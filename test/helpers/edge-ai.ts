import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../shared/process';
import { repoRoot } from './run-task';

/**
 * The situation a team moving from the original edge-ai scripts is in, rebuilt from
 * `test/fixtures/edge-ai/` (see its README): an app repository whose services are tagged by folder name
 * (`broker/0.1.0`), and a GitOps repository whose environments pin `edgeacr.azurecr.io/<folder>:X.Y.Z`.
 */

export const EDGE_AI = path.join(repoRoot, 'test', 'fixtures', 'edge-ai');
/** The registry host the GitOps fixture names. */
export const EDGE_AI_REGISTRY = 'edgeacr.azurecr.io';

/** One service of the app fixture: folder (= image and tag name in the original scripts), package, version, path. */
export interface EdgeAiService {
  folder: string;
  packageName: string;
  version: string;
  /** Relative to the app root. */
  path: string;
  /** The build context the Dockerfile needs, relative to the app root (undefined: no image). */
  context?: string;
}

const APPS = 'src/500-application';
export const EDGE_AI_SERVICES: readonly EdgeAiService[] = [
  { folder: 'sender', packageName: 'sender', version: '0.1.0', path: `${APPS}/501-rust-telemetry/services/sender`, context: `${APPS}/501-rust-telemetry/services/sender` },
  { folder: 'receiver', packageName: 'receiver', version: '0.1.0', path: `${APPS}/501-rust-telemetry/services/receiver`, context: `${APPS}/501-rust-telemetry/services/receiver` },
  { folder: 'broker', packageName: 'http-connector', version: '0.1.0', path: `${APPS}/502-rust-http-connector/services/broker`, context: `${APPS}/502-rust-http-connector` },
  { folder: 'subscriber', packageName: 'subscriber', version: '0.1.0', path: `${APPS}/502-rust-http-connector/services/subscriber`, context: `${APPS}/502-rust-http-connector` },
  { folder: 'ai-edge-inference', packageName: 'ai-edge-mqtt-publisher', version: '0.2.0', path: `${APPS}/507-ai-inference/services/ai-edge-inference`, context: `${APPS}/507-ai-inference/services` },
  { folder: 'ai-edge-inference-crate', packageName: 'ai-edge-inference-crate', version: '0.2.0', path: `${APPS}/507-ai-inference/services/ai-edge-inference-crate` },
];

const ENV = {
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

export async function git(dir: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd: dir, env: ENV })).stdout.trim();
}

export interface FixtureRepo {
  dir: string;
  git(...args: string[]): Promise<string>;
  /** Writes files (path -> content, relative to the repository) and commits them; returns the new HEAD. */
  commit(files: Record<string, string>, message: string): Promise<string>;
}

async function repoFrom(source: string, prefix: string, edit?: (text: string) => string): Promise<FixtureRepo> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.cp(source, dir, { recursive: true });
  if (edit) {
    for (const file of await fs.readdir(dir, { recursive: true, encoding: 'utf8' })) {
      const full = path.join(dir, file);
      if (!(await fs.stat(full)).isFile()) continue;
      const text = await fs.readFile(full, 'utf8');
      const edited = edit(text);
      if (edited !== text) await fs.writeFile(full, edited);
    }
  }
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'As the original scripts left it');
  const repo: FixtureRepo = {
    dir,
    git: (...args) => git(dir, ...args),
    async commit(files, message) {
      for (const [file, content] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await fs.writeFile(path.join(dir, file), content);
      }
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '-q', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
  };
  return repo;
}

/**
 * The app fixture as a git repository on `main` with one commit, tagged as `scripts/tag-rust-components.sh`
 * tagged it: an annotated `<folder>/<version>` tag ("Tag <folder> <version>") per service (default: every
 * service of EDGE_AI_SERVICES).
 */
export async function edgeAiApp(options: { legacyTags?: readonly EdgeAiService[] } = {}): Promise<FixtureRepo> {
  const repo = await repoFrom(path.join(EDGE_AI, 'app'), 'edge-ai-app-');
  for (const service of options.legacyTags ?? EDGE_AI_SERVICES) {
    await repo.git('tag', '-a', `${service.folder}/${service.version}`, '-m', `Tag ${service.folder} ${service.version}`);
  }
  return repo;
}

/** The GitOps fixture as a git repository on `main`, its images on `registry` (default the fixture's edgeacr.azurecr.io). */
export async function edgeAiGitops(registry = EDGE_AI_REGISTRY): Promise<FixtureRepo> {
  const edit = registry === EDGE_AI_REGISTRY ? undefined : (text: string) => text.split(`${EDGE_AI_REGISTRY}/`).join(`${registry}/`);
  return repoFrom(path.join(EDGE_AI, 'gitops'), 'edge-ai-gitops-', edit);
}

/** A service by its folder name. */
export function edgeAiService(folder: string): EdgeAiService {
  const service = EDGE_AI_SERVICES.find((s) => s.folder === folder);
  if (!service) throw new Error(`no service ${folder} in the edge-ai fixture`);
  return service;
}
