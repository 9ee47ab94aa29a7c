import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run as runProcess } from '../../shared/process';
import { runTask, type TaskRun } from '../helpers/run-task';
import { parseChildLog } from './child-guard';
import { CLEAN_APP, type FileSpec } from './corpus';
import { Sandbox, SENTINEL, snapshot } from './sandbox';

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

  /** Any bundled task, with the guard preloaded: returns the run and the child_process calls it made. */
  async function task(name: string, repo: string, inputs: Record<string, string | boolean>, extra: Record<string, string> = {}) {
    const childLog = path.join(logs, `${name}-${path.basename(repo)}-${Date.now()}.log`);
    const run = await runTask(name, {
      inputs,
      cwd: repo,
      accessToken: 'hostile-token-2f8e',
      collectionUrl: 'http://127.0.0.1:9/edge/',
      env: { HOME: path.join(sandbox.base, 'home'), GIT_CONFIG_NOSYSTEM: '1', NODE_OPTIONS: `--require ${guard}`, RELIABILITY_CHILD_LOG: childLog, ...extra },
      traceChildren: ['git', 'sh', 'bash', 'buildah', 'podman', 'docker'],
    });
    const calls = parseChildLog(await fs.readFile(childLog, 'utf8').catch(() => ''));
    assert.deepEqual(calls.filter((c) => c.shell), [], 'a child process went through a shell');
    assert.deepEqual(run.childArgv.filter((argv) => argv[0] === 'sh' || argv[0] === 'bash'), [], 'a shell was started');
    assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+:\d+:\d+\)?/, 'a stack trace reached the log');
    for (const error of run.errors) assert.doesNotMatch(error, /undefined|\[object Object\]/);
    await sandbox.verify(live);
    return run;
  }

  const GITOPS_FILES = {
    'versions.yaml': 'schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: reg.example.com/heuristic\n      tag: v1.4.2\n',
    'environments/devtest/kustomization.yaml': 'resources:\n  - deploy.yaml\nimages:\n  - name: reg.example.com/heuristic\n    newTag: v1.4.2\n',
    'environments/devtest/deploy.yaml': 'kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: h\n          image: reg.example.com/heuristic:v1.4.2\n',
  };

  it('UpdateGitOpsVersions: an alias bomb in the lock, manifestsPath ../../etc, a symlinked overlay and $(reboot) tags all fail clearly, writing nothing', async () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 12 }, (_, i) => `b${i}: &b${i} [${Array(9).fill(i ? `*b${i - 1}` : '*a').join(',')}]`)].join('\n');
    const cases: Array<[string, Record<string, FileSpec>, Record<string, string | boolean>, RegExp]> = [
      ['alias bomb', { ...GITOPS_FILES, 'versions.yaml': `${GITOPS_FILES['versions.yaml']}${bomb}\n` }, {}, /versions\.yaml.*unknown key 'a'/s],
      ['manifestsPath', GITOPS_FILES, { manifestsPath: '../../etc' }, /leads outside/],
      ['symlinked overlay', { ...GITOPS_FILES, 'environments/devtest/evil': { symlink: `${sandbox.outside}/overlay` } }, {}, /symbolic link to .* outside the GitOps repository/],
      ['shell tag', GITOPS_FILES, { images: 'heuristic=$(reboot)' }, /is not a valid image tag/],
      ['plus tag', GITOPS_FILES, { images: 'heuristic=v1.4.3+build.7' }, /contains '\+'/],
    ];
    for (const [label, files, inputs, error] of cases) {
      const repo = await sandbox.repo(files);
      live.push(repo);
      const before = await snapshot(repo);
      const run = await task('UpdateGitOpsVersions', repo, { gitopsPath: repo, environment: 'devtest', images: 'heuristic=v1.4.3', pinDigest: false, ...inputs });
      assert.equal(run.result, 'Failed', label);
      assert.equal(run.errors.length, 1, run.errors.join('\n'));
      assert.match(run.errors[0], error, label);
      assert.equal(await snapshot(repo), before, `${label}: the repository changed`);
    }
  });

  it('BuildRustContainers plan: $(reboot) and + in preRelease, a shell-laden build argument and a ../ prefix end clearly; no builder starts', async () => {
    const files = { ...CLEAN_APP, Dockerfile: 'FROM scratch\n' };
    const repo = await sandbox.gitRepo(files);
    live.push(repo);
    const plan = (inputs: Record<string, string>) =>
      task('BuildRustContainers', repo, { componentsPath: repo, mode: 'plan', push: false, dockerfile: 'Dockerfile', registry: 'localhost:5000', manifestPath: '', ...inputs });
    const shell = await plan({ preRelease: 'rc.$(reboot)' });
    assert.equal(shell.result, 'Failed');
    assert.match(shell.errors[0], /is not a valid image tag/);
    const plus = await plan({ preRelease: 'rc+5' });
    assert.match(plus.errors[0], /contains '\+'/);
    const prefix = await plan({ repositoryPrefix: '../' });
    assert.match(prefix.errors[0], /is not a valid image repository/);
    const args = await plan({ buildArgs: 'A=$(reboot)\nB=`id`; rm -rf /' });
    assert.equal(args.result, 'Succeeded', args.errors.join('\n'));
    assert.deepEqual(Object.keys(JSON.parse(args.outputs.matrix) as object).sort(), ['edge_http_connector', 'heuristic']);
    for (const run of [shell, plus, prefix, args]) assert.deepEqual(run.childArgv.filter((argv) => argv[0] !== 'git'), [], 'a builder was started');
  });

  it('CreateEnvPR: $(reboot) as environment and .. in sourceBranch are refused before anything is pushed', async () => {
    const repo = await sandbox.gitRepo(GITOPS_FILES);
    live.push(repo);
    const env = await task('CreateEnvPR', repo, { gitopsPath: repo, environment: '$(reboot)' });
    assert.equal(env.result, 'Failed');
    assert.match(env.errors[0], /is not an environment name/);
    const branch = await task('CreateEnvPR', repo, { gitopsPath: repo, environment: 'devtest', sourceBranch: 'gitops/../main' });
    assert.equal(branch.result, 'Failed');
    assert.match(branch.errors[0], /is not a valid branch name/);
    for (const run of [env, branch]) assert.ok(!run.childArgv.some((argv) => argv[1] === 'push'), 'nothing was pushed');
  });
});
