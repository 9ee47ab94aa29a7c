import { spawn } from 'node:child_process';
import type * as http from 'node:http';

/**
 * Answers one git smart-HTTP request with `git http-backend` (the CGI that ships with git) over the bare
 * repositories under `projectRoot`; `pathInfo` is the repository path and service below it. Calls
 * `done` with the status git answered.
 */
export function gitHttpBackend(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: { projectRoot: string; pathInfo: string; query: string; user: string },
  done?: (status: number) => void,
): void {
  const cgi = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: options.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method,
      PATH_INFO: options.pathInfo,
      QUERY_STRING: options.query,
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      CONTENT_LENGTH: req.headers['content-length'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      HTTP_GIT_PROTOCOL: (req.headers['git-protocol'] as string) ?? '',
      REMOTE_USER: options.user,
      REMOTE_ADDR: '127.0.0.1',
    },
  });
  req.pipe(cgi.stdin);
  const chunks: Buffer[] = [];
  cgi.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  cgi.on('close', () => {
    const output = Buffer.concat(chunks);
    const split = output.indexOf('\r\n\r\n');
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of output.subarray(0, split).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      const key = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (key.toLowerCase() === 'status') status = parseInt(value, 10);
      else if (key) headers[key] = value;
    }
    done?.(status);
    res.writeHead(status, headers).end(output.subarray(split + 4));
  });
}
