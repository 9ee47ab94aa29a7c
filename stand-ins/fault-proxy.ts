import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './random';

/**
 * A small HTTP reverse proxy that injects faults in front of a real server (the test registry): a share
 * of requests (or all of them) answered with an error status instead of being forwarded, or their
 * connection dropped. The choice is pseudo-random from a fixed seed, so a run can be replayed.
 * Everything else is forwarded unchanged (method, path, headers, body), and the answer streamed back.
 */
export interface ProxyFaults {
  /** Share (0..1) of requests answered with `status`; 1 means the upstream is "down". */
  failRate?: number;
  /** Status of an injected failure; default 500. */
  status?: number;
  /** Share (0..1) of requests whose connection is closed without an answer. */
  dropRate?: number;
  /** Fails exactly the requests (by their index since the proxy started) this returns true for, instead of by chance. */
  failWhen?: (index: number) => boolean;
  /** Only requests for which this returns true are subject to faults. */
  match?: (method: string, path: string) => boolean;
  seed?: number;
}

export interface ProxyRequest {
  method: string;
  url: string;
  status: number;
  fault?: string;
}

export class FaultProxy {
  readonly requests: ProxyRequest[] = [];
  private rng = seededRandom(1);
  private seed?: number;
  private faultsValue?: ProxyFaults;

  private constructor(private readonly server: http.Server, readonly upstream: string) {}

  /** Starts a proxy on a loopback port forwarding to `upstream` (`host:port`). */
  static async start(upstream: string): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, upstream);
    server.on('request', (req, res) => proxy.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `127.0.0.1:<port>`: a loopback host, so clients speak plain HTTP to it as to the registry. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get faults(): ProxyFaults | undefined {
    return this.faultsValue;
  }

  /** Sets (or clears) the faults; a seed restarts the pseudo-random sequence. */
  set faults(value: ProxyFaults | undefined) {
    this.faultsValue = value;
    if (value?.seed !== undefined && value.seed !== this.seed) {
      this.seed = value.seed;
      this.rng = seededRandom(value.seed);
    }
  }

  get faultCount(): number {
    return this.requests.filter((r) => r.fault).length;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const entry: ProxyRequest = { method: req.method ?? '', url: req.url ?? '', status: 0 };
    this.requests.push(entry);
    const faults = this.faultsValue;
    if (faults && (faults.match?.(entry.method, new URL(entry.url, 'http://x').pathname) ?? true)) {
      const roll = this.rng();
      if (faults.failWhen ? faults.failWhen(this.requests.length - 1) : roll < (faults.failRate ?? 0)) {
        entry.status = faults.status ?? 500;
        entry.fault = String(entry.status);
        req.resume();
        res.writeHead(entry.status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected fault: unknown error', detail: {} }] }));
        return;
      }
      if (roll < (faults.failRate ?? 0) + (faults.dropRate ?? 0)) {
        entry.fault = 'drop';
        req.resume();
        req.socket.destroy();
        return;
      }
    }
    const [hostname, port] = this.upstream.split(':');
    const headers = { ...req.headers, host: this.upstream };
    const upstream = http.request({ hostname, port: Number(port), method: req.method, path: req.url, headers }, (answer) => {
      entry.status = answer.statusCode ?? 0;
      // Redirects and upload locations name the upstream: point them back at the proxy.
      const outHeaders = { ...answer.headers };
      if (typeof outHeaders.location === 'string') outHeaders.location = outHeaders.location.replace(this.upstream, this.host);
      res.writeHead(entry.status, outHeaders);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502).end('bad gateway');
      else res.destroy();
    });
    req.pipe(upstream);
  }
}
