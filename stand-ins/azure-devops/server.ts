import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { FaultProxy, type ProxyFaults, type ProxyRequest } from '../fault-proxy';
import { addBuild, type Build, type BuildSpec, buildsArea } from './builds';
import type { GateRecord } from '../source-gate';
import { coreArea } from './core';
import { commitFiles, createRepo, gitArea, readFile, serveGit, tip } from './git';
import { type Answer, type Area, HttpError, notFound, readBody } from './http';
import { completePullRequest, pullRequestsArea } from './pull-requests';
import { statusesArea } from './statuses';
import { type AdoIdentity, type Project, type PullRequest, type Repo, type StatusRecord, Store } from './store';
import { linkWorkItems, workItemsArea } from './work-items';

/**
 * A stand-in for Azure DevOps Services that the real azure-devops-node-api client talks to:
 * resource-location discovery, projects, identities, Git repositories and refs, pull requests (with
 * reviewers, labels, work item refs), pull request and commit statuses, pipeline runs, build work items and work item links, and git smart HTTP through
 * `git http-backend` over bare repositories at `<collection>/<project>/_git/<repo>`. Each API area is a
 * module beside this one; this one is the HTTP core: authentication, routing, error answers.
 *
 * Every request needs `Authorization: Bearer <token>` of a known token (401 otherwise, as the service
 * answers a refused job token).
 *
 * Clients reach it through a fault proxy (stand-ins/fault-proxy.ts), which records every request and,
 * when `faults` are set per test, adds latency, answers a share of requests 429 (Retry-After) or 503,
 * drops connections before the answer, or cuts answers after the work was done.
 */

/** Faults for REST requests (default), git requests, or all; see ProxyFaults. */
export type FaultOptions = ProxyFaults & { scope?: 'rest' | 'git' | 'all' };

export interface AdoRequest extends ProxyRequest {
  kind: 'rest' | 'git';
}

type GitHook = (info: { project: string; repo: string; service: string; method: string; query: string }) => Promise<void> | void;

const kindOf = (urlPath: string): AdoRequest['kind'] => (urlPath.split('/').includes('_git') ? 'git' : 'rest');

/** An injected failure as the service answers one: the throttling headers, a JSON message. */
function serviceFailure({ status, retryAfter }: { status: number; retryAfter?: string }) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
  if (retryAfter !== undefined) {
    headers['X-RateLimit-Resource'] = 'ATCPU';
    headers['X-RateLimit-Delay'] = '1.5';
    headers['X-RateLimit-Limit'] = '200';
    headers['X-RateLimit-Remaining'] = '0';
    headers['X-RateLimit-Reset'] = String(Math.ceil(Date.now() / 1000) + Number(retryAfter));
  }
  const message = status === 429 ? 'TF400733: The request has been throttled.' : 'Service Unavailable';
  return { headers, body: JSON.stringify({ message, typeKey: 'RequestThrottledException' }) };
}

export class AdoServer {
  /**
   * Runs before a git request is served (e.g. to move a branch between a client's fetch and its
   * push, as a concurrent run would). `service` is the path's last part: `info/refs`, `git-receive-pack`.
   */
  beforeGit?: GitHook;
  /** The identity the build service runs as; the default token maps to it. */
  readonly buildService: AdoIdentity;
  private readonly store: Store;
  private readonly areas: Area[];
  private faultOptions?: FaultOptions;

  private constructor(readonly root: string, readonly org: string, private readonly server: http.Server, private readonly proxy: FaultProxy) {
    this.store = new Store(root, () => this.collectionUrl);
    this.areas = [coreArea(this.store), gitArea(this.store), statusesArea(this.store), pullRequestsArea(this.store), workItemsArea(this.store), buildsArea(this.store)];
    this.buildService = this.addIdentity({ displayName: `Edge Build Service (${org})`, uniqueName: `build-service@${org}` });
  }

  /** Starts the stand-in and its fault proxy on loopback ports; `token` is accepted as the build service's job token. */
  static async start(token: string, org = 'edge'): Promise<AdoServer> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ado-'));
    const server = http.createServer();
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = await FaultProxy.start(`127.0.0.1:${(server.address() as AddressInfo).port}`, { failure: serviceFailure });
    const ado = new AdoServer(root, org, server, proxy);
    server.on('request', (req, res) => void ado.handle(req, res));
    ado.addToken(token, ado.buildService);
    return ado;
  }

  /** The address clients use: the fault proxy's. */
  get origin(): string {
    return `http://${this.proxy.host}`;
  }

  /** The collection URL the agent gives tasks (System.CollectionUri), with its trailing slash. */
  get collectionUrl(): string {
    return `${this.origin}/${this.org}/`;
  }

  /** Every request clients made, in the order they arrived, with the fault injected if any. */
  get requests(): AdoRequest[] {
    return this.proxy.requests.map((r) => ({ ...r, kind: kindOf(new URL(r.url, 'http://x').pathname) }));
  }

  /** Set per test; undefined means no faults. */
  get faults(): FaultOptions | undefined {
    return this.faultOptions;
  }

  set faults(value: FaultOptions | undefined) {
    this.faultOptions = value;
    if (!value) {
      this.proxy.faults = undefined;
      return;
    }
    const { scope = 'rest', match, ...rest } = value;
    this.proxy.faults = { ...rest, match: (method, urlPath) => (scope === 'all' || scope === kindOf(urlPath)) && (match?.(method, urlPath) ?? true) };
  }

  /** Accepts connections only from `address` (a proxy's outgoing address): see stand-ins/source-gate.ts. */
  acceptOnlyFrom(address: string): GateRecord {
    return this.proxy.acceptOnlyFrom(address);
  }

  /** Requests answered with an injected fault. */
  get faultCount(): number {
    return this.proxy.faultCount;
  }

  get identities(): AdoIdentity[] {
    return this.store.identities;
  }

  addIdentity(identity: Omit<AdoIdentity, 'id'> & { id?: string }): AdoIdentity {
    return this.store.addIdentity(identity);
  }

  /** Accepts `token` as the given identity's. */
  addToken(token: string, identity: AdoIdentity): void {
    this.store.tokens.set(token, identity.id);
  }

  addProject(name: string): Project {
    return this.store.addProject(name);
  }

  /** Creates a bare repository in `project` (created when missing), with `files` committed on main. */
  createRepo(projectName: string, name: string, files: Record<string, string> = { 'README.md': 'gitops\n' }): Promise<Repo> {
    return createRepo(this.store, projectName, name, files);
  }

  /** Commits `files` on `branch` of a repository directly (as another user pushing would). */
  commitFiles(repo: Repo, branch: string, files: Record<string, string>, message: string): Promise<string> {
    return commitFiles(repo, branch, files, message);
  }

  /** The clone URL of a repository, as `remoteUrl` in the REST answers. */
  remoteUrl(projectName: string, repoName: string): string {
    return this.store.remoteUrl(projectName, repoName);
  }

  /** The content of `file` at the tip of `branch`, or undefined. */
  readFile(projectName: string, repoName: string, branch: string, file: string): Promise<string | undefined> {
    return readFile(this.store.repoByName(projectName, repoName), `refs/heads/${branch}`, file);
  }

  branchTip(projectName: string, repoName: string, branch: string): Promise<string | undefined> {
    return tip(this.store.repoByName(projectName, repoName), `refs/heads/${branch}`);
  }

  /** Pull requests as the service holds them (full descriptions), oldest first. */
  pullRequests(repoName?: string): Array<Omit<PullRequest, 'repo'> & { repository: string }> {
    return this.store.pulls
      .filter((pr) => !repoName || pr.repo.name === repoName)
      .map(({ repo, ...rest }) => ({ ...rest, repository: repo.name, reviewers: [...rest.reviewers], labels: [...rest.labels] }));
  }

  /** Completes a pull request as a squash merge would; the source branch is deleted unless kept. */
  completePullRequest(repoName: string, id: number, options: { deleteSourceBranch?: boolean } = {}): Promise<void> {
    return completePullRequest(this.store, repoName, id, options);
  }

  /** A run of a pipeline in `projectName` (created when missing), as the build list reports it. */
  addBuild(projectName: string, spec: BuildSpec): Build {
    return addBuild(this.store, this.store.findProject(projectName) ?? this.store.addProject(projectName), spec);
  }

  /** The statuses of a pull request, oldest first, as the service keeps them (creator by id). */
  pullRequestStatuses(repoName: string, id: number, projectName = 'Edge'): StatusRecord[] {
    return [...(this.store.pullRequestStatuses.get(`${this.store.repoByName(projectName, repoName).id}|${id}`) ?? [])];
  }

  /** The statuses of a commit (its full id), oldest first. */
  commitStatuses(repoName: string, commit: string, projectName = 'Edge'): StatusRecord[] {
    return [...(this.store.commitStatuses.get(`${this.store.repoByName(projectName, repoName).id}|${commit}`) ?? [])];
  }

  /** Denies `identity` a Git permission (`PullRequestContribute`, `GenericContribute`) on every repository: the service then answers 403 TF401027. */
  denyPermission(identity: AdoIdentity, permission: string): void {
    this.store.denied.set(identity.id, new Set([...(this.store.denied.get(identity.id) ?? []), permission]));
  }

  /** Gives a permission denied by denyPermission back. */
  allowPermission(identity: AdoIdentity, permission: string): void {
    this.store.denied.get(identity.id)?.delete(permission);
  }

  /** Work items the service reports as linked to a build (GET _apis/build/builds/{id}/workitems); they exist from now on. */
  linkWorkItems(buildId: string, ids: string[]): void {
    linkWorkItems(this.store, buildId, ids);
  }

  async stop(): Promise<void> {
    await this.proxy.stop();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await fs.rm(this.root, { recursive: true, force: true });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    const caller = this.store.identityOf(req.headers.authorization);
    if (!caller) {
      // The service answers a refused token with 401 and a sign-in challenge, never with details.
      res.writeHead(401, { 'WWW-Authenticate': 'Bearer authorization_uri=https://login.microsoftonline.com/', 'Content-Type': 'text/plain' });
      res.end('Access Denied: the token is not valid or has expired.');
      return;
    }
    if (segments[0] !== this.org) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
      return;
    }
    const s = segments.slice(1);
    if (kindOf(url.pathname) === 'git') {
      await this.beforeGit?.({ project: s[0], repo: s[2], service: s.slice(3).join('/'), method: req.method ?? '', query: url.search });
      serveGit(this.store, req, res, s, url.search.slice(1));
      return;
    }
    const answer = await this.answer(req, s, url.searchParams, caller);
    const headers = { 'Content-Type': 'application/json; charset=utf-8; api-version=7.2-preview', 'X-TFS-Session': randomUUID() };
    res.writeHead(answer.status, headers).end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  /** `s`: the path below the collection, `[<project>,] _apis, ...`. */
  private async answer(req: http.IncomingMessage, s: string[], query: URLSearchParams, caller: AdoIdentity): Promise<Answer> {
    try {
      const text = await readBody(req);
      const body = text ? (JSON.parse(text) as unknown) : undefined;
      const project = s[0] === '_apis' ? undefined : this.store.project(s[0]);
      const rest = project ? s.slice(1) : s;
      if (rest[0] !== '_apis') throw notFound();
      const contentType = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      const request = { method: req.method ?? 'GET', project, path: rest.slice(1), query, body, contentType, caller };
      for (const area of this.areas) {
        const answer = await area(request);
        if (answer) return answer;
      }
      throw notFound();
    } catch (error) {
      if (error instanceof HttpError) return { status: error.status, body: error.body };
      if (error instanceof SyntaxError) return { status: 400, body: { message: 'The request body is not valid JSON.' } };
      throw error;
    }
  }
}
