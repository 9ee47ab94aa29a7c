import * as assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { run } from '../../shared/process';
import type { TaggedComponent, TagComponentsOptions } from '../../shared/flows/tag-components';
import { repoRoot } from '../helpers/run-task';
import type { Scenario } from './tag-components/scenario';

/** What a mock-runner run printed, parsed. */
interface L0Run {
  succeeded: boolean;
  stdout: string;
  outputs: Record<string, string>;
  errors: string[];
  summaries: string[];
  /** The options the adapter handed to tagComponents (core-mocked scenarios only). */
  options?: TagComponentsOptions;
}

const unescape = (value: string) => value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%3B/g, ';').replace(/%25/g, '%');

describe('TagComponents@1 mock-runner (L0) tests: input handling of the unbundled task', function () {
  let temp: string;
  let repo: string;
  let bare: string;
  const saved = { ...process.env };

  before(async () => {
    temp = await fs.mkdtemp(path.join(os.tmpdir(), 'l0-tag-'));
    // A Rust app repository with a local (file) remote: everything stays offline.
    bare = path.join(temp, 'app.git');
    repo = path.join(temp, 'app');
    const env = { HOME: temp, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' };
    await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', bare], { env });
    await run('git', ['clone', '--quiet', bare, repo], { env });
    const files: Record<string, string> = {
      'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n\n[workspace.package]\nversion = "2.0.1"\n',
      'crates/heuristic/Cargo.toml': '[package]\nname = "heuristic"\nversion.workspace = true\n',
      'crates/heuristic/src/main.rs': 'fn main() {}\n',
      'crates/telemetry/Cargo.toml': '[package]\nname = "telemetry"\nversion = "0.9.0"\n',
      'crates/telemetry/src/lib.rs': '\n',
    };
    for (const [file, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(repo, file)), { recursive: true });
      await fs.writeFile(path.join(repo, file), content);
    }
    await run('git', ['add', '-A'], { cwd: repo, env });
    await run('git', ['commit', '--quiet', '-m', 'crates'], { cwd: repo, env });
    await run('git', ['push', '--quiet', 'origin', 'main'], { cwd: repo, env });
  });

  beforeEach(async () => {
    // A bare agent: no git identity; the agent's temp directory for summaries.
    process.env.HOME = temp;
    process.env.GIT_CONFIG_NOSYSTEM = '1';
    process.env.AGENT_TEMPDIRECTORY = await fs.mkdtemp(path.join(temp, 'agent-'));
    delete process.env.GIT_COMMITTER_NAME;
    delete process.env.GIT_COMMITTER_EMAIL;
  });

  after(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await fs.rm(temp, { recursive: true, force: true });
  });

  async function l0(script: 'core-mocked' | 'real-core' | 'real-task-lib', scenario: Scenario): Promise<L0Run> {
    process.env.L0_SCENARIO = JSON.stringify(scenario);
    const tr = new MockTestRunner(path.join(__dirname, 'tag-components', `${script}.js`));
    tr.nodePath = process.execPath; // never download a Node binary
    await tr.runAsync();
    const result: L0Run = { succeeded: tr.succeeded, stdout: tr.stdout, outputs: {}, errors: [], summaries: [] };
    for (const line of tr.stdout.split(/\r?\n/)) {
      if (line.startsWith('L0_OPTIONS ')) result.options = JSON.parse(line.slice('L0_OPTIONS '.length)) as TagComponentsOptions;
      const match = /##vso\[([\w.]+)([^\]]*)\](.*)$/.exec(line);
      if (!match) continue;
      const [, command, props, value] = match;
      if (command === 'task.setvariable' && /isOutput=true/.test(props)) result.outputs[/variable=([^;]*)/.exec(props)![1]] = unescape(value);
      if ((command === 'task.logissue' || command === 'task.issue') && /type=error/.test(props)) result.errors.push(unescape(value));
      if (command === 'task.uploadsummary') result.summaries.push(await fs.readFile(value, 'utf8'));
    }
    assert.ok(!/Running test failed/.test(tr.stderr), tr.stderr);
    return result;
  }

  const tagsOf = async (dir: string) => (await run('git', ['for-each-ref', '--format=%(refname)', 'refs/tags'], { cwd: dir })).stdout.trim();

  it('reads every input empty as its default, the workspace from Build.SourcesDirectory and the token from SystemVssConnection', async () => {
    const r = await l0('core-mocked', { inputs: {}, variables: { 'Build.SourcesDirectory': '/agent/_work/1/s' }, token: 'l0-token' });
    assert.ok(r.succeeded, r.stdout);
    assert.deepEqual(r.options, {
      componentsPath: '/agent/_work/1/s',
      components: '',
      excludePaths: [],
      tagFormat: '',
      annotated: true,
      message: '',
      onExisting: '',
      push: true,
      remote: '',
      dryRun: false,
      token: 'l0-token',
      identity: { name: 'Azure Pipelines', email: 'pipeline@dev.azure.com' },
    });
    assert.equal(r.outputs.tags, 'heuristic/1.4.2');
    assert.equal((JSON.parse(r.outputs.components) as TaggedComponent[])[0].status, 'created');
    assert.deepEqual(r.summaries, ['| stand-in |\n']);
  });

  it('passes every set input through, with the queuing user as tagger', async () => {
    const r = await l0('core-mocked', {
      inputs: {
        componentsPath: '/repo/services',
        components: 'heuristic\n!edge-*',
        excludePaths: 'tests/**/fixtures\nexamples',
        tagFormat: '{name}-v{version}',
        annotated: 'false',
        message: 'Release {name}',
        onExisting: 'move',
        push: 'false',
        remote: 'upstream',
        dryRun: 'true',
      },
      variables: { 'Build.RequestedFor': 'Ada Lovelace', 'Build.RequestedForEmail': 'ada@example.com' },
    });
    assert.ok(r.succeeded, r.stdout);
    assert.deepEqual(r.options, {
      componentsPath: '/repo/services',
      components: 'heuristic\n!edge-*',
      excludePaths: ['tests/**/fixtures', 'examples'],
      tagFormat: '{name}-v{version}',
      annotated: false,
      message: 'Release {name}',
      onExisting: 'move',
      push: false,
      remote: 'upstream',
      dryRun: true,
      identity: { name: 'Ada Lovelace', email: 'ada@example.com' },
    });
  });

  it('refuses a boolean input that is not true or false, before calling the core', async () => {
    const r = await l0('core-mocked', { inputs: { componentsPath: repo, push: 'yes' } });
    assert.ok(!r.succeeded);
    assert.equal(r.options, undefined);
    assert.deepEqual(r.errors, ["Input 'push' must be true or false, not 'yes'."]);
  });

  it('refuses an onExisting value outside skip, fail, move, and tags nothing', async () => {
    const r = await l0('real-core', { inputs: { componentsPath: repo, onExisting: 'replace' } });
    assert.ok(!r.succeeded);
    assert.deepEqual(r.errors, ["onExisting 'replace' is not one of skip, fail, move."]);
    assert.equal(await tagsOf(repo), '');
  });

  it('dryRun sets the outputs and summary a real run would, and writes no tag', async () => {
    const r = await l0('real-core', { inputs: { componentsPath: repo, dryRun: 'true' } });
    assert.ok(r.succeeded, r.stdout);
    assert.equal(r.outputs.tags, 'heuristic/2.0.1,telemetry/0.9.0');
    assert.deepEqual(JSON.parse(r.outputs.components), [
      { name: 'heuristic', version: '2.0.1', versionSource: 'workspace', path: 'crates/heuristic', tag: 'heuristic/2.0.1', status: 'created' },
      { name: 'telemetry', version: '0.9.0', versionSource: 'explicit', path: 'crates/telemetry', tag: 'telemetry/0.9.0', status: 'created' },
    ]);
    assert.match(r.summaries[0], /\*\*Dry run\*\*/);
    assert.match(r.summaries[0], /\| telemetry \| 0\.9\.0 \| explicit \| crates\/telemetry \| `telemetry\/0\.9\.0` \| would create \|/);
    assert.match(r.stdout, /\[dry run\] would create heuristic\/2\.0\.1/);
    assert.equal(await tagsOf(repo), '');
    assert.equal(await tagsOf(bare), '');
  });

  it("behaves the same with every input set to task.json's default as with none set", async () => {
    const taskJson = JSON.parse(readFileSync(path.join(repoRoot, 'tasks', 'TagComponents', 'task.json'), 'utf8')) as {
      inputs: { name: string; defaultValue?: string }[];
    };
    const defaults = Object.fromEntries(
      taskJson.inputs.map((input) => [input.name, (input.defaultValue ?? '').replace('$(Build.SourcesDirectory)', repo)]),
    );
    assert.deepEqual(Object.keys(defaults).sort(), ['annotated', 'componentsPath', 'components', 'dryRun', 'excludePaths', 'message', 'onExisting', 'push', 'remote', 'tagFormat'].sort());
    // dryRun's default is false: keep this comparison side-effect free by forcing it on in both runs.
    const explicit = await l0('real-core', { inputs: { ...defaults, dryRun: 'true' } });
    const implicit = await l0('real-core', { inputs: { dryRun: 'true' }, variables: { 'Build.SourcesDirectory': repo } });
    assert.ok(explicit.succeeded && implicit.succeeded, explicit.stdout + implicit.stdout);
    assert.deepEqual(explicit.outputs, implicit.outputs);
    assert.deepEqual(explicit.summaries, implicit.summaries);
  });

  it('runs unbundled on the real task library too, finding its task.json in the sources', async () => {
    const r = await l0('real-task-lib', { inputs: { componentsPath: repo, push: 'false', components: 'telemetry' } });
    assert.ok(r.succeeded, r.stdout);
    assert.doesNotMatch(r.stdout, /Not found resource file path/);
    assert.ok(r.stdout.includes(`adding resource file: ${path.join(repoRoot, 'tasks', 'TagComponents', 'task.json')}`), r.stdout);
    assert.equal(r.outputs.tags, 'telemetry/0.9.0');
    assert.equal(await tagsOf(repo), 'refs/tags/telemetry/0.9.0');
    const tag = (await run('git', ['cat-file', 'tag', 'telemetry/0.9.0'], { cwd: repo })).stdout;
    assert.match(tag, /^tagger Azure Pipelines <pipeline@dev\.azure\.com> /m);
    await run('git', ['tag', '-d', 'telemetry/0.9.0'], { cwd: repo });
  });
});
