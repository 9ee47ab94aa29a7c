import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sinon from 'sinon';
import { UserError } from '../../shared/errors';
import { Git } from '../../shared/git/git';
import { configuredRemoteUrl, Remote, type RemoteSettings } from '../../shared/git/remote';
import { pushTags, remoteTags } from '../../shared/git/remote-tags';
import { run } from '../../shared/process';
import { GitServer } from '../../stand-ins/git-server';
import { testLog } from '../helpers/gitops-tree';

const TOKEN = 'tok-remote-5e6f7a8b9c';
const HINTS = { unauthorized: 'Use a valid token.', forbidden: 'Grant "Create tag".' };

/**
 * A forward proxy for plain HTTP, as a corporate proxy answers git: 407 with a Basic challenge until
 * the request carries the credentials, then the request passed on to its absolute URL.
 */
async function startProxy(username: string, password: string) {
  const seen: Array<{ url: string; auth?: string }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (req.headers['proxy-authorization'] !== `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`) {
      req.resume();
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="corp"' }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = http.request(req.url!, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('git remotes: settings in the environment, transient failures retried, clear refusals', function () {
  this.timeout(60_000);
  let server: GitServer;
  let base: string;
  let work: Git;
  const env = { GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' };
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'git-remote-test-'));
    for (const [key, value] of Object.entries({ ...env, HOME: base })) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    server = await GitServer.start(TOKEN);
    await server.createRepo('app');
    work = new Git(path.join(base, 'work'));
    await fs.mkdir(work.dir);
    await work.run(['init', '--quiet', '--initial-branch=main']);
    await work.run(['commit', '--quiet', '--allow-empty', '-m', 'first']);
    await work.run(['remote', 'add', 'origin', server.repoUrl('app')]);
    await new Remote(work, 'origin', { settings: { token: TOKEN }, hints: HINTS }).run('Pushing main', ['push', '--quiet', 'origin', 'main']);
  });
  after(async () => {
    await server?.stop();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await fs.rm(base, { recursive: true, force: true });
  });
  afterEach(() => {
    server.beforeRequest = undefined;
    sinon.restore();
  });

  /** Every request answered with the status `fault()` names, or its connection dropped ('drop'); served when it names none. */
  const answer = (fault: () => string | undefined) => {
    server.beforeRequest = (req, res) => {
      const what = fault();
      if (!what) return false;
      req.resume();
      if (what === 'drop') req.socket.destroy();
      else res.writeHead(Number(what)).end('fault');
      return true;
    };
  };

  const remote = (settings: RemoteSettings = { token: TOKEN }, waits: number[] = []) =>
    new Remote(work, 'origin', { settings, hints: HINTS, log: testLog(), retry: { sleep: async (ms) => void waits.push(ms) } });

  it('runs a command again after HTTP 503 and a dropped connection, waiting the jittered backoff', async () => {
    sinon.stub(Math, 'random').returns(0.5);
    const faults = ['503', 'drop'];
    answer(() => faults.shift());
    const waits: number[] = [];
    const tags = await remoteTags(remote({ token: TOKEN }, waits));
    assert.equal(tags.size, 0);
    assert.deepEqual(faults, [], 'both faults were met');
    // Half of each window: 500 ms, then 1 s.
    assert.deepEqual(waits, [250, 500]);
  });

  it('gives up after six attempts with what git said, and never retries a refusal', async () => {
    let refused = 0;
    answer(() => (refused++, '503'));
    const waits: number[] = [];
    await assert.rejects(remoteTags(remote({ token: TOKEN }, waits)), (error: Error) => error instanceof UserError && /Could not read the tags of origin: .*503/.test(error.message));
    assert.equal(refused, 6);
    assert.equal(waits.length, 5);

    let denied = 0;
    answer(() => (denied++, '403'));
    await assert.rejects(remoteTags(remote()), /Could not read the tags of origin: access denied \(HTTP 403\)\. Grant "Create tag"\./);
    assert.equal(denied, 1);
    await assert.rejects(remoteTags(remote({ token: 'tok-wrong-1' })), /the access token was refused \(HTTP 401\)\. Use a valid token\./);
  });

  it('goes through a proxy with credentials, or around it for a bypassed host; the password only in the environment', async () => {
    const proxy = await startProxy('ci agent', 'pr0xy:p@ss');
    try {
      const through = remote({ token: TOKEN, proxy: { url: proxy.url, username: 'ci agent', password: 'pr0xy:p@ss' } });
      const spy = sinon.spy(work, 'run');
      await remoteTags(through);
      assert.ok(proxy.seen.some((r) => r.url.startsWith(`${server.url}/app.git/info/refs`) && r.auth), 'git sent its request, with the credentials, through the proxy');
      for (const call of spy.getCalls()) assert.ok(!call.args[0].join(' ').includes('p@ss'), `password in argv: ${call.args[0].join(' ')}`);
      const config = await fs.readFile(path.join(work.dir, '.git', 'config'), 'utf8');
      assert.ok(!/proxy|p@ss|extraheader/i.test(config), '.git/config untouched');

      const seen = proxy.seen.length;
      // The agent's bypass patterns are regular expressions over the URL; git gets the host they name in NO_PROXY.
      await remoteTags(remote({ token: TOKEN, proxy: { url: proxy.url, username: 'ci agent', password: 'pr0xy:p@ss', bypass: ['^http://127\\.0\\.0\\.1:'] } }));
      assert.equal(proxy.seen.length, seen, 'a bypassed host is reached directly');

      const wrong = remote({ token: TOKEN, proxy: { url: proxy.url, username: 'ci agent', password: 'wrong-pa55' } });
      await assert.rejects(
        remoteTags(wrong),
        (error: Error) => /^Could not read the tags of origin: the proxy refused the agent's proxy credentials \(HTTP 407\): check the proxy username and password/.test(error.message) && !error.message.includes('wrong-pa55'),
      );
    } finally {
      await proxy.stop();
    }
  });

  it("takes a remote input only when it is one of git remote's names, before any git command sees it", async () => {
    await work.run(['remote', 'add', 'team/fork', server.repoUrl('fork')]);
    assert.equal(await configuredRemoteUrl(work, 'team/fork'), server.repoUrl('fork'));
    const spy = sinon.spy(work, 'run');
    for (const [name, message] of [
      ['--upload-pack=touch /tmp/pwned', /The remote input '--upload-pack=touch \/tmp\/pwned' is not a git remote's name \(it has: origin, team\/fork\)/],
      ['-v', /is not a git remote's name/],
      [`${server.repoUrl('app')}`, /is not a git remote's name/],
      ['origin\nfetch', /The remote input "origin\\nfetch" is not a git remote's name/],
      ['upstream', /has no remote 'upstream' \(it has: origin, team\/fork\): set the remote input to one of them/],
    ] as const) {
      await assert.rejects(configuredRemoteUrl(work, name), (error: Error) => error instanceof UserError && message.test(error.message));
    }
    assert.deepEqual(spy.getCalls().map((call) => call.args[0]), Array(5).fill(['remote']), 'only `git remote` ran');
  });

  describe('pushTags', () => {
    let scratch: string;
    beforeEach(async () => {
      scratch = await fs.mkdtemp(path.join(base, 'scratch-'));
    });
    const tag = async (name: string, annotated = true) => {
      await work.run(['tag', '-f', ...(annotated ? ['-a', '-m', name] : []), '--', name]);
      return work.text(['rev-parse', `refs/tags/${name}`]);
    };

    it("pushes the given objects in one push from a ref-less scratch directory, and leaves nothing behind", async () => {
      // The repository holds many refs: the push does not have to look through them.
      await work.run(['update-ref', '--stdin'], { input: Array.from({ length: 300 }, (_, i) => `create refs/heads/other-${i} HEAD\n`).join('') });
      const refs = [
        { tag: 'heuristic/1.4.2', object: await tag('heuristic/1.4.2'), force: false },
        { tag: 'light', object: await tag('light', false), force: false },
      ];
      const before = server.requests.filter((r) => r.url.includes('git-receive-pack') && r.method === 'POST').length;
      const pushed = await pushTags(remote(), refs, scratch);
      assert.ok(pushed.ok, pushed.stderr);
      assert.deepEqual([...pushed.accepted].sort(), ['heuristic/1.4.2', 'light']);
      assert.equal(server.requests.filter((r) => r.url.includes('git-receive-pack') && r.method === 'POST').length - before, 1, 'one push');
      const held = await remoteTags(remote());
      for (const ref of refs) assert.equal(held.get(ref.tag)?.object, ref.object);
      assert.deepEqual(await fs.readdir(scratch), [], 'the scratch git directory is removed');
      // Pushing again is safe: the tags are up to date.
      assert.ok((await pushTags(remote(), refs, scratch)).ok);
    });

    it("follows the repository's configuration (a push URL), and force-pushes only the refs marked so", async () => {
      await server.createRepo('mirror');
      await work.run(['config', 'remote.origin.pushurl', server.repoUrl('mirror')]);
      try {
        const first = await pushTags(remote(), [{ tag: 'moving', object: await tag('moving'), force: false }], scratch);
        assert.ok(first.ok, first.stderr);
        assert.match(await run('git', ['for-each-ref', 'refs/tags'], { cwd: server.bareDir('mirror') }).then((r) => r.stdout), /refs\/tags\/moving/);
        await work.run(['commit', '--quiet', '--allow-empty', '-m', 'second']);
        const moved = await tag('moving');
        const refused = await pushTags(remote(), [{ tag: 'moving', object: moved, force: false }], scratch);
        assert.equal(refused.ok, false);
        assert.match(refused.stderr, /rejected moving: \[rejected\] \(already exists\)/);
        const forced = await pushTags(remote(), [{ tag: 'moving', object: moved, force: true }], scratch);
        assert.ok(forced.ok, forced.stderr);
        assert.equal((await run('git', ['rev-parse', 'refs/tags/moving'], { cwd: server.bareDir('mirror') })).stdout.trim(), moved);
        assert.deepEqual(await fs.readdir(scratch), [], 'removed after a refused push too');
      } finally {
        await work.run(['config', '--unset', 'remote.origin.pushurl']);
      }
    });

    it('pushes the tags of a SHA-256 repository', async () => {
      const dir = path.join(base, 'sha256');
      const bare = path.join(base, 'sha256-remote.git');
      await run('git', ['init', '--quiet', '--bare', '--object-format=sha256', bare]);
      await run('git', ['init', '--quiet', '--object-format=sha256', dir]);
      const git = new Git(dir);
      await git.run(['commit', '--quiet', '--allow-empty', '-m', 'first']);
      await git.run(['remote', 'add', 'origin', bare]);
      await git.run(['tag', '-a', '-m', 'v1', 'v1']);
      const object = await git.text(['rev-parse', 'refs/tags/v1']);
      assert.equal(object.length, 64);
      const pushed = await pushTags(new Remote(git, 'origin', { hints: HINTS }), [{ tag: 'v1', object, force: false }], scratch);
      assert.ok(pushed.ok, pushed.stderr);
      assert.equal((await run('git', ['rev-parse', 'refs/tags/v1'], { cwd: bare })).stdout.trim(), object);
    });
  });
});
