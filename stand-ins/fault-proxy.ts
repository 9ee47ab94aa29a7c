import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './random';
import { acceptOnlyFrom, type GateRecord } from './source-gate';

/**
 * A small HTTP reverse proxy that injects faults in front of a real server (the test registry, the Azure
 * DevOps stand-in): latency, a share of requests (or all of them) answered with an error status instead
 * of being forwarded, connections dropped before the answer, or answers cut half-way after the upstream
 * did the work (the nastiest case for a client). The choice is pseudo-random from a seed, so a run can
 * be replayed. Everything else is forwarded unchanged (method, path, headers, body), and the answer
 * streamed back.
 */
export interface ProxyFaults {
  /** Delay added before every request in scope. */
  latencyMs?: number;
  /** Share (0..1) of requests answered with a failure from `failWith`; 1 means the upstream is "down". */
  failRate?: number;
  /** Failures picked at random; default a 500. */
  failWith?: Array<{ status: number; retryAfter?: string }>;
  /** Fails exactly the requests (by their index since the proxy started) this returns true for, instead of by chance. */
  failWhen?: (index: number) => boolean;
  /** Share (0..1) of requests whose connection is closed without an answer. */
  dropRate?: number;
  /** Share (0..1) of requests that are served (side effects happen) but whose answer is cut mid-body. */
  truncateRate?: number;
  /** Only requests for which this returns true are subject to faults (called once per request). */
  match?: (method: string, path: string) => boolean;
  /** Seed for the pseudo-random choice; setting a new seed restarts the sequence. */
  seed?: number;
}

export interface ProxyRequest {
  method: string;
  /** Path and query, without the host. */
  url: string;
  /** The upstream's status, the injected failure's, or 0 for a dropped connection. */
  status: number;
  /** The fault injected instead of (or after) serving it: the status, 'drop' or 'truncate'. */
  fault?: string;
  /** True when the same method and URL failed (a fault, 5xx or 429) just before: the client retried it. */
  retry: boolean;
}

/** The headers and body of an injected failure, as the upstream would send them. */
export type FailureAnswer = (failure: { status: number; retryAfter?: string }) => { headers: Record<string, string>; body: string };

/** Distribution's error shape, as the registry answers. */
const registryFailure: FailureAnswer = () => ({
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected fault: unknown error', detail: {} }] }),
});

export class FaultProxy {
  readonly requests: ProxyRequest[] = [];
  private readonly lastByKey = new Map<string, ProxyRequest>();
  private rng = seededRandom(1);
  private seed?: number;
  private faultsValue?: ProxyFaults;
  /** To the upstream without keep-alive: no race with its idle timeout, and loopback connects are cheap. */
  private readonly agent = new http.Agent({ keepAlive: false });

  private constructor(private readonly server: http.Server, readonly upstream: string, private readonly failure: FailureAnswer) {}

  /** Starts a proxy on a loopback port forwarding to `upstream` (`host:port`). */
  static async start(upstream: string, options: { failure?: FailureAnswer } = {}): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, upstream, options.failure ?? registryFailure);
    server.on('request', (req, res) => void proxy.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `127.0.0.1:<port>`: a loopback host, so clients speak plain HTTP to it as to the upstream. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get faults(): ProxyFaults | undefined {
    return this.faultsValue;
  }

  /** Sets (or clears) the faults; a new seed restarts the pseudo-random sequence. */
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

  /** Accepts connections only from `address` (a proxy's outgoing address): see stand-ins/source-gate.ts. */
  acceptOnlyFrom(address: string): GateRecord {
    return acceptOnlyFrom(this.server, address);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.agent.destroy();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const key = `${req.method} ${req.url}`;
    const previous = this.lastByKey.get(key);
    const entry: ProxyRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      status: 0,
      retry: previous !== undefined && (previous.fault !== undefined || previous.status >= 500 || previous.status === 429),
    };
    this.requests.push(entry);
    this.lastByKey.set(key, entry);
    const index = this.requests.length - 1;
    const faults = this.faultsValue;
    if (!faults || !(faults.match?.(entry.method, new URL(entry.url, 'http://x').pathname) ?? true)) return this.forward(req, res, entry);

    if (faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    const roll = this.rng();
    const failRate = faults.failRate ?? 0;
    const dropRate = faults.dropRate ?? 0;
    if (faults.failWhen ? faults.failWhen(index) : roll < failRate) {
      const choices = faults.failWith ?? [{ status: 500 }];
      const pick = choices.length > 1 ? choices[Math.floor(this.rng() * choices.length)] : choices[0];
      entry.status = pick.status;
      entry.fault = String(pick.status);
      await drain(req);
      const answer = this.failure(pick);
      const headers = pick.retryAfter === undefined ? answer.headers : { 'Retry-After': pick.retryAfter, ...answer.headers };
      res.writeHead(pick.status, headers).end(answer.body);
      return;
    }
    if (roll < failRate + dropRate) {
      entry.fault = 'drop';
      await drain(req);
      req.socket.destroy();
      return;
    }
    if (roll < failRate + dropRate + (faults.truncateRate ?? 0)) return this.forward(req, res, entry, true);
    return this.forward(req, res, entry);
  }

  /** Sends the request upstream and its answer back; `truncate` cuts the answer half-way and closes the connection. */
  private forward(req: http.IncomingMessage, res: http.ServerResponse, entry: ProxyRequest, truncate = false): void {
    const [hostname, port] = this.upstream.split(':');
    const headers = { ...req.headers, host: this.upstream };
    delete headers.connection;
    const upstream = http.request({ hostname, port: Number(port), method: req.method, path: req.url, headers, agent: this.agent }, (answer) => {
      entry.status = answer.statusCode ?? 0;
      // Redirects and upload locations name the upstream: point them back at the proxy.
      const outHeaders = { ...answer.headers };
      if (typeof outHeaders.location === 'string') outHeaders.location = outHeaders.location.replace(this.upstream, this.host);
      if (!truncate) {
        res.writeHead(entry.status, outHeaders);
        answer.pipe(res);
        return;
      }
      entry.fault = 'truncate';
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        delete outHeaders['transfer-encoding'];
        res.writeHead(entry.status, { ...outHeaders, 'content-length': String(body.length) });
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        setTimeout(() => req.socket.destroy(), 5);
      });
    });
    upstream.on('error', () => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502).end('bad gateway');
      else res.destroy();
    });
    req.pipe(upstream);
  }
}

/** Reads and discards a request's body, so that the client has sent it all before the answer. */
async function drain(req: http.IncomingMessage): Promise<void> {
  req.resume();
  if (req.readableEnded) return;
  await new Promise<void>((resolve) => {
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', resolve);
  });
}
