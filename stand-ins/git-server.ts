import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gitHttpBackend } from './http-backend';
import { acceptOnlyFrom, type GateRecord } from './source-gate';
import { run } from '../shared/process';

export interface GitRequest {
  method: string;
  url: string;
  status: number;
}

/**
 * A real git remote over smart HTTP: `git http-backend` (the CGI that ships with git) behind a small
 * Node server that rejects any request without `Authorization: Bearer <token>` (or Basic with the
 * token as password, as git sends it from a credential helper).
 */
export class GitServer {
  readonly requests: GitRequest[] = [];
  /** Set to make the next push requests fail; the hook answers before git runs. */
  beforeRequest?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  private server?: http.Server;

  private constructor(readonly root: string, readonly token: string, private readonly scheme: 'http' | 'https') {}

  /** Starts the server on a loopback port; with `tls` (a PEM certificate and key) it speaks HTTPS. */
  static async start(token: string, tls?: { cert: string; key: string }): Promise<GitServer> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'git-remote-'));
    const git = new GitServer(root, token, tls ? 'https' : 'http');
    const handle = (req: http.IncomingMessage, res: http.ServerResponse) => git.handle(req, res);
    git.server = tls ? https.createServer(tls, handle) : http.createServer(handle);
    await new Promise<void>((resolve) => git.server!.listen(0, '127.0.0.1', resolve));
    return git;
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Clone URL of a repository, which need not exist yet. */
  repoUrl(name: string): string {
    return `${this.url}/${name}.git`;
  }

  /** Creates a bare repository that accepts pushes, with `main` as its default branch. */
  async createRepo(name: string): Promise<string> {
    const dir = path.join(this.root, `${name}.git`);
    await fs.mkdir(path.dirname(dir), { recursive: true });
    await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', dir]);
    await run('git', ['config', 'http.receivepack', 'true'], { cwd: dir });
    return dir;
  }

  bareDir(name: string): string {
    return path.join(this.root, `${name}.git`);
  }

  /** Accepts connections only from `address` (a proxy's outgoing address): see stand-ins/source-gate.ts. */
  acceptOnlyFrom(address: string): GateRecord {
    return acceptOnlyFrom(this.server!, address);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    this.server?.closeAllConnections();
    await fs.rm(this.root, { recursive: true, force: true });
  }

  private authorized(header: string | undefined): boolean {
    if (!header) return false;
    const [scheme, value] = header.split(' ', 2);
    if (scheme.toLowerCase() === 'bearer') return value === this.token;
    if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value ?? '', 'base64').toString('utf8');
      return decoded.slice(decoded.indexOf(':') + 1) === this.token;
    }
    return false;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const record = (status: number) => this.requests.push({ method: req.method ?? '', url: req.url ?? '', status });
    if (!this.authorized(req.headers.authorization)) {
      record(401);
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('unauthorized');
      return;
    }
    if (this.beforeRequest?.(req, res)) {
      record(res.statusCode);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    gitHttpBackend(req, res, { projectRoot: this.root, pathInfo: decodeURIComponent(url.pathname), query: url.search.slice(1), user: 'pipeline' }, record);
  }
}
