import { strict as assert } from 'node:assert';
import { Git } from '../../../shared/git/git';
import { classifyGitFailure, Remote, remoteEnv, safeUrl } from '../../../shared/git/remote';

describe('git remote settings reach git through the environment only', () => {
  it('sends the job token as a bearer header, and a PAT as Basic', () => {
    assert.deepEqual(remoteEnv({ token: 'tok-1' }, {}), {
      env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraheader', GIT_CONFIG_VALUE_0: 'AUTHORIZATION: bearer tok-1' },
      secrets: ['tok-1'],
      derived: [],
    });
    const basic = Buffer.from('pat:pat-2').toString('base64');
    const pat = remoteEnv({ token: 'pat-2', tokenKind: 'pat' }, {});
    assert.equal(pat.env.GIT_CONFIG_VALUE_0, `AUTHORIZATION: basic ${basic}`);
    assert.deepEqual(pat.derived, [basic], 'the Basic form is registered as a secret of its own');
  });

  it('adds a proxy with its credentials (percent-encoded), the bypassed hosts (from the bypass patterns) and a CA file', () => {
    const { env, secrets, derived } = remoteEnv(
      { token: 'tok-1', proxy: { url: 'http://proxy.corp:3128', username: 'ci agent', password: 'p@ss:w/rd', bypass: ['.*\\.corp', '^https?://10\\.0\\.0\\.1'] }, caFile: '/etc/ssl/corp-ca.pem' },
      {},
    );
    const proxyUrl = 'http://ci%20agent:p%40ss%3Aw%2Frd@proxy.corp:3128/';
    assert.deepEqual(env, {
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      GIT_CONFIG_VALUE_0: 'AUTHORIZATION: bearer tok-1',
      GIT_CONFIG_KEY_1: 'http.proxy',
      GIT_CONFIG_VALUE_1: proxyUrl,
      GIT_CONFIG_KEY_2: 'http.sslCAInfo',
      GIT_CONFIG_VALUE_2: '/etc/ssl/corp-ca.pem',
      GIT_SSL_CAINFO: '/etc/ssl/corp-ca.pem',
      NO_PROXY: '.corp,10.0.0.1',
      no_proxy: '.corp,10.0.0.1',
    });
    assert.deepEqual(secrets, ['tok-1', 'p@ss:w/rd', 'p%40ss%3Aw%2Frd', proxyUrl]);
    assert.deepEqual(derived, ['p%40ss%3Aw%2Frd', proxyUrl]);
    // A proxy without credentials carries no secret.
    assert.deepEqual(remoteEnv({ proxy: { url: 'http://proxy.corp:3128' } }, {}).secrets, []);
  });

  it("comes after the parent's own GIT_CONFIG_* entries, which stay", () => {
    const { env } = remoteEnv({ token: 'tok-1', caFile: '/ca.pem' }, { GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'a.b', GIT_CONFIG_KEY_1: 'c.d' });
    assert.deepEqual(env, {
      GIT_CONFIG_KEY_2: 'http.extraheader',
      GIT_CONFIG_VALUE_2: 'AUTHORIZATION: bearer tok-1',
      GIT_CONFIG_KEY_3: 'http.sslCAInfo',
      GIT_CONFIG_VALUE_3: '/ca.pem',
      GIT_CONFIG_COUNT: '4',
      GIT_SSL_CAINFO: '/ca.pem',
    });
    assert.deepEqual(remoteEnv({}, {}).env, {}, 'no settings, no variables');
  });
});

describe('git network failures, as git 2.39 reports them', () => {
  const cases: Array<[string, ReturnType<typeof classifyGitFailure>]> = [
    ["fatal: Authentication failed for 'https://dev.azure.com/edge/Edge/_git/app/'", 'unauthorized'],
    ["fatal: could not read Username for 'http://127.0.0.1:4711': terminal prompts disabled", 'unauthorized'],
    ["fatal: unable to access 'https://dev.azure.com/edge/Edge/_git/app/': The requested URL returned error: 403", 'forbidden'],
    ["remote: TF401019: The Git repository with name or identifier app does not exist.\nfatal: repository 'https://dev.azure.com/edge/Edge/_git/app/' not found", 'not-found'],
    ['fatal: couldn\'t find remote ref refs/heads/release', 'missing-ref'],
    ['!\t3f2a:refs/heads/gitops/devtest\t[rejected] (stale info)\nDone', 'rejected'],
    [' ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs', 'rejected'],
    ['!\trefs/tags/a/1:refs/tags/a/1\t[rejected] (already exists)', 'rejected'],
    ['!\trefs/tags/a/1:refs/tags/a/1\t[remote rejected] (pre-receive hook declined)', 'other'],
    ['error: RPC failed; HTTP 503 curl 22 The requested URL returned error: 503\nfatal: the remote end hung up unexpectedly', 'transient'],
    ["fatal: unable to access 'http://127.0.0.1:4711/app.git/': The requested URL returned error: 429", 'transient'],
    ["fatal: unable to access 'http://127.0.0.1:4711/app.git/': Empty reply from server", 'transient'],
    ['error: RPC failed; curl 56 Recv failure: Connection reset by peer\nfatal: early EOF', 'transient'],
    ['error: RPC failed; HTTP 413 curl 22 The requested URL returned error: 413', 'other'],
    ["fatal: 'nope' does not appear to be a git repository", 'other'],
  ];
  for (const [output, kind] of cases) {
    it(`${kind}: ${output.split('\n')[0].slice(0, 70)}`, () => assert.equal(classifyGitFailure(output), kind));
  }

  const remote = new Remote(new Git('/nonexistent'), 'https://dev.azure.com/edge/Edge/_git/app', {
    settings: { token: 'tok-secret-1', tokenKind: 'pat' },
    label: "remote 'origin' (https://dev.azure.com/edge/Edge/_git/app)",
    hints: { unauthorized: 'Use a valid token.', forbidden: 'Grant "Create tag".' },
  });

  it('become messages naming the remote, the HTTP status and what to do', () => {
    assert.equal(remote.failure('push tags to', "fatal: Authentication failed for 'x'").message, "Could not push tags to remote 'origin' (https://dev.azure.com/edge/Edge/_git/app): the access token was refused (HTTP 401). Use a valid token.");
    assert.equal(remote.failure('push tags to', 'The requested URL returned error: 403').message, "Could not push tags to remote 'origin' (https://dev.azure.com/edge/Edge/_git/app): access denied (HTTP 403). Grant \"Create tag\".");
    assert.match(remote.failure('read the tags of', "fatal: repository 'x' not found").message, /the repository was not found \(HTTP 404\)/);
    // Otherwise what the server said, and the permission hint where it names one.
    const refused = remote.failure('push tags to', "remote: TF401027: You need the Git 'CreateTag' permission.\nTo x\n ! [remote rejected] a -> a (pre-receive hook declined)\nerror: failed to push some refs to 'x'");
    assert.equal(refused.message, "Could not push tags to remote 'origin' (https://dev.azure.com/edge/Edge/_git/app): remote: TF401027: You need the Git 'CreateTag' permission. Grant \"Create tag\".");
  });

  it('never carry a secret of the settings', () => {
    const basic = Buffer.from('pat:tok-secret-1').toString('base64');
    const message = remote.failure('fetch main from', `fatal: bad header 'AUTHORIZATION: basic ${basic}' and tok-secret-1`).message;
    assert.ok(!message.includes('tok-secret-1') && !message.includes(basic), message);
    assert.match(message, /\*\*\*/);
    assert.equal(safeUrl('https://user:secret@dev.azure.com/edge/_git/app'), 'https://dev.azure.com/edge/_git/app');
  });
});
