import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../shared/process';
import { gitHttpBackend } from '../http-backend';
import { type Area, list } from './http';
import type { Repo, Store } from './store';

/**
 * Git repositories: the REST resources (repositories, refs) and the repositories themselves, bare on
 * disk, served over smart HTTP at `<collection>/<project>/_git/<repo>` by `git http-backend`.
 */

/** GET <project>/_apis/git/repositories/{repo} and .../refs?filter=. */
export function gitArea(store: Store): Area {
  return async ({ method, project, path: p, query }) => {
    if (p[0] !== 'git' || p[1] !== 'repositories' || method !== 'GET') return undefined;
    const sub = p.slice(3);
    if (sub.length === 0) return { status: 200, body: store.repoJson(store.repository(project, p[2])) };
    if (sub[0] === 'refs') return { status: 200, body: await refsJson(store, store.repository(project, p[2]), query.get('filter') ?? '') };
    return undefined;
  };
}

async function refsJson(store: Store, repo: Repo, filter: string) {
  const out = await run('git', ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/'], { cwd: repo.dir });
  return list(
    out.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .filter(([, name]) => !filter || name.startsWith(`refs/${filter}`))
      .map(([objectId, name]) => ({ name, objectId, url: `${store.collectionUrl}${repo.project.id}/_apis/git/repositories/${repo.id}/refs?filter=${name.slice(5)}` })),
  );
}

/** Creates a bare repository in `projectName` (created when missing), with `files` committed on main. */
export async function createRepo(store: Store, projectName: string, name: string, files: Record<string, string>): Promise<Repo> {
  const project = store.findProject(projectName) ?? store.addProject(projectName);
  const dir = path.join(store.root, project.id, `${name}.git`);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', dir]);
  await run('git', ['config', 'http.receivepack', 'true'], { cwd: dir });
  const repo = { id: randomUUID(), name, project, dir };
  store.repos.push(repo);
  await commitFiles(repo, 'main', files, 'initial');
  return repo;
}

/** Commits `files` on `branch` of a repository directly (as another user pushing would); returns the commit. */
export async function commitFiles(repo: Repo, branch: string, files: Record<string, string>, message: string): Promise<string> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ado-seed-'));
  const env = { GIT_AUTHOR_NAME: 'Seed', GIT_AUTHOR_EMAIL: 'seed@example.com', GIT_COMMITTER_NAME: 'Seed', GIT_COMMITTER_EMAIL: 'seed@example.com' };
  try {
    await run('git', ['init', '--quiet', '--initial-branch', branch, work]);
    if (await tip(repo, `refs/heads/${branch}`)) {
      await run('git', ['fetch', '--quiet', repo.dir, `refs/heads/${branch}`], { cwd: work });
      await run('git', ['reset', '--quiet', '--hard', 'FETCH_HEAD'], { cwd: work });
    }
    for (const [file, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(work, file)), { recursive: true });
      await fs.writeFile(path.join(work, file), content);
    }
    await run('git', ['add', '-A'], { cwd: work });
    await run('git', ['commit', '--quiet', '--allow-empty', '-m', message], { cwd: work, env });
    await run('git', ['push', '--quiet', repo.dir, `HEAD:refs/heads/${branch}`], { cwd: work });
    return (await run('git', ['rev-parse', 'HEAD'], { cwd: work })).stdout.trim();
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** The commit `ref` points at, or undefined. */
export async function tip(repo: Repo, ref: string): Promise<string | undefined> {
  const result = await run('git', ['rev-parse', '--verify', '--quiet', ref], { cwd: repo.dir, allowFailure: true });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** The content of `file` at `ref`, or undefined. */
export async function readFile(repo: Repo, ref: string, file: string): Promise<string | undefined> {
  const result = await run('git', ['show', `${ref}:${file}`], { cwd: repo.dir, allowFailure: true });
  return result.code === 0 ? result.stdout : undefined;
}

/**
 * Answers `<project>/_git/<repo>[/info/refs | /git-upload-pack | /git-receive-pack]` (`s`: the path
 * below the collection) with `git http-backend`.
 */
export function serveGit(store: Store, req: http.IncomingMessage, res: http.ServerResponse, s: string[], query: string): void {
  const project = store.findProject(s[0]);
  const repo = project && store.findRepo(project, s[2]);
  if (!repo || s[1] !== '_git') {
    res.writeHead(404).end('TF401019: repository not found');
    return;
  }
  const pathInfo = `/${path.relative(store.root, repo.dir)}/${s.slice(3).join('/')}`;
  gitHttpBackend(req, res, { projectRoot: store.root, pathInfo, query, user: 'build-service' });
}
