import * as assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../shared/errors';
import { Git } from '../../shared/git/git';
import { Remote } from '../../shared/git/remote';
import { remoteTags } from '../../shared/git/remote-tags';
import { fetchWith } from '../../shared/net/proxy-fetch';
import type { NetworkSettings } from '../../shared/net/network';
import { run } from '../../shared/process';
import { RegistryClient } from '../../shared/registry/client';
import { GitServer } from '../../stand-ins/git-server';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { TinyProxy } from '../../stand-ins/tinyproxy';
import { testLog } from '../helpers/gitops-tree';
import { requireTool } from '../helpers/requires';

const TOKEN = 'ca-token-8d2f41';
const HINTS = { unauthorized: 'Use a valid token.', forbidden: 'Grant access.' };

/**
 * A certificate authority of our own (openssl) and a server certificate it signed, for 127.0.0.1 and
 * this machine's host name: what a company's private CA looks like to the agent (its Agent.CAInfo).
 */
async function privateCa(dir: string, hostname: string): Promise<{ ca: string; cert: string; key: string }> {
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=Edge Test Private CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', `/CN=${hostname}`]);
  await fs.writeFile(file('server.ext'), `subjectAltName=IP:127.0.0.1,DNS:${hostname}\nextendedKeyUsage=serverAuth\n`);
  await run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('server.ext')]);
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

/**
 * The agent's CA file (Agent.CAInfo): git and the registry client accept a server whose certificate a
 * private CA signed when the agent trusts that CA, and refuse it, saying which agent setting to fix,
 * when it does not; directly and through the proxy (a CONNECT tunnel, TLS end to end).
 */
describe("the agent's CA file: servers with a certificate from a private CA", function () {
  this.timeout(120_000);
  let dir: string;
  let files: { ca: string; cert: string; key: string };
  let proxy: TinyProxy;
  let hostname: string;

  before(async function () {
    await requireTool(this, 'openssl', 'tinyproxy', ...REGISTRY_TOOLS);
    // The registry client speaks plain HTTP to a loopback name (as docker does): the registry is named by
    // this machine's host name, which resolves to 127.0.0.1 here (/etc/hosts).
    hostname = os.hostname();
    const { address } = await dns.lookup(hostname, { family: 4 });
    assert.equal(address, '127.0.0.1', `this test needs the host name ${hostname} to resolve to 127.0.0.1 (it is ${address})`);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'private-ca-'));
    files = await privateCa(dir, hostname);
    proxy = await TinyProxy.start('ci-agent', 'ca-pr0xy-Pa55');
  });
  after(async () => {
    await proxy?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const viaProxy = (): NetworkSettings['proxy'] => ({ url: proxy.url, username: proxy.username, password: proxy.password });

  describe('git (http.sslCAInfo)', () => {
    let server: GitServer;
    let work: Git;
    before(async () => {
      server = await GitServer.start(TOKEN, { cert: await fs.readFile(files.cert, 'utf8'), key: await fs.readFile(files.key, 'utf8') });
      const bare = await server.createRepo('app');
      await run('git', ['--git-dir', bare, 'tag', 'v1', await run('git', ['--git-dir', bare, 'hash-object', '-w', '--stdin'], { input: 'x' }).then((r) => r.stdout.trim())]);
      work = new Git(path.join(dir, 'work'));
      await fs.mkdir(work.dir);
      await work.run(['init', '--quiet']);
    });
    after(async () => server?.stop());

    const tags = (network: NetworkSettings) => remoteTags(new Remote(work, server.repoUrl('app'), { settings: { token: TOKEN, ...network }, hints: HINTS, log: testLog(), retry: { attempts: 1 } }));

    it('accepts the server when the agent trusts the CA, directly and through the proxy', async () => {
      assert.ok(server.url.startsWith('https://'));
      assert.deepEqual([...(await tags({ caFile: files.ca })).keys()], ['v1']);
      const before = (await proxy.requests()).length;
      assert.deepEqual([...(await tags({ caFile: files.ca, proxy: viaProxy() })).keys()], ['v1']);
      assert.ok((await proxy.requests()).slice(before).includes(`CONNECT ${new URL(server.url).host} HTTP/1.1`), 'git tunnelled through the proxy');
    });

    it('refuses it without the CA, naming the agent setting', async () => {
      await assert.rejects(tags({}), (error: Error) =>
        error instanceof UserError &&
        /^Could not read the tags of https:\/\/127\.0\.0\.1:\d+\/app\.git: its certificate is not signed by an authority this agent trusts \(server certificate verification failed\): configure the agent with the certificate authority's PEM file \(config --sslcacert, which sets Agent\.CAInfo\)\.$/.test(error.message),
      );
    });
  });

  describe('the registry client (fetchWith)', () => {
    let registry: TestRegistry;
    let name: string;
    before(async () => {
      registry = await TestRegistry.start('pipeline', 'reg-ca-secret-5b', { certificate: files.cert, key: files.key });
      name = `${hostname}:${registry.host.split(':')[1]}`;
    });
    after(async () => registry?.stop());

    const client = (network: NetworkSettings) => new RegistryClient(name, { username: registry.username, password: registry.password }, fetchWith(network));

    it('accepts the registry when the agent trusts the CA, directly and through the proxy', async () => {
      assert.equal(client({}).baseUrl, `https://${name}`);
      await client({ caFile: files.ca }).ping();
      assert.deepEqual(await client({ caFile: files.ca }).listTags('heuristic'), []);
      const before = (await proxy.requests()).length;
      await client({ caFile: files.ca, proxy: viaProxy() }).ping();
      const tunnels = (await proxy.requests()).slice(before);
      assert.ok(tunnels.length > 0 && tunnels.every((r) => r === `CONNECT ${name} HTTP/1.1`), tunnels.join('\n'));
    });

    it('refuses it without the CA (Node\'s roots only), naming the agent setting, without retrying', async () => {
      await assert.rejects(client({}).ping(), (error: Error) =>
        error instanceof UserError &&
        new RegExp(`^Could not reach the registry ${name}: its certificate is not signed by an authority this agent trusts \\(fetch failed: unable to verify the first certificate\\): configure the agent with the certificate authority's PEM file`).test(error.message),
      );
    });
  });
});
