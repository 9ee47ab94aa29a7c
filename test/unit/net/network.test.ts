import { strict as assert } from 'node:assert';
import { UserError } from '../../../shared/errors';
import { networkFailure } from '../../../shared/net/fetch';
import { fetchWith } from '../../../shared/net/proxy-fetch';
import { bypassesProxy, networkSettings, noProxyHosts } from '../../../shared/net/network';
import { TransientError } from '../../../shared/retry';
import { MemoryAgent } from '../../helpers/memory-agent';

const PASSWORD = 'p@ss:w/rd-9';

describe("the agent's network settings (shared/net)", () => {
  const read = (variables: Record<string, string>) => {
    const agent = new MemoryAgent({ variables });
    return { agent, settings: networkSettings((name) => agent.variable(name), agent) };
  };

  it('reads the proxy, its credentials and bypass list, and the CA file, from the variables task-lib reads', () => {
    const { settings } = read({
      'Agent.ProxyUrl': 'http://proxy.corp:3128',
      'Agent.ProxyUsername': 'ci agent',
      'Agent.ProxyPassword': PASSWORD,
      'Agent.ProxyBypassList': JSON.stringify(['.*\\.corp\\.example$']),
      'Agent.CAInfo': '/etc/ssl/corp-ca.pem',
    });
    assert.deepEqual(settings, {
      caFile: '/etc/ssl/corp-ca.pem',
      proxy: { url: 'http://proxy.corp:3128', username: 'ci agent', password: PASSWORD, bypass: ['.*\\.corp\\.example$'] },
    });
    assert.deepEqual(read({}).settings, {}, 'no proxy, no CA file: nothing');
    assert.deepEqual(read({ 'Agent.CAInfo': '/ca.pem' }).settings, { caFile: '/ca.pem' });
    const client = read({ 'Agent.ClientCert': '/agent/client.pem' });
    assert.match(client.agent.warnings[0].message, /The agent has a client certificate \(Agent\.ClientCert\); this task does not present it/);
  });

  it('masks every form of the proxy password: as given, URL-encoded, in the formatted proxy URL and in a Basic header', () => {
    const { agent } = read({ 'Agent.ProxyUrl': 'http://proxy.corp:3128', 'Agent.ProxyUsername': 'ci', 'Agent.ProxyPassword': PASSWORD });
    assert.deepEqual(agent.secrets, [PASSWORD, encodeURIComponent(PASSWORD), `Basic ${Buffer.from(`ci:${PASSWORD}`).toString('base64')}`, `ci:${PASSWORD}@proxy.corp:3128`]);
  });

  it('refuses a proxy URL that is not a URL, after masking the password', () => {
    const agent = new MemoryAgent({ variables: { 'Agent.ProxyUrl': 'proxy.corp 3128', 'Agent.ProxyPassword': PASSWORD } });
    assert.throws(
      () => networkSettings((name) => agent.variable(name), agent),
      new UserError("The agent's proxy URL (Agent.ProxyUrl) 'proxy.corp 3128' is not a URL: configure the agent's proxy as http://host:port."),
    );
    assert.ok(agent.secrets.includes(PASSWORD));
  });

  it('leaves out, with a warning, a bypass entry that is not a regular expression, and a list that is not JSON', () => {
    const { agent, settings } = read({ 'Agent.ProxyUrl': 'http://proxy:3128', 'Agent.ProxyBypassList': JSON.stringify(['*.corp.example', 'github\\.com']) });
    assert.deepEqual(settings.proxy?.bypass, ['github\\.com']);
    assert.match(agent.warnings[0].message, /The agent's proxy bypass entry '\*\.corp\.example' is not a regular expression .*: left out\./);
    const broken = read({ 'Agent.ProxyUrl': 'http://proxy:3128', 'Agent.ProxyBypassList': 'github.com' });
    assert.deepEqual(broken.settings.proxy?.bypass, []);
    assert.match(broken.agent.warnings[0].message, /is not a JSON list: every URL goes through the proxy/);
  });

  it('bypasses the proxy for a URL a pattern matches, case-insensitively, anywhere in the whole URL (as task-lib does)', () => {
    const proxy = { url: 'http://proxy:3128', bypass: ['\\.corp\\.example(:\\d+)?/', '^http://10\\.'] };
    assert.equal(bypassesProxy(proxy, 'https://Registry.CORP.example/v2/'), true);
    assert.equal(bypassesProxy(proxy, 'http://10.0.0.4:5000/v2/'), true);
    assert.equal(bypassesProxy(proxy, 'https://myacr.azurecr.io/v2/'), false);
    assert.equal(bypassesProxy({ url: 'http://proxy:3128' }, 'https://x/'), false);
  });

  it('turns the bypass patterns that name a host or domain into NO_PROXY entries, and says which cannot be', () => {
    const lines: string[] = [];
    const log = { debug: (m: string) => lines.push(m), info: () => undefined, warn: () => undefined, setSecret: () => undefined };
    const hosts = noProxyHosts(
      ['github\\.com', '^https?://build\\.corp\\.example$', '.*\\.corp\\.example', '127.0.0.1', '^http://10\\.1\\.2\\.3:8080/.*', '(dev|test)\\.corp', 'https://a\\.b/path', '^https?://registry\\.corp:', 'nexus\\.corp(:\\d+)?'],
      log,
    );
    assert.deepEqual(hosts, ['github.com', 'build.corp.example', '.corp.example', '127.0.0.1', '10.1.2.3:8080', 'registry.corp', 'nexus.corp']);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /The proxy bypass pattern '\(dev\|test\)\\\.corp' names no single host or domain, so git cannot be told to bypass the proxy for it/);
    assert.match(lines[1], /'https:\/\/a\\\.b\/path'/);
  });
});

describe('fetchWith and networkFailure: the HTTP transport', () => {
  it("is the global fetch when the agent has neither a proxy nor a CA file (undici is not loaded)", () => {
    assert.equal(fetchWith({}), fetch);
    assert.equal(fetchWith(), fetch);
  });

  it('refuses a CA file it cannot read, naming the agent setting', () => {
    assert.throws(() => fetchWith({ caFile: '/nonexistent/ca.pem' }), (error: Error) => error instanceof UserError && /The agent's CA file \(Agent\.CAInfo\) \/nonexistent\/ca\.pem cannot be read \(ENOENT\)/.test(error.message));
  });

  it('reads a proxy refusal and an untrusted certificate as UserErrors, anything else as transient, through the causes fetch wraps', () => {
    const wrapped = (cause: Error) => new TypeError('fetch failed', { cause });
    const refused = networkFailure(wrapped(new Error('Proxy response (407) !== 200 when HTTP Tunneling')), 'the registry r.example');
    assert.ok(refused instanceof UserError);
    assert.match(refused.message, /^Could not reach the registry r\.example: the proxy refused the agent's proxy credentials \(HTTP 407\): check the proxy username and password/);
    assert.match(networkFailure(wrapped(new Error('Proxy response (401) !== 200 when HTTP Tunneling')), 'x').message, /^Could not reach x: the proxy refused the agent's proxy credentials \(HTTP 401\)/);
    const untrusted = networkFailure(wrapped(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })), 'the registry r.example');
    assert.ok(untrusted instanceof UserError);
    assert.match(untrusted.message, /^Could not reach the registry r\.example: its certificate is not signed by an authority this agent trusts \(fetch failed: self-signed certificate in certificate chain\): configure the agent with the certificate authority's PEM file \(config --sslcacert, which sets Agent\.CAInfo\)\.$/);
    const dropped = networkFailure(wrapped(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })), 'the registry r.example');
    assert.ok(dropped instanceof TransientError);
    assert.equal(dropped.message, 'the registry r.example could not be reached: fetch failed: connect ECONNREFUSED 127.0.0.1:9');
  });
});
