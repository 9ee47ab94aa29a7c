import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A real forward proxy for tests: Debian's tinyproxy in the foreground on a free loopback port, with
 * Basic proxy authentication, CONNECT allowed to any port (no ConnectPort line), and every outgoing
 * connection made from `outgoing` (tinyproxy's `Bind`), an address of its own in 127.0.0.0/8: a server
 * that accepts connections only from that address (`acceptOnlyFrom`, stand-ins/source-gate.ts) can be
 * reached through the proxy and not directly. `log()` reads tinyproxy's log (each request and CONNECT).
 */
export class TinyProxy {
  /** The address tinyproxy connects to servers from. */
  static readonly outgoing = '127.0.0.2';

  private constructor(private readonly child: ChildProcess, private readonly dir: string, readonly port: number, readonly username: string, readonly password: string) {}

  /** Starts tinyproxy; the password may hold letters, digits and `-._` only (tinyproxy's BasicAuth syntax). */
  static async start(username: string, password: string): Promise<TinyProxy> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tinyproxy-'));
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      `Bind ${TinyProxy.outgoing}`,
      'Timeout 60',
      'MaxClients 50',
      `LogFile "${path.join(dir, 'tinyproxy.log')}"`,
      'LogLevel Connect',
      'Allow 127.0.0.1',
      `BasicAuth ${username} ${password}`,
    ].join('\n');
    await fs.writeFile(path.join(dir, 'tinyproxy.conf'), `${config}\n`, { mode: 0o600 });
    const child = spawn('tinyproxy', ['-d', '-c', path.join(dir, 'tinyproxy.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    child.stdout!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
    const proxy = new TinyProxy(child, dir, port, username, password);
    for (let waited = 0; !(await accepts(port)); waited += 50) {
      if (child.exitCode !== null || waited > 10_000) {
        await proxy.stop();
        throw new Error(`tinyproxy did not start on port ${port}: ${said}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return proxy;
  }

  /** The proxy's URL, without credentials (what Agent.ProxyUrl holds). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** tinyproxy's log so far. */
  async log(): Promise<string> {
    return fs.readFile(path.join(this.dir, 'tinyproxy.log'), 'utf8').catch(() => '');
  }

  /** The request lines tinyproxy received (`CONNECT 127.0.0.1:5000 HTTP/1.1`, `GET http://… HTTP/1.1`), in order. */
  async requests(): Promise<string[]> {
    return [...(await this.log()).matchAll(/Request \(file descriptor \d+\): (.*)$/gm)].map((m) => m[1]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill();
      await exited;
    }
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** A loopback port nothing listens on (tinyproxy takes no port 0). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts connections on the loopback port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
