import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run as runProcess } from '../../shared/process';
import { runTask, type TaskRun } from '../helpers/run-task';
import { parseChildLog } from './child-guard';
import { CLEAN_APP, type FileSpec } from './corpus';
import { Sandbox, SENTINEL } from './sandbox';

/**
 * A handful of hostile cases through the bundled tasks, exactly as the agent runs them, with every
 * child_process call of the task process logged by the guard preloaded through NODE_OPTIONS.
 */
describe('reliability: hostile input through the bundled tasks', function () {
  let sandbox: Sandbox;
  let logs: string;
  const live: string[] = [];
  before(async () => {
    sandbox = await Sandbox.create(SENTINEL);
    logs = await fs.mkdtemp(path.join(os.tmpdir(), 'hostile-children-'));
  });
  after(async () => {
    await sandbox?.dispose();
    await fs.rm(logs, { recursive: true, force: true });
  });

  const guard = path.join(__dirname, 'child-guard.js');

  async function tag(files: Record<string, FileSpec>, inputs: Record<string, string | boolean>): Promise<{ run: TaskRun; repo: string }> {
    const repo = await sandbox.gitRepo(files);
    live.push(repo);
    const childLog = path.join(logs, `${path.basename(repo)}.log`);
    const run = await runTask('TagComponents', {
      inputs: { componentsPath: repo, push: false, ...inputs },
      cwd: repo,
      env: { HOME: path.join(sandbox.base, 'home'), GIT_CONFIG_NOSYSTEM: '1', NODE_OPTIONS: `--require ${guard}`, RELIABILITY_CHILD_LOG: childLog },
      traceChildren: ['git', 'sh', 'bash'],
    });
    const calls = parseChildLog(await fs.readFile(childLog, 'utf8').catch(() => ''));
    await fs.rm(childLog, { force: true });
    assert.ok(calls.some((c) => c.command === 'git'), `the guard saw no git call: ${JSON.stringify(calls).slice(0, 300)}`);
    assert.deepEqual(calls.filter((c) => c.shell), [], 'a child process went through a shell');
    assert.ok(run.childArgv.length > 0, 'git children were traced');
    assert.deepEqual(run.childArgv.filter((argv) => argv[0] !== 'git'), [], 'a shell was started');
    // No stack trace and no placeholder garbage anywhere the user reads.
    for (const text of [run.stdout, run.stderr, ...run.errors]) {
      assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+\)?/, 'a stack trace reached the log');
      assert.ok(!/undefined|\[object Object\]/.test(run.errors.join('\n')), run.errors.join('\n'));
    }
    await sandbox.verify(live);
    return { run, repo };
  }

  const failsNaming = (run: TaskRun, file: string, message: RegExp) => {
    assert.equal(run.result, 'Failed', run.stdout);
    assert.equal(run.errors.length, 1, run.errors.join('\n'));
    assert.match(run.errors[0], message);
    assert.ok(run.stdout.includes(`sourcepath=${file}`) || run.errors[0].includes(file), `the error names ${file}: ${run.errors[0]}`);
  };

  it('a package named $(reboot) fails naming Cargo.toml and line, and nothing runs it', async () => {
    const { run, repo } = await tag({ 'Cargo.toml': '[package]\nname = "$(reboot)"\nversion = "1.0.0"\n' }, {});
    failsNaming(run, path.join(repo, 'Cargo.toml'), /not a valid Cargo package name/);
    assert.match(run.stdout, /linenumber=2/);
  });

  it('a Cargo.toml in Latin-1 fails naming the file and the line of the first bad byte', async () => {
    const { run, repo } = await tag({ ...CLEAN_APP, 'crates/http-connector/Cargo.toml': Buffer.from('[package]\nname = "caf\xe9"\n', 'latin1') }, {});
    failsNaming(run, path.join(repo, 'crates/http-connector/Cargo.toml'), /not valid UTF-8/);
    assert.match(run.stdout, /linenumber=2/);
  });

  it('workspace.members "../*" fails naming the root Cargo.toml; nothing outside is read as a component', async () => {
    const { run, repo } = await tag({ 'Cargo.toml': '[workspace]\nmembers = ["crates/*", "../*"]\n', 'crates/a/Cargo.toml': '[package]\nname = "a"\n' }, {});
    failsNaming(run, path.join(repo, 'Cargo.toml'), /'\.\.\/\*' matches no directory/);
    assert.ok(!run.stdout.includes('outsider'));
  });

  it('a symlinked member folder leading outside is not followed', async () => {
    const { run } = await tag({ ...CLEAN_APP, 'crates/evil': { symlink: `${sandbox.outside}/crate` } }, {});
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.deepEqual(run.outputs.tags.split(',').sort(), ['edge-http-connector/0.3.1', 'heuristic/1.4.2']);
  });

  it('tagFormat and message with shell syntax create tags named and annotated literally (no shell ever sees them)', async () => {
    const message = '`touch ../pwned-1` $(touch ../pwned-2); touch ../pwned-3 {name}';
    const { run, repo } = await tag(CLEAN_APP, { tagFormat: '$(reboot)/{name}`id`/{version}', message });
    assert.equal(run.result, 'Succeeded', run.stdout);
    const tags = (await runProcess('git', ['tag', '--list'], { cwd: repo })).stdout.trim().split('\n').sort();
    assert.deepEqual(tags, ['$(reboot)/edge-http-connector`id`/0.3.1', '$(reboot)/heuristic`id`/1.4.2']);
    const body = (await runProcess('git', ['tag', '--list', '--format=%(contents:subject)', '$(reboot)/heuristic*'], { cwd: repo })).stdout.trim();
    assert.equal(body, message.replace('{name}', 'heuristic'));
    // verify() above proved no pwned-* file appeared beside the repository; nor inside it:
    for (const name of ['pwned-1', 'pwned-2', 'pwned-3']) await assert.rejects(fs.access(path.join(repo, name)));
  });

  it('tagFormat with "; rm -rf /" or a newline is refused before anything is written', async () => {
    for (const tagFormat of ['{name};rm -rf /{version}', '{name}\n{version}']) {
      const { run, repo } = await tag(CLEAN_APP, { tagFormat });
      assert.equal(run.result, 'Failed');
      assert.match(run.errors[0], /not a valid git tag/);
      assert.equal((await runProcess('git', ['tag', '--list'], { cwd: repo })).stdout.trim(), '');
    }
  });

  it('a components pattern that makes a backtracking matcher run for hours fails at once', async () => {
    const { run } = await tag({ ...CLEAN_APP, [`crates/${'a'.repeat(60)}/Cargo.toml`]: `[package]\nname = "${'a'.repeat(60)}"\n` }, { components: `${'*a'.repeat(40)}*z` });
    assert.equal(run.result, 'Failed');
    assert.match(run.errors[0], /No component matches/);
  });
});
