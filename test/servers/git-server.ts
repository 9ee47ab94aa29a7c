import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../shared/process';

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

  private constructor(readonly root: string, readonly token: string) {}

  static async start(token: string): Promise<GitServer> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'git-remote-'));
    const git = new GitServer(root, token);
    git.server = http.createServer((req, res) => git.handle(req, res));
    await new Promise<void>((resolve) => git.server!.listen(0, '127.0.0.1', resolve));
    return git;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
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
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        CONTENT_LENGTH: req.headers['content-length'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        HTTP_GIT_PROTOCOL: (req.headers['git-protocol'] as string) ?? '',
        REMOTE_USER: 'pipeline',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    cgi.on('close', () => {
      const output = Buffer.concat(chunks);
      const split = output.indexOf('\r\n\r\n');
      const head = output.subarray(0, split).toString('utf8');
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n')) {
        const colon = line.indexOf(':');
        const key = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (key.toLowerCase() === 'status') status = parseInt(value, 10);
        else if (key) headers[key] = value;
      }
      record(status);
      res.writeHead(status, headers).end(output.subarray(split + 4));
    });
  }
}
