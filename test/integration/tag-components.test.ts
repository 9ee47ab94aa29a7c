import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { TaggedComponent } from '../../shared/flows/tag-components';
import { createAppRepo, type AppRepo } from '../helpers/app-repo';
import { runTask, type TaskRun } from '../helpers/run-task';
import { GitServer } from '../../stand-ins/git-server';

const TOKEN = 'tok-5c1e9a77f0d24b3e8a61-secret';

describe('TagComponents@1 run as the agent runs it, against a real git remote', function () {
  let server: GitServer;
  let count = 0;
  let app: AppRepo;

  before(async () => {
    server = await GitServer.start(TOKEN);
  });
  after(async () => server?.stop());
  beforeEach(async () => {
    app = await createAppRepo(server, `app-${++count}`);
  });

  /** POSTs to git-receive-pack (pushes) since `from` in the server log. */
  const pushes = (from: number) => server.requests.slice(from).filter((r) => r.method === 'POST' && r.url.includes('git-receive-pack'));

  async function tag(inputs: Record<string, string | boolean | undefined>, options: { token?: string; variables?: Record<string, string> } = {}) {
    const before = server.requests.length;
    const run = await runTask('TagComponents', {
      inputs: { componentsPath: app.work, ...inputs },
      accessToken: options.token ?? TOKEN,
      variables: options.variables,
      cwd: app.work,
      // A bare agent: no global git config, hence no identity and no credential helper.
      env: { HOME: app.home, GIT_CONFIG_NOSYSTEM: '1' },
      traceChildren: ['git'],
    });
    return { run, pushes: pushes(before) };
  }

  const components = (run: TaskRun) => JSON.parse(run.outputs.components) as TaggedComponent[];
  const statuses = (run: TaskRun) => Object.fromEntries(components(run).map((c) => [c.name, c.status]));

  async function assertTokenNowhere(run: TaskRun, token = TOKEN) {
    assert.ok(run.childArgv.some((argv) => argv[1] === 'ls-remote'), 'git children were traced');
    // `##vso[task.setsecret]` is the one line meant to carry it: the agent consumes it to mask the value, never logs it.
    const logged = run.stdout.split('\n').filter((line) => !line.startsWith(`##vso[task.setsecret]${token}`));
    assert.equal(logged.length, run.stdout.split('\n').length - 1, 'the token is registered as a secret once');
    assert.ok(!logged.join('\n').includes(token), 'token in stdout: ' + run.stdout);
    assert.ok(!run.stderr.includes(token), 'token in stderr');
    for (const argv of run.childArgv) assert.ok(!argv.join(' ').includes(token), `token in argv: ${argv.join(' ')}`);
    const config = await fs.readFile(path.join(app.work, '.git', 'config'), 'utf8');
    assert.ok(!config.includes(token) && !/extraheader/i.test(config), '.git/config holds credentials');
    for (const summary of run.summaries) assert.ok(!summary.includes(token), 'token in summary');
  }

  it('tags every component at HEAD with annotated tags in a single push, and reports them', async () => {
    const head = await app.git(app.work, 'rev-parse', 'HEAD');
    const { run, pushes } = await tag({ componentsPath: undefined }); // default: $(Build.SourcesDirectory)

    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.equal(pushes.length, 1, 'one git-receive-pack POST');
    const expected = ['edge-http-connector/0.3.1', 'edgectl/0.0.0', 'heuristic/1.4.2'];
    assert.deepEqual(run.outputs.tags.split(',').sort(), expected);
    assert.deepEqual(
      components(run).sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: 'edge-http-connector', version: '0.3.1', versionSource: 'explicit', path: 'services/http-connector', tag: 'edge-http-connector/0.3.1', status: 'created' },
        { name: 'edgectl', version: '0.0.0', versionSource: 'default', path: 'tools/cli', tag: 'edgectl/0.0.0', status: 'created' },
        { name: 'heuristic', version: '1.4.2', versionSource: 'workspace', path: 'services/heuristic', tag: 'heuristic/1.4.2', status: 'created' },
      ],
    );
    for (const name of expected) {
      // On the remote: an annotated tag object, peeling to HEAD, with the message and a tagger identity.
      assert.equal(await app.git(app.bare, 'cat-file', '-t', `refs/tags/${name}`), 'tag');
      assert.equal(await app.git(app.bare, 'rev-parse', `refs/tags/${name}^{commit}`), head);
      const object = await app.git(app.bare, 'cat-file', 'tag', `refs/tags/${name}`);
      assert.match(object, /^tagger Azure Pipelines <pipeline@dev\.azure\.com> /m);
      const [component, version] = name.split('/');
      assert.match(object, new RegExp(`\\n\\n${component} ${version.replace(/\./g, '\\.')}$`));
    }
    const state = await app.tagState();
    assert.equal(state.local, state.remote, 'local and remote tags are the same objects');
    const pushArgv = run.childArgv.filter((argv) => argv[1] === 'push');
    assert.equal(pushArgv.length, 1);
    assert.ok(pushArgv[0].includes('refs/tags/heuristic/1.4.2:refs/tags/heuristic/1.4.2'), pushArgv[0].join(' '));
    assert.ok(!pushArgv[0].some((arg) => arg.startsWith('+')), 'no force for new tags');
    assert.equal(run.summaries.length, 1);
    assert.match(run.summaries[0], /\| heuristic \| 1\.4\.2 \| workspace \| services\/heuristic \| `heuristic\/1\.4\.2` \| created \|/);
    await assertTokenNowhere(run);
  });

  it('is a no-op that succeeds when run again on the same commit', async () => {
    const first = await tag({});
    assert.equal(first.run.result, 'Succeeded', first.run.stdout);
    const before = await app.tagState();

    const { run, pushes } = await tag({});
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.equal(pushes.length, 0);
    assert.deepEqual(Object.values(statuses(run)), ['exists', 'exists', 'exists']);
    assert.equal(run.outputs.tags, '');
    assert.deepEqual(await app.tagState(), before);
    assert.ok(!run.childArgv.some((argv) => argv[1] === 'tag' || argv[1] === 'push'));
    assert.deepEqual(run.warnings, []);
  });

  it('tags from a shallow, detached checkout as the agent makes one (fetchDepth 1)', async () => {
    const head = await app.git(app.work, 'rev-parse', 'HEAD');
    const shallow = path.join(path.dirname(app.work), 'shallow');
    await app.git(path.dirname(app.work), 'clone', '--quiet', '--depth', '1', app.url, shallow);
    await app.git(shallow, 'checkout', '--quiet', '--detach', head);
    const before = server.requests.length;
    const run = await runTask('TagComponents', {
      inputs: { componentsPath: path.join(shallow, 'services') },
      accessToken: TOKEN,
      cwd: shallow,
      env: { HOME: app.home, GIT_CONFIG_NOSYSTEM: '1' },
    });
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.deepEqual(run.outputs.tags.split(',').sort(), ['edge-http-connector/0.3.1', 'heuristic/1.4.2']);
    assert.deepEqual(
      components(run).map((c) => c.path).sort(),
      ['heuristic', 'http-connector'],
      'paths are relative to componentsPath',
    );
    assert.equal(pushes(before).length, 1);
    assert.equal(await app.git(app.bare, 'rev-parse', 'refs/tags/heuristic/1.4.2^{commit}'), head);
  });

  it('is a no-op too in a fresh clone that lacks the tags locally', async () => {
    await tag({});
    const before = await app.tagState();
    await app.git(app.work, 'tag', '-d', 'heuristic/1.4.2');
    const { run, pushes } = await tag({ components: 'heuristic' });
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.deepEqual(statuses(run), { heuristic: 'exists' });
    assert.equal(pushes.length, 0);
    assert.equal((await app.tagState()).remote, before.remote);
  });

  /** Puts heuristic/1.4.2 on the current commit, then makes a new HEAD: the tag is now "elsewhere". */
  async function tagThenMoveOn(where: 'remote' | 'local' | 'both'): Promise<{ old: string; head: string }> {
    const old = await app.git(app.work, 'rev-parse', 'HEAD');
    await app.git(app.work, 'tag', '-a', '-m', 'earlier', 'heuristic/1.4.2', old);
    if (where !== 'local') await app.git(app.work, 'push', '--quiet', 'origin', 'refs/tags/heuristic/1.4.2');
    if (where === 'remote') await app.git(app.work, 'tag', '-d', 'heuristic/1.4.2');
    const head = await app.commit({ 'services/heuristic/src/main.rs': 'fn main() { println!("v2"); }\n' }, 'Change heuristic');
    await app.git(app.work, 'push', '--quiet', 'origin', 'main');
    return { old, head };
  }

  it('onExisting skip: leaves a tag that is on another commit, warns naming both commits, tags the rest', async () => {
    const { old, head } = await tagThenMoveOn('remote');
    const { run, pushes } = await tag({ onExisting: 'skip' });

    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.deepEqual(statuses(run), { 'edge-http-connector': 'created', edgectl: 'created', heuristic: 'skipped' });
    assert.deepEqual(run.outputs.tags.split(',').sort(), ['edge-http-connector/0.3.1', 'edgectl/0.0.0']);
    assert.equal(run.warnings.length, 1, run.stdout);
    assert.match(run.warnings[0], /heuristic\/1\.4\.2/);
    assert.ok(run.warnings[0].includes(old.slice(0, 12)) && run.warnings[0].includes(head.slice(0, 12)), run.warnings[0]);
    assert.equal(pushes.length, 1);
    assert.equal(await app.git(app.bare, 'rev-parse', 'refs/tags/heuristic/1.4.2^{commit}'), old);
    assert.equal(await app.git(app.bare, 'rev-parse', 'refs/tags/edgectl/0.0.0^{commit}'), head);
    assert.equal(await app.git(app.work, 'tag', '--list', 'heuristic/*'), '', 'no local tag created for the skipped one');
  });

  it('onExisting fail: fails naming the tag and changes nothing, locally or remotely', async () => {
    await tagThenMoveOn('local');
    const before = await app.tagState();
    const { run, pushes } = await tag({ onExisting: 'fail' });

    assert.equal(run.result, 'Failed');
    assert.equal(run.errors.length, 1);
    assert.match(run.errors[0], /'heuristic\/1\.4\.2' exists locally on [0-9a-f]{12}/);
    assert.match(run.errors[0], /Nothing was tagged/);
    // The outputs still say what happened to each component.
    assert.deepEqual(statuses(run), { 'edge-http-connector': 'skipped', edgectl: 'skipped', heuristic: 'failed' });
    assert.equal(run.outputs.tags, '');
    assert.match(run.summaries[0], /\| heuristic \| .* \| failed \|/);
    assert.equal(pushes.length, 0);
    assert.deepEqual(await app.tagState(), before);
    assert.ok(!run.childArgv.some((argv) => argv[1] === 'tag' || argv[1] === 'push'));
  });

  it('onExisting move: moves the tag to HEAD locally and remotely, force-pushing only that tag, in one push', async () => {
    const { old, head } = await tagThenMoveOn('both');
    const { run, pushes } = await tag({ onExisting: 'move' });

    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.deepEqual(statuses(run), { 'edge-http-connector': 'created', edgectl: 'created', heuristic: 'moved' });
    assert.equal(pushes.length, 1);
    assert.notEqual(old, head);
    assert.equal(await app.git(app.bare, 'rev-parse', 'refs/tags/heuristic/1.4.2^{commit}'), head);
    assert.equal(await app.git(app.work, 'rev-parse', 'refs/tags/heuristic/1.4.2^{commit}'), head);
    const push = run.childArgv.find((argv) => argv[1] === 'push')!;
    assert.deepEqual(
      push.filter((arg) => arg.includes('refs/tags/')).sort(),
      [
        '+refs/tags/heuristic/1.4.2:refs/tags/heuristic/1.4.2',
        'refs/tags/edge-http-connector/0.3.1:refs/tags/edge-http-connector/0.3.1',
        'refs/tags/edgectl/0.0.0:refs/tags/edgectl/0.0.0',
      ],
    );
    await assertTokenNowhere(run);
  });

  it('dryRun reports what it would do and writes nothing locally or remotely', async () => {
    const before = await app.tagState();
    const { run, pushes } = await tag({ dryRun: true });

    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.match(run.message, /Dry run/);
    assert.deepEqual(Object.values(statuses(run)), ['planned', 'planned', 'planned']);
    assert.deepEqual(run.outputs.tags.split(',').sort(), ['edge-http-connector/0.3.1', 'edgectl/0.0.0', 'heuristic/1.4.2']);
    assert.match(run.summaries[0], /Dry run/);
    assert.match(run.summaries[0], /would create/);
    assert.equal(pushes.length, 0);
    assert.deepEqual(await app.tagState(), before);
    assert.equal(before.local, '');
    assert.ok(!run.childArgv.some((argv) => argv[1] === 'tag' || argv[1] === 'push'));
  });

  it('honours components, tagFormat, annotated: false and push: false', async () => {
    const { run, pushes } = await tag({ components: 'heuristic, edge-*', tagFormat: '{name}-v{version}', annotated: false, push: false });
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.deepEqual(run.outputs.tags.split(',').sort(), ['edge-http-connector-v0.3.1', 'heuristic-v1.4.2']);
    assert.equal(pushes.length, 0);
    assert.equal(await app.git(app.work, 'cat-file', '-t', 'refs/tags/heuristic-v1.4.2'), 'commit', 'lightweight tag');
    assert.equal((await app.tagState()).remote, '');
    assert.ok(!run.childArgv.some((argv) => argv[1] === 'ls-remote' || argv[1] === 'push'), 'push: false never contacts the remote');
  });

  it('tags as the person who queued the run when the agent provides it, with the message template', async () => {
    const { run } = await tag(
      { components: 'heuristic', message: 'Release {name} {version} ({tag})' },
      { variables: { 'Build.RequestedFor': 'Ada Lovelace', 'Build.RequestedForEmail': 'ada@example.com' } },
    );
    assert.equal(run.result, 'Succeeded', run.stdout);
    const object = await app.git(app.bare, 'cat-file', 'tag', 'refs/tags/heuristic/1.4.2');
    assert.match(object, /^tagger Ada Lovelace <ada@example\.com> /m);
    assert.match(object, /\n\nRelease heuristic 1\.4\.2 \(heuristic\/1\.4\.2\)$/);
  });

  it('removes the tags it created when the push fails, so a re-run starts clean', async () => {
    const before = await app.tagState();
    server.beforeRequest = (req, res) => {
      if (req.method !== 'POST' || !req.url?.includes('git-receive-pack')) return false;
      res.writeHead(500).end('boom');
      return true;
    };
    let failed: TaskRun;
    try {
      failed = (await tag({})).run;
    } finally {
      server.beforeRequest = undefined;
    }
    assert.equal(failed.result, 'Failed');
    assert.match(failed.errors[0], /Could not push tags to remote 'origin'/);
    assert.match(failed.errors[0], /were removed/);
    assert.deepEqual(await app.tagState(), before);

    const { run } = await tag({});
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.deepEqual(Object.values(statuses(run)), ['created', 'created', 'created']);
  });

  it('pushes the same tags again after a transient server error (HTTP 503), and succeeds', async () => {
    let refused = 0;
    server.beforeRequest = (req, res) => {
      if (req.method !== 'POST' || !req.url?.includes('git-receive-pack') || refused > 0) return false;
      refused++;
      res.writeHead(503).end('busy');
      return true;
    };
    let result: { run: TaskRun; pushes: unknown[] };
    try {
      result = await tag({});
    } finally {
      server.beforeRequest = undefined;
    }
    const { run, pushes } = result;
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.equal(refused, 1);
    assert.equal(pushes.length, 2, 'the refused push and its retry');
    assert.match(run.stdout, /Pushing to origin failed transiently \(attempt 1\)/);
    assert.equal(run.childArgv.filter((argv) => argv[1] === 'push').length, 2);
    const state = await app.tagState();
    assert.equal(state.remote.split('\n').length, 3);
    assert.equal(state.local, state.remote);
  });

  it("passes on the server's reason when it refuses the push (a missing Create tag permission), and leaves no tag behind", async () => {
    // The server refuses as Azure Repos does without the permission: a reason on the sideband, every ref rejected.
    const hook = path.join(app.bare, 'hooks', 'pre-receive');
    await fs.writeFile(hook, "#!/bin/sh\necho \"TF401027: You need the Git 'CreateTag' permission to perform this action.\" >&2\nexit 1\n", { mode: 0o755 });
    const before = await app.tagState();
    const { run, pushes } = await tag({});
    assert.equal(run.result, 'Failed');
    assert.equal(pushes.length, 1, 'a refusal is not retried');
    assert.equal(run.errors.length, 1);
    assert.match(run.errors[0], /Could not push tags to remote 'origin' \(http:\/\/127\.0\.0\.1:\d+\/app-\d+\.git\)/);
    assert.match(run.errors[0], /remote: TF401027: You need the Git 'CreateTag' permission/);
    assert.match(run.errors[0], /rejected heuristic\/1\.4\.2: \[remote rejected\]/);
    assert.match(run.errors[0], /"Contribute" and "Create tag" permissions/);
    assert.match(run.errors[0], /Not pushed: edge-http-connector\/0\.3\.1, edgectl\/0\.0\.0, heuristic\/1\.4\.2/);
    assert.deepEqual(Object.values(statuses(run)), ['failed', 'failed', 'failed']);
    assert.equal(run.outputs.tags, '');
    assert.deepEqual(await app.tagState(), before);
    await assertTokenNowhere(run);
  });

  describe('bad input fails clearly and changes nothing', () => {
    async function assertFailsUnchanged(inputs: Record<string, string>, pattern: RegExp, token?: string) {
      const before = await app.tagState();
      const { run, pushes } = await tag(inputs, { token });
      assert.equal(run.result, 'Failed', run.stdout);
      assert.equal(run.errors.length, 1, run.stdout);
      assert.match(run.errors[0], pattern);
      assert.equal(pushes.length, 0);
      assert.deepEqual(await app.tagState(), before);
      assert.ok(!run.childArgv.some((argv) => argv[1] === 'tag' || argv[1] === 'push'));
      return run;
    }

    it('an invalid tagFormat', async () => {
      await assertFailsUnchanged({ tagFormat: '{name} {version}' }, /tagFormat '\{name\} \{version\}' gives 'edge-http-connector 0\.3\.1'.*not a valid git tag/);
      await assertFailsUnchanged({ tagFormat: '{name}/{release}' }, /tagFormat '\{name\}\/\{release\}' uses \{release\}/);
    });

    it('an unknown listed component', async () => {
      await assertFailsUnchanged({ components: 'heuristic\nnot-a-crate' }, /No component matches 'not-a-crate'.*Known: edge-http-connector, edgectl, heuristic/);
    });

    it('a malformed Cargo.toml the selection needs, named by its path and line; one it does not need is a warning', async () => {
      await app.commit({ 'tools/cli/Cargo.toml': '[package]\nname = "edgectl"\nedition = "2021\n' }, 'Break a manifest');
      const run = await assertFailsUnchanged({ components: 'edgectl' }, /tools\/cli\/Cargo\.toml:3: Invalid TOML.*The run needs it: the components input selects 'edgectl'/);
      assert.ok(!/\bat \w+ \(/.test(run.errors[0]), 'no stack trace');

      const { run: others } = await tag({ components: 'heuristic' });
      assert.equal(others.result, 'Succeeded', others.stdout);
      assert.deepEqual(others.outputs.tags.split(','), ['heuristic/1.4.2']);
      assert.equal(others.warnings.length, 1, others.stdout);
      assert.match(others.warnings[0], /Invalid TOML.*Cargo refuses tools\/cli\/Cargo\.toml because of it, leaving out edgectl\. No selected component needs it/);
      assert.match(others.stdout, /##vso\[task\.logissue type=warning;sourcepath=[^;]*tools\/cli\/Cargo\.toml;linenumber=3;\]/);
      assert.match(others.summaries[0], /\*\*Skipped Cargo manifests\*\* \(1\)[\s\S]*\| `tools\/cli\/Cargo\.toml:3` \| Invalid TOML[^|]*\| edgectl \|/);
    });

    it('a Cargo.toml changed since the commit being tagged (the tag would name a version HEAD lacks)', async () => {
      const manifest = path.join(app.work, 'services', 'http-connector', 'Cargo.toml');
      await fs.writeFile(manifest, (await fs.readFile(manifest, 'utf8')).replace('0.3.1', '0.4.0'));
      await assertFailsUnchanged({}, /^services\/http-connector\/Cargo\.toml: This Cargo manifest differs from HEAD .*Commit the change first/);
      // The workspace root counts too: it holds the version its members inherit.
      await app.git(app.work, 'checkout', '--', '.');
      const root = path.join(app.work, 'services', 'Cargo.toml');
      await fs.writeFile(root, (await fs.readFile(root, 'utf8')).replace('1.4.2', '1.5.0'));
      await assertFailsUnchanged({ components: 'heuristic' }, /^services\/Cargo\.toml: This Cargo manifest differs from HEAD/);
      // Changes elsewhere do not matter.
      await app.git(app.work, 'checkout', '--', '.');
      await fs.writeFile(path.join(app.work, 'README.md'), '# changed\n');
      const { run } = await tag({ dryRun: true });
      assert.equal(run.result, 'Succeeded', run.stdout);
    });

    it('an invalid onExisting value', async () => {
      await assertFailsUnchanged({ onExisting: 'overwrite' }, /onExisting 'overwrite' is not one of skip, fail, move/);
    });

    it('a remote that does not exist', async () => {
      await assertFailsUnchanged({ remote: 'upstream' }, /has no remote 'upstream' \(it has: origin\)/);
    });

    it('a wrong token: HTTP 401, without leaking it', async () => {
      const wrong = 'tok-wrong-77a1b2c3d4e5f6';
      const run = await assertFailsUnchanged({}, /access token was refused \(HTTP 401\)/, wrong);
      await assertTokenNowhere(run, wrong);
      assert.ok(server.requests.some((r) => r.status === 401));
    });
  });
});
