import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../shared/process';
import { gitHttpBackend } from './http-backend';
import { seededRandom } from './random';

/**
 * A stand-in for Azure DevOps Services that the real azure-devops-node-api client talks to:
 * resource-location discovery (OPTIONS <collection>/_apis/<area>), projects, Git repositories, refs,
 * pull requests (with reviewers, labels, work item refs), identities, build work items, and git smart
 * HTTP through `git http-backend` over bare repositories at `<collection>/<project>/_git/<repo>`.
 *
 * What it copies from the service, because the client under test relies on it:
 * - every request needs `Authorization: Bearer <token>` of a known token (401 otherwise, as the
 *   service answers a refused job token); the PR's `createdBy` is the token's identity;
 * - a PR description over 4,000 characters is a 400; the PR list cuts descriptions to 400 characters;
 * - a second active PR for the same source and target is a 409 (TF401179); PR ids increase;
 * - PATCH ignores reviewers and labels (they have their own endpoints); create ignores auto-complete;
 * - enums are accepted as numbers or names and answered as camelCase names.
 * Faults are switched per test: latency, a share of REST requests answered 429 (Retry-After) or 503,
 * connections dropped before the answer, or after the work was done (the nastiest case for a client).
 */

export interface AdoIdentity {
  id: string;
  displayName: string;
  uniqueName: string;
  mail?: string;
}

export interface FaultOptions {
  /** Delay added before every request in scope. */
  latencyMs?: number;
  /** Share (0..1) of requests answered with a failure from `failWith` instead of being served. */
  failRate?: number;
  /** Failures picked at random; default 429 with Retry-After 0 or 1, and 503. */
  failWith?: Array<{ status: number; retryAfter?: string }>;
  /** Share of requests whose connection is closed without an answer. */
  dropRate?: number;
  /** Share of requests that are served (side effects happen) but whose answer is cut mid-body. */
  truncateRate?: number;
  /** Which requests the faults apply to: REST only (default), git only, or all. */
  scope?: 'rest' | 'git' | 'all';
  /** Further narrowing: only requests for which this returns true. */
  match?: (method: string, path: string) => boolean;
  /** Seed for the pseudo-random choice, so a failing run can be replayed. */
  seed?: number;
}

export interface AdoRequest {
  method: string;
  /** Path and query, without the host. */
  url: string;
  status: number;
  kind: 'rest' | 'git';
  /** The fault injected instead of (or after) serving it, if any. */
  fault?: '429' | '503' | 'drop' | 'truncate' | string;
  /** True when the same method and URL failed just before: the client retried it. */
  retry: boolean;
}

interface Project {
  id: string;
  name: string;
}

interface Repo {
  id: string;
  name: string;
  project: Project;
  dir: string;
}

interface Reviewer {
  id: string;
  isRequired: boolean;
  vote: number;
}

interface PullRequest {
  pullRequestId: number;
  repo: Repo;
  status: 'active' | 'abandoned' | 'completed';
  title: string;
  description: string;
  sourceRefName: string;
  targetRefName: string;
  isDraft: boolean;
  createdBy: string;
  creationDate: string;
  reviewers: Reviewer[];
  labels: string[];
  workItems: string[];
  autoCompleteSetBy?: string;
  completionOptions?: Record<string, unknown>;
  lastMergeSourceCommit?: string;
}

const MAX_DESCRIPTION = 4000;
const LIST_DESCRIPTION = 400;
const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
const STATUS_NAMES = ['notSet', 'active', 'abandoned', 'completed', 'all'];
const MERGE_STRATEGIES = ['', 'noFastForward', 'squash', 'rebase', 'rebaseMerge'];

/** Resource locations of the git area, GUIDs as azure-devops-node-api's GitApi asks for them. */
const GIT_LOCATIONS: Array<[string, string, string]> = [
  ['225f7195-f9c7-4d14-ab28-a83f7ff77e1f', 'repositories', '{project}/_apis/{area}/{resource}/{repositoryId}'],
  ['2d874a60-a811-4f62-9c9f-963a6ea0a55b', 'refs', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*filter}'],
  ['9946fd70-0d40-406e-b686-b4744cbbcc37', 'pullRequests', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}'],
  ['01a46dea-7d46-4d40-bc84-319e7c260d99', 'pullRequests', '{project}/_apis/{area}/{resource}/{pullRequestId}'],
  ['4b6702c7-aa35-4b89-9c96-b9abf6d3e540', 'reviewers', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}/{reviewerId}'],
  ['f22387e3-984e-4c52-9c6d-fbb8f14c812d', 'labels', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}/{labelIdOrName}'],
  ['0a637fcc-5370-4ce8-b0e8-98091f5f9482', 'workitems', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}'],
];

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly typeKey = 'InvalidArgumentValueException') {
    super(message);
  }
}

export class AdoServer {
  readonly requests: AdoRequest[] = [];
  readonly identities: AdoIdentity[] = [];
  /** Set per test; undefined means no faults. */
  faults?: FaultOptions;
  /**
   * Runs before a git request is served (e.g. to move a branch between a client's fetch and its
   * push, as a concurrent run would). `service` is the path's last part: `info/refs`, `git-receive-pack`.
   */
  beforeGit?: (info: { project: string; repo: string; service: string; method: string; query: string }) => Promise<void> | void;
  private readonly tokens = new Map<string, string>();
  private readonly projects: Project[] = [];
  private readonly repos: Repo[] = [];
  private readonly pulls: PullRequest[] = [];
  private readonly buildWorkItems = new Map<string, string[]>();
  /** Ids of the work items that exist (those linked to a build). */
  private readonly workItems = new Set<string>();
  private readonly failedKeys = new Set<string>();
  private nextPullRequestId = 1;
  private nextLabelId = 1;
  private rng = seededRandom(1);
  private rngSeed?: number;
  private server?: http.Server;
  /** The identity the build service runs as; the default token maps to it. */
  readonly buildService: AdoIdentity;

  private constructor(readonly root: string, readonly org: string) {
    this.buildService = this.addIdentity({ displayName: `Edge Build Service (${org})`, uniqueName: `build-service@${org}` });
  }

  /** Starts the stand-in on a loopback port; `token` is accepted as the build service's job token. */
  static async start(token: string, org = 'edge'): Promise<AdoServer> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ado-'));
    const ado = new AdoServer(root, org);
    ado.tokens.set(token, ado.buildService.id);
    ado.server = http.createServer((req, res) => void ado.handle(req, res));
    ado.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => ado.server!.listen(0, '127.0.0.1', resolve));
    return ado;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The collection URL the agent gives tasks (System.CollectionUri), with its trailing slash. */
  get collectionUrl(): string {
    return `${this.origin}/${this.org}/`;
  }

  addIdentity(identity: Omit<AdoIdentity, 'id'> & { id?: string }): AdoIdentity {
    const full = { id: identity.id ?? randomUUID(), ...identity };
    this.identities.push(full);
    return full;
  }

  /** Accepts `token` as the given identity's. */
  addToken(token: string, identity: AdoIdentity): void {
    this.tokens.set(token, identity.id);
  }

  addProject(name: string): Project {
    const project = { id: randomUUID(), name };
    this.projects.push(project);
    return project;
  }

  /** Creates a bare repository in `project` (created when missing), with `files` committed on main. */
  async createRepo(projectName: string, name: string, files: Record<string, string> = { 'README.md': 'gitops\n' }): Promise<Repo> {
    const project = this.findProject(projectName) ?? this.addProject(projectName);
    const dir = path.join(this.root, project.id, `${name}.git`);
    await fs.mkdir(path.dirname(dir), { recursive: true });
    await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', dir]);
    await run('git', ['config', 'http.receivepack', 'true'], { cwd: dir });
    const repo = { id: randomUUID(), name, project, dir };
    this.repos.push(repo);
    await this.commitFiles(repo, 'main', files, 'initial');
    return repo;
  }

  /** Commits `files` on `branch` of a repository directly (as another user pushing would). */
  async commitFiles(repo: Repo, branch: string, files: Record<string, string>, message: string): Promise<string> {
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ado-seed-'));
    const env = { GIT_AUTHOR_NAME: 'Seed', GIT_AUTHOR_EMAIL: 'seed@example.com', GIT_COMMITTER_NAME: 'Seed', GIT_COMMITTER_EMAIL: 'seed@example.com' };
    try {
      await run('git', ['init', '--quiet', '--initial-branch', branch, work]);
      const exists = await run('git', ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: repo.dir, allowFailure: true });
      if (exists.code === 0) {
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

  /** The clone URL of a repository, as `remoteUrl` in the REST answers. */
  remoteUrl(projectName: string, repoName: string): string {
    return `${this.collectionUrl}${encodeURIComponent(projectName)}/_git/${encodeURIComponent(repoName)}`;
  }

  /** The content of `file` at the tip of `branch`, or undefined. */
  async readFile(projectName: string, repoName: string, branch: string, file: string): Promise<string | undefined> {
    const repo = this.findRepo(this.findProject(projectName)!, repoName)!;
    const result = await run('git', ['show', `refs/heads/${branch}:${file}`], { cwd: repo.dir, allowFailure: true });
    return result.code === 0 ? result.stdout : undefined;
  }

  async branchTip(projectName: string, repoName: string, branch: string): Promise<string | undefined> {
    const repo = this.findRepo(this.findProject(projectName)!, repoName)!;
    return tip(repo, `refs/heads/${branch}`);
  }

  /** Pull requests as the service holds them (full descriptions), oldest first. */
  pullRequests(repoName?: string): Array<Omit<PullRequest, 'repo'> & { repository: string }> {
    return this.pulls
      .filter((pr) => !repoName || pr.repo.name === repoName)
      .map(({ repo, ...rest }) => ({ ...rest, repository: repo.name, reviewers: [...rest.reviewers], labels: [...rest.labels] }));
  }

  /**
   * Completes a pull request as a squash merge would: the source branch's tree becomes one new commit
   * on the target, the pull request is completed, and the source branch is deleted unless kept.
   */
  async completePullRequest(repoName: string, id: number, options: { deleteSourceBranch?: boolean } = {}): Promise<void> {
    const pr = this.pulls.find((p) => p.repo.name === repoName && p.pullRequestId === id);
    if (!pr || pr.status !== 'active') throw new Error(`no active pull request ${id} in ${repoName}`);
    const dir = pr.repo.dir;
    const source = (await tip(pr.repo, pr.sourceRefName))!;
    const target = (await tip(pr.repo, pr.targetRefName))!;
    const env = { GIT_AUTHOR_NAME: 'Reviewer', GIT_AUTHOR_EMAIL: 'reviewer@example.com', GIT_COMMITTER_NAME: 'Reviewer', GIT_COMMITTER_EMAIL: 'reviewer@example.com' };
    const merged = (await run('git', ['commit-tree', `${source}^{tree}`, '-p', target, '-m', `Merged PR ${id}: ${pr.title}`], { cwd: dir, env })).stdout.trim();
    await run('git', ['update-ref', pr.targetRefName, merged, target], { cwd: dir });
    pr.lastMergeSourceCommit = source;
    pr.status = 'completed';
    if (options.deleteSourceBranch ?? true) await run('git', ['update-ref', '-d', pr.sourceRefName, source], { cwd: dir });
  }

  /** Work items the service reports as linked to a build (GET _apis/build/builds/{id}/workitems); they exist from now on. */
  linkWorkItems(buildId: string, ids: string[]): void {
    this.buildWorkItems.set(buildId, ids);
    for (const id of ids) this.workItems.add(id);
  }

  /** REST requests answered with an injected fault. */
  get faultCount(): number {
    return this.requests.filter((r) => r.fault).length;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
    await fs.rm(this.root, { recursive: true, force: true });
  }

  // ---- request handling ----

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    const isGit = segments.includes('_git');
    const kind: AdoRequest['kind'] = isGit ? 'git' : 'rest';
    const key = `${req.method} ${req.url}`;
    const record = (status: number, fault?: string) => {
      const retry = this.failedKeys.has(key);
      if (fault || status >= 500 || status === 429) this.failedKeys.add(key);
      else this.failedKeys.delete(key);
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', status, kind, fault, retry });
    };

    const faults = this.faults;
    const inScope = faults && (faults.scope === 'all' || (faults.scope ?? 'rest') === kind) && (faults.match?.(req.method ?? '', url.pathname) ?? true);
    if (faults && faults.seed !== undefined && faults.seed !== this.rngSeed) {
      this.rngSeed = faults.seed;
      this.rng = seededRandom(faults.seed);
    }
    if (inScope && faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));

    if (!this.identityOf(req.headers.authorization)) {
      record(401);
      // The service answers a refused token with 401 and a sign-in challenge, never with details.
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer authorization_uri=https://login.microsoftonline.com/', 'Content-Type': 'text/plain' });
      res.end('Access Denied: the token is not valid or has expired.');
      return;
    }

    if (inScope) {
      const roll = this.rng();
      const failRate = faults.failRate ?? 0;
      const dropRate = faults.dropRate ?? 0;
      if (roll < failRate) {
        const choices = faults.failWith ?? [{ status: 429, retryAfter: '0' }, { status: 429, retryAfter: '1' }, { status: 503 }];
        const pick = choices[Math.floor(this.rng() * choices.length)];
        record(pick.status, String(pick.status));
        await drain(req);
        const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
        if (pick.retryAfter !== undefined) {
          headers['Retry-After'] = pick.retryAfter;
          headers['X-RateLimit-Resource'] = 'ATCPU';
          headers['X-RateLimit-Delay'] = '1.5';
          headers['X-RateLimit-Limit'] = '200';
          headers['X-RateLimit-Remaining'] = '0';
          headers['X-RateLimit-Reset'] = String(Math.ceil(Date.now() / 1000) + Number(pick.retryAfter));
        }
        const message = pick.status === 429 ? 'TF400733: The request has been throttled.' : 'Service Unavailable';
        res.writeHead(pick.status, headers).end(JSON.stringify({ message, typeKey: 'RequestThrottledException' }));
        return;
      }
      if (roll < failRate + dropRate) {
        record(0, 'drop');
        await drain(req);
        req.socket.destroy();
        return;
      }
      if (roll < failRate + dropRate + (faults.truncateRate ?? 0) && !isGit) {
        const body = await readBody(req);
        const answer = await this.answer(req, segments.slice(1), url, body);
        record(0, 'truncate');
        const text = JSON.stringify(answer.body ?? {});
        res.writeHead(answer.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        setTimeout(() => req.socket.destroy(), 5);
        return;
      }
    }

    if (segments[0] !== this.org) {
      record(404);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
      return;
    }
    if (isGit) {
      const s = segments.slice(1);
      await this.beforeGit?.({ project: s[0], repo: s[2], service: s.slice(3).join('/'), method: req.method ?? '', query: url.search });
      this.serveGit(req, res, s, url, record);
      return;
    }
    const body = await readBody(req);
    const answer = await this.answer(req, segments.slice(1), url, body);
    record(answer.status);
    const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8; api-version=7.2-preview' };
    headers['X-TFS-Session'] = randomUUID();
    res.writeHead(answer.status, headers).end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private identityOf(header: string | undefined): AdoIdentity | undefined {
    if (!header) return undefined;
    const [scheme, value] = header.split(' ', 2);
    let token: string | undefined;
    if (scheme.toLowerCase() === 'bearer') token = value;
    else if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value ?? '', 'base64').toString('utf8');
      token = decoded.slice(decoded.indexOf(':') + 1);
    }
    const id = token === undefined ? undefined : this.tokens.get(token);
    return this.identities.find((i) => i.id === id);
  }

  private async answer(req: http.IncomingMessage, segments: string[], url: URL, body: string): Promise<{ status: number; body?: unknown }> {
    try {
      const json = body ? (JSON.parse(body) as unknown) : undefined;
      const contentType = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      return await this.route(req.method ?? 'GET', segments, url.searchParams, json, this.identityOf(req.headers.authorization)!, contentType);
    } catch (error) {
      if (error instanceof HttpError) {
        return {
          status: error.status,
          body: { $id: '1', innerException: null, message: error.message, typeName: `Microsoft.TeamFoundation.${error.typeKey}`, typeKey: error.typeKey, errorCode: 0, eventId: 3000 },
        };
      }
      if (error instanceof SyntaxError) return { status: 400, body: { message: 'The request body is not valid JSON.' } };
      throw error;
    }
  }

  private async route(method: string, s: string[], query: URLSearchParams, body: unknown, caller: AdoIdentity, contentType = ''): Promise<{ status: number; body?: unknown }> {
    // OPTIONS <collection>/_apis/<area>: resource-location discovery.
    if (method === 'OPTIONS' && s[0] === '_apis') {
      const area = s[1]?.toLowerCase();
      const value =
        area === 'git'
          ? GIT_LOCATIONS.map(([id, resourceName, routeTemplate]) => ({
              id,
              area: 'git',
              resourceName,
              routeTemplate,
              resourceVersion: 2,
              minVersion: '1.0',
              maxVersion: '7.2',
              releasedVersion: '7.1',
            }))
          : [];
      return { status: 200, body: { count: value.length, value } };
    }
    if (s[0] === '_apis' && s[1] === 'projects' && method === 'GET') {
      const project = s[2] ? this.findProject(s[2]) : undefined;
      if (s[2] && !project)
        throw new HttpError(404, `TF200016: The following project does not exist: ${s[2]}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`, 'ProjectDoesNotExistWithNameException');
      if (project) return { status: 200, body: this.projectJson(project) };
      return { status: 200, body: { count: this.projects.length, value: this.projects.map((p) => this.projectJson(p)) } };
    }
    if (s[0] === '_apis' && s[1] === 'identities' && method === 'GET') return { status: 200, body: this.searchIdentities(query) };

    // Project-scoped routes: <project>/_apis/... (the project segment is optional for repositories by id).
    let project: Project | undefined;
    let rest = s;
    if (s[0] !== '_apis') {
      project = this.findProject(s[0]);
      if (!project) throw new HttpError(404, `TF200016: The following project does not exist: ${s[0]}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`, 'ProjectDoesNotExistWithNameException');
      rest = s.slice(1);
    }
    if (rest[0] !== '_apis') throw new HttpError(404, 'The resource cannot be found.', 'NotFound');
    if (rest[1] === 'build' && rest[2] === 'builds' && rest[4] === 'workitems' && method === 'GET') {
      const ids = this.buildWorkItems.get(rest[3]) ?? [];
      return { status: 200, body: { count: ids.length, value: ids.map((id) => ({ id, url: `${this.collectionUrl}_apis/wit/workItems/${id}` })) } };
    }
    if (rest[1] === 'wit' && rest[2]?.toLowerCase() === 'workitems' && rest[3] && method === 'PATCH') return this.patchWorkItem(rest[3], body, contentType);
    if (rest[1] !== 'git' || rest[2] !== 'repositories') throw new HttpError(404, 'The resource cannot be found.', 'NotFound');
    const repo = this.findRepo(project, rest[3]);
    if (!repo)
      throw new HttpError(404, `TF401019: The Git repository with name or identifier ${rest[3]} does not exist or you do not have permissions for the operation you are attempting.`, 'GitRepositoryNotFoundException');
    const sub = rest.slice(4);
    if (sub.length === 0 && method === 'GET') return { status: 200, body: this.repoJson(repo) };
    if (sub[0] === 'refs' && method === 'GET') return { status: 200, body: await this.refsJson(repo, query.get('filter') ?? '') };
    if (sub[0]?.toLowerCase() === 'pullrequests') return this.routePulls(method, repo, sub.slice(1), query, body, caller);
    throw new HttpError(404, 'The resource cannot be found.', 'NotFound');
  }

  private async routePulls(method: string, repo: Repo, s: string[], query: URLSearchParams, body: unknown, caller: AdoIdentity): Promise<{ status: number; body?: unknown }> {
    if (s.length === 0 && method === 'GET') {
      const criterion = (name: string) => query.get(`searchCriteria.${name}`) ?? undefined;
      const status = parseEnum(criterion('status') ?? 'active', STATUS_NAMES) ?? 'active';
      const list = this.pulls.filter(
        (pr) =>
          pr.repo === repo &&
          (status === 'all' || pr.status === status) &&
          (!criterion('sourceRefName') || pr.sourceRefName === criterion('sourceRefName')) &&
          (!criterion('targetRefName') || pr.targetRefName === criterion('targetRefName')),
      );
      const value = await Promise.all(list.reverse().map((pr) => this.pullJson(pr, true)));
      return { status: 200, body: { count: value.length, value } };
    }
    if (s.length === 0 && method === 'POST') {
      const input = (body ?? {}) as Record<string, unknown>;
      const source = String(input.sourceRefName ?? '');
      const target = String(input.targetRefName ?? '');
      if (!source || !target) throw new HttpError(400, 'The sourceRefName and targetRefName of a pull request are required.');
      checkDescription(input.description);
      if (!(await tip(repo, source)) || !(await tip(repo, target)))
        throw new HttpError(400, 'TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches', 'GitPullRequestCannotBeActivated');
      if (this.pulls.some((pr) => pr.repo === repo && pr.status === 'active' && pr.sourceRefName === source && pr.targetRefName === target))
        throw new HttpError(409, 'TF401179: An active pull request for the source and target branch already exists.', 'GitPullRequestExistsException');
      const reviewers = this.reviewersFrom(input.reviewers);
      const pr: PullRequest = {
        pullRequestId: this.nextPullRequestId++,
        repo,
        status: 'active',
        title: String(input.title ?? ''),
        description: String(input.description ?? ''),
        sourceRefName: source,
        targetRefName: target,
        isDraft: input.isDraft === true,
        createdBy: caller.id,
        creationDate: new Date().toISOString(),
        reviewers,
        labels: Array.isArray(input.labels) ? (input.labels as Array<{ name: string }>).map((l) => l.name) : [],
        workItems: Array.isArray(input.workItemRefs) ? (input.workItemRefs as Array<{ id: string }>).map((w) => String(w.id)) : [],
      };
      this.pulls.push(pr);
      return { status: 201, body: await this.pullJson(pr, false) };
    }
    const pr = this.pulls.find((p) => p.repo === repo && p.pullRequestId === Number(s[0]));
    if (!pr) throw new HttpError(404, `TF401180: The requested pull request was not found.`, 'GitPullRequestNotFoundException');
    if (s.length === 1 && method === 'GET') return { status: 200, body: await this.pullJson(pr, false) };
    if (s.length === 1 && method === 'PATCH') {
      const input = (body ?? {}) as Record<string, unknown>;
      if (input.description !== undefined) checkDescription(input.description);
      if (input.title !== undefined) pr.title = String(input.title);
      if (input.description !== undefined) pr.description = String(input.description);
      if (input.isDraft !== undefined) pr.isDraft = input.isDraft === true;
      if (input.status !== undefined) {
        pr.status = (parseEnum(input.status, STATUS_NAMES) as PullRequest['status']) ?? pr.status;
        // A closed pull request keeps the source commit it was closed at.
        if (pr.status !== 'active') pr.lastMergeSourceCommit = await tip(pr.repo, pr.sourceRefName);
      }
      if (input.autoCompleteSetBy !== undefined) {
        const id = String((input.autoCompleteSetBy as { id?: string })?.id ?? '');
        if (id === ZERO_GUID || !id) pr.autoCompleteSetBy = undefined;
        else if (!this.identities.some((i) => i.id === id)) throw new HttpError(400, `The identity ${id} for autoCompleteSetBy was not found.`, 'IdentityNotFoundException');
        else pr.autoCompleteSetBy = id;
      }
      if (input.completionOptions !== undefined) {
        const options = { ...(input.completionOptions as Record<string, unknown>) };
        if (options.mergeStrategy !== undefined) options.mergeStrategy = parseEnum(options.mergeStrategy, MERGE_STRATEGIES);
        pr.completionOptions = options;
      }
      return { status: 200, body: await this.pullJson(pr, false) };
    }
    if (s[1] === 'reviewers') {
      if (method === 'GET') return { status: 200, body: { count: pr.reviewers.length, value: pr.reviewers.map((r) => this.reviewerJson(r)) } };
      if (method === 'POST' && s.length === 2) {
        const added = this.reviewersFrom(body);
        for (const reviewer of added) upsertReviewer(pr, reviewer);
        return { status: 200, body: { count: added.length, value: added.map((r) => this.reviewerJson(r)) } };
      }
      if (method === 'PUT' && s.length === 3) {
        const [reviewer] = this.reviewersFrom([{ ...(body as object), id: s[2] }]);
        upsertReviewer(pr, reviewer);
        return { status: 200, body: this.reviewerJson(reviewer) };
      }
    }
    if (s[1] === 'labels') {
      if (method === 'GET') return { status: 200, body: { count: pr.labels.length, value: pr.labels.map((name) => this.labelJson(name)) } };
      if (method === 'POST') {
        const name = String((body as { name?: string })?.name ?? '').trim();
        if (!name) throw new HttpError(400, 'A label needs a name.');
        if (!pr.labels.some((l) => l.toLowerCase() === name.toLowerCase())) pr.labels.push(name);
        return { status: 200, body: this.labelJson(name) };
      }
    }
    if (s[1] === 'workitems' && method === 'GET') {
      return { status: 200, body: { count: pr.workItems.length, value: pr.workItems.map((id) => ({ id, url: `${this.collectionUrl}_apis/wit/workItems/${id}` })) } };
    }
    throw new HttpError(404, 'The resource cannot be found.', 'NotFound');
  }

  /**
   * PATCH <project>/_apis/wit/workitems/{id} with a JSON Patch document: only what linking a pull request
   * takes, `add /relations/-` of an ArtifactLink to vstfs:///Git/PullRequestId/{project}%2F{repository}%2F{id},
   * which the service then lists among the pull request's work items.
   */
  private patchWorkItem(id: string, body: unknown, contentType: string): { status: number; body?: unknown } {
    if (contentType !== 'application/json-patch+json')
      throw new HttpError(415, `The request indicated a Content-Type of "${contentType}" for method type "PATCH" which is not supported. Valid content types for this method are: application/json-patch+json.`, 'VssRequestContentTypeNotSupportedException');
    if (!this.workItems.has(id)) throw new HttpError(404, `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`, 'WorkItemUnauthorizedAccessException');
    if (!Array.isArray(body) || body.length === 0) throw new HttpError(400, 'You must pass a valid patch document in the body of the request.', 'VssPropertyValidationException');
    const linked: PullRequest[] = [];
    for (const operation of body as Array<{ op?: unknown; path?: unknown; value?: { rel?: unknown; url?: unknown } }>) {
      if (!(operation.op === 'add' || operation.op === 0) || operation.path !== '/relations/-' || operation.value?.rel !== 'ArtifactLink')
        throw new HttpError(400, `This stand-in supports only adding an ArtifactLink relation, not ${JSON.stringify(operation)}.`);
      const match = /^vstfs:\/\/\/Git\/PullRequestId\/([^%]+)%2f([^%]+)%2f(\d+)$/i.exec(String(operation.value.url ?? ''));
      const pr = match && this.pulls.find((p) => p.repo.project.id === match[1] && p.repo.id === match[2] && p.pullRequestId === Number(match[3]));
      if (!pr) throw new HttpError(400, `The artifact ${String(operation.value.url)} was not found.`, 'WorkItemLinkInvalidException');
      if (pr.workItems.includes(id) || linked.includes(pr)) throw new HttpError(400, `Relation already exists.`, 'WorkItemLinkAlreadyExistsException');
      linked.push(pr);
    }
    for (const pr of linked) pr.workItems.push(id);
    return { status: 200, body: { id: Number(id), rev: linked.length + 1, fields: {}, url: `${this.collectionUrl}_apis/wit/workItems/${id}` } };
  }

  private reviewersFrom(input: unknown): Reviewer[] {
    if (input === undefined || input === null) return [];
    if (!Array.isArray(input)) throw new HttpError(400, 'Reviewers must be an array.');
    return input.map((r: { id?: string; isRequired?: boolean; vote?: number }) => {
      if (!r.id || !this.identities.some((i) => i.id === r.id)) throw new HttpError(400, `The identity ${r.id ?? ''} of a reviewer was not found.`, 'IdentityNotFoundException');
      return { id: r.id, isRequired: r.isRequired === true, vote: r.vote ?? 0 };
    });
  }

  private searchIdentities(query: URLSearchParams): unknown {
    const filter = query.get('searchFilter') ?? '';
    const value = (query.get('filterValue') ?? '').toLowerCase();
    if (!filter) throw new HttpError(400, 'Either descriptors, identityIds or searchFilter must be given.');
    const hits = this.identities.filter((i) =>
      filter.toLowerCase() === 'mailaddress'
        ? i.mail?.toLowerCase() === value
        : filter.toLowerCase() === 'accountname'
          ? i.uniqueName.toLowerCase() === value
          : [i.displayName, i.uniqueName, i.mail].some((v) => v?.toLowerCase() === value),
    );
    const value_ = hits.map((i) => ({
      id: i.id,
      descriptor: `Microsoft.IdentityModel.Claims.ClaimsIdentity;${i.uniqueName}`,
      subjectDescriptor: `aad.${Buffer.from(i.id).toString('base64url')}`,
      providerDisplayName: i.displayName,
      isActive: true,
      properties: {
        Account: { $type: 'System.String', $value: i.uniqueName },
        ...(i.mail ? { Mail: { $type: 'System.String', $value: i.mail } } : {}),
      },
    }));
    return { count: value_.length, value: value_ };
  }

  private serveGit(req: http.IncomingMessage, res: http.ServerResponse, s: string[], url: URL, record: (status: number) => void): void {
    // <project>/_git/<repo>[/info/refs | /git-upload-pack | /git-receive-pack]
    const project = this.findProject(s[0]);
    const repo = project && this.findRepo(project, s[2]);
    if (!repo || s[1] !== '_git') {
      record(404);
      res.writeHead(404).end('TF401019: repository not found');
      return;
    }
    const pathInfo = `/${path.relative(this.root, repo.dir)}/${s.slice(3).join('/')}`;
    gitHttpBackend(req, res, { projectRoot: this.root, pathInfo, query: url.search.slice(1), user: 'build-service' }, record);
  }

  // ---- lookups and JSON shapes ----

  private findProject(nameOrId: string): Project | undefined {
    const key = nameOrId.toLowerCase();
    return this.projects.find((p) => p.id === key || p.name.toLowerCase() === key);
  }

  private findRepo(project: Project | undefined, nameOrId: string | undefined): Repo | undefined {
    if (!nameOrId) return undefined;
    const key = nameOrId.toLowerCase();
    // By id the project is optional; by name it is required.
    return this.repos.find((r) => (r.id === key && (!project || r.project === project)) || (project && r.project === project && r.name.toLowerCase() === key));
  }

  private projectJson(project: Project) {
    return { id: project.id, name: project.name, url: `${this.collectionUrl}_apis/projects/${project.id}`, state: 'wellFormed', visibility: 'private', revision: 1 };
  }

  private repoJson(repo: Repo) {
    return {
      id: repo.id,
      name: repo.name,
      url: `${this.collectionUrl}${repo.project.id}/_apis/git/repositories/${repo.id}`,
      project: this.projectJson(repo.project),
      defaultBranch: 'refs/heads/main',
      size: 0,
      remoteUrl: this.remoteUrl(repo.project.name, repo.name),
      webUrl: this.remoteUrl(repo.project.name, repo.name),
      isDisabled: false,
    };
  }

  private async refsJson(repo: Repo, filter: string) {
    const out = await run('git', ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/'], { cwd: repo.dir });
    const value = out.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .filter(([, name]) => !filter || name.startsWith(`refs/${filter}`))
      .map(([objectId, name]) => ({ name, objectId, url: `${this.collectionUrl}${repo.project.id}/_apis/git/repositories/${repo.id}/refs?filter=${name.slice(5)}` }));
    return { count: value.length, value };
  }

  private identityRef(id: string) {
    const identity = this.identities.find((i) => i.id === id);
    return { id, displayName: identity?.displayName ?? id, uniqueName: identity?.uniqueName ?? id, url: `${this.collectionUrl}_apis/Identities/${id}` };
  }

  private reviewerJson(reviewer: Reviewer) {
    return { ...this.identityRef(reviewer.id), vote: reviewer.vote, isRequired: reviewer.isRequired, hasDeclined: false, isFlagged: false };
  }

  private labelJson(name: string) {
    return { id: `${this.nextLabelId++}`, name, active: true };
  }

  private async pullJson(pr: PullRequest, listed: boolean) {
    const sourceTip = pr.status === 'active' ? await tip(pr.repo, pr.sourceRefName) : pr.lastMergeSourceCommit;
    const targetTip = await tip(pr.repo, pr.targetRefName);
    const description = listed && pr.description.length > LIST_DESCRIPTION ? pr.description.slice(0, LIST_DESCRIPTION) : pr.description;
    return {
      repository: this.repoJson(pr.repo),
      pullRequestId: pr.pullRequestId,
      codeReviewId: pr.pullRequestId,
      status: pr.status,
      createdBy: this.identityRef(pr.createdBy),
      creationDate: pr.creationDate,
      title: pr.title,
      description,
      sourceRefName: pr.sourceRefName,
      targetRefName: pr.targetRefName,
      mergeStatus: 'succeeded',
      isDraft: pr.isDraft,
      mergeId: randomUUID(),
      lastMergeSourceCommit: sourceTip ? { commitId: sourceTip } : undefined,
      lastMergeTargetCommit: targetTip ? { commitId: targetTip } : undefined,
      reviewers: pr.reviewers.map((r) => this.reviewerJson(r)),
      labels: pr.labels.map((name) => this.labelJson(name)),
      ...(pr.autoCompleteSetBy ? { autoCompleteSetBy: this.identityRef(pr.autoCompleteSetBy) } : {}),
      ...(pr.completionOptions && !listed ? { completionOptions: pr.completionOptions } : {}),
      url: `${this.collectionUrl}${pr.repo.project.id}/_apis/git/repositories/${pr.repo.id}/pullRequests/${pr.pullRequestId}`,
      supportsIterations: true,
    };
  }
}

function checkDescription(description: unknown): void {
  if (typeof description === 'string' && description.length > MAX_DESCRIPTION)
    throw new HttpError(400, `Invalid argument value.\r\nParameter name: The description of a pull request cannot be longer than ${MAX_DESCRIPTION} characters.`);
}

function upsertReviewer(pr: PullRequest, reviewer: Reviewer): void {
  const existing = pr.reviewers.find((r) => r.id === reviewer.id);
  if (existing) existing.isRequired = reviewer.isRequired || existing.isRequired;
  else pr.reviewers.push(reviewer);
}

/** An enum given as its number or (any case) its name, returned as the service's camelCase name. */
function parseEnum(value: unknown, names: string[]): string | undefined {
  if (typeof value === 'number') return names[value];
  const text = String(value);
  if (/^\d+$/.test(text)) return names[Number(text)];
  return names.find((n) => n.toLowerCase() === text.toLowerCase());
}

async function tip(repo: Repo, ref: string): Promise<string | undefined> {
  const result = await run('git', ['rev-parse', '--verify', '--quiet', ref], { cwd: repo.dir, allowFailure: true });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function drain(req: http.IncomingMessage): Promise<void> {
  await readBody(req).catch(() => '');
}
