import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runWithAgent } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import { tagComponents, TagComponentsError, type TagComponentsResult } from '../../shared/flows/tag-components';
import { run } from '../../shared/process';
import { readOptions, report, reportFailure } from '../../tasks/TagComponents/task';
import { memoryAgents, type MemoryAgent } from '../helpers/memory-agent';

const TOKEN = 'job-token-tag-l0';

/** The task's body as index.ts runs it, on an in-memory agent. */
async function runTag(agent: MemoryAgent): Promise<MemoryAgent> {
  await runWithAgent(agent, async (a) => report(a, await tagComponents(readOptions(a), a).catch((error: unknown) => reportFailure(a, error))));
  return agent;
}

const RESULT: TagComponentsResult = {
  components: [
    { name: 'heuristic', version: '2.0.1', versionSource: 'workspace', path: 'crates/heuristic', tag: 'heuristic/2.0.1', status: 'created' },
    { name: 'tele|metry', version: '0.9.0', versionSource: 'explicit', path: 'crates/telemetry', tag: 'telemetry/0.9.0', status: 'exists' },
  ],
  tags: ['heuristic/2.0.1'],
  commit: '0123456789abcdef0123456789abcdef01234567',
  dryRun: false,
  pushed: true,
};

describe('TagComponents@1 in-process: readOptions and report on the in-memory agent', () => {
  const agent = memoryAgents();

  describe('readOptions', () => {
    it('reads every input empty as its default: the workspace from Build.SourcesDirectory, the job token (masked), the pipeline as tagger', () => {
      const a = agent({ variables: { 'Build.SourcesDirectory': '/agent/_work/1/s' }, accessToken: TOKEN });
      assert.deepEqual(readOptions(a), {
        network: {},
        componentsPath: '/agent/_work/1/s',
        components: '',
        excludePaths: [],
        tagFormat: '{name}/{version}',
        annotated: true,
        message: '{name} {version}',
        onExisting: 'skip',
        push: true,
        remote: 'origin',
        dryRun: false,
        token: TOKEN,
        tempDir: a.tempDir(),
        identity: { name: 'Azure Pipelines', email: 'pipeline@dev.azure.com' },
      });
      assert.deepEqual(a.secrets, [TOKEN]);
    });

    it('passes every input through, resolves componentsPath, and tags as the queuing user', () => {
      const a = agent({
        inputs: {
          componentsPath: 'services',
          components: 'heuristic\n!edge-*',
          excludePaths: 'tests/**/fixtures\nexamples',
          tagFormat: '{name}-v{version}',
          annotated: 'FALSE',
          message: 'Release {name}',
          onExisting: 'move',
          push: 'false',
          remote: 'upstream',
          dryRun: 'true',
        },
        variables: { 'build.requestedfor': 'Ada Lovelace', 'Build.RequestedForEmail': 'ada@example.com' },
      });
      assert.deepEqual(readOptions(a), {
        network: {},
        componentsPath: path.resolve('services'),
        components: 'heuristic\n!edge-*',
        excludePaths: ['tests/**/fixtures', 'examples'],
        tagFormat: '{name}-v{version}',
        annotated: false,
        message: 'Release {name}',
        onExisting: 'move',
        push: false,
        remote: 'upstream',
        dryRun: true,
        token: undefined,
        tempDir: a.tempDir(),
        identity: { name: 'Ada Lovelace', email: 'ada@example.com' },
      });
    });

    it('refuses a boolean input that is not true or false, naming it', () => {
      assert.throws(() => readOptions(agent({ inputs: { annotated: 'yes' } })), new UserError("Input 'annotated' must be true or false, not 'yes'."));
    });
  });

  describe('report', () => {
    it('sets tags and components as the contract names them, the summary table, and the closing counts', () => {
      const a = agent();
      assert.equal(report(a, RESULT), '1 created, 0 moved, 1 already there, 0 skipped');
      assert.deepEqual(a.outputs, { tags: 'heuristic/2.0.1', components: JSON.stringify(RESULT.components) });
      assert.deepEqual(a.summaries.map((s) => s.title), ['Rust component tags']);
      assert.equal(
        a.summaries[0].markdown,
        [
          'Commit `0123456789ab`.',
          '',
          '| Component | Version | Version from | Path | Tag | Status |',
          '| --- | --- | --- | --- | --- | --- |',
          '| heuristic | 2.0.1 | workspace | crates/heuristic | `heuristic/2.0.1` | created |',
          '| tele\\|metry | 0.9.0 | explicit | crates/telemetry | `telemetry/0.9.0` | exists |',
          '',
        ].join('\n'),
      );
    });

    it('in a dry run calls a tag it would create planned, never created, and says so once in the summary', () => {
      const a = agent();
      const planned = RESULT.components.map((c) => (c.status === 'created' ? { ...c, status: 'planned' as const } : c));
      assert.equal(report(a, { ...RESULT, components: planned, dryRun: true, pushed: false }), 'Dry run: would create 1, move 0; 1 already there, 0 skipped (nothing tagged or pushed)');
      assert.deepEqual(
        (JSON.parse(a.outputs.components) as Array<{ status: string }>).map((c) => c.status),
        ['planned', 'exists'],
      );
      assert.equal(a.summaries[0].markdown.match(/Dry run/g)?.length, 1);
      assert.match(a.summaries[0].markdown, /\| `heuristic\/2\.0\.1` \| would create \|/);
    });

    it('on a tag conflict or refused push still reports each component, then fails with the error', () => {
      const a = agent();
      const failed = new TagComponentsError('refused', { ...RESULT, tags: [], components: RESULT.components.map((c) => ({ ...c, status: 'failed' as const })) });
      assert.throws(() => reportFailure(a, failed), failed);
      assert.equal(a.outputs.tags, '');
      assert.deepEqual((JSON.parse(a.outputs.components) as Array<{ status: string }>).map((c) => c.status), ['failed', 'failed']);
      assert.match(a.summaries[0].markdown, /\| failed \|/);
      // Any other failure reports nothing: there is no result to report.
      const b = agent();
      assert.throws(() => reportFailure(b, new UserError('bad input')), /bad input/);
      assert.deepEqual(b.outputs, {});
      assert.deepEqual(b.summaries, []);
    });
  });

  describe('with the real flow, on a repository with a local remote', () => {
    let temp: string;
    let repo: string;
    let bare: string;
    const tags = async (dir: string) => (await run('git', ['for-each-ref', '--format=%(refname)', 'refs/tags'], { cwd: dir })).stdout.trim();

    before(async () => {
      temp = await fs.mkdtemp(path.join(os.tmpdir(), 'l0-tag-'));
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

    after(() => fs.rm(temp, { recursive: true, force: true }));

    it('dryRun reads the remote, sets the outputs and summary a real run would, and writes no tag', async () => {
      const a = await runTag(agent({ inputs: { dryRun: 'true' }, variables: { 'Build.SourcesDirectory': repo } }));
      assert.deepEqual(a.result, { succeeded: true, message: 'Dry run: would create 2, move 0; 0 already there, 0 skipped (nothing tagged or pushed)' });
      assert.equal(a.outputs.tags, 'heuristic/2.0.1,telemetry/0.9.0');
      assert.deepEqual(JSON.parse(a.outputs.components), [
        { name: 'heuristic', version: '2.0.1', versionSource: 'workspace', path: 'crates/heuristic', tag: 'heuristic/2.0.1', status: 'planned' },
        { name: 'telemetry', version: '0.9.0', versionSource: 'explicit', path: 'crates/telemetry', tag: 'telemetry/0.9.0', status: 'planned' },
      ]);
      assert.match(a.summaries[0].markdown, /^\*\*Dry run: would create 2, move 0; 0 already there, 0 skipped\*\* at commit `[0-9a-f]{12}`; nothing was tagged or pushed\./);
      assert.ok(a.lines.includes('[dry run] would create heuristic/2.0.1 (heuristic 2.0.1, crates/heuristic)'), a.lines.join('\n'));
      assert.equal(await tags(repo), '');
      assert.equal(await tags(bare), '');
    });

    it('an onExisting value outside skip, fail, move fails the task with one error, sets no output and tags nothing', async () => {
      const a = await runTag(agent({ inputs: { componentsPath: repo, onExisting: 'replace' } }));
      assert.deepEqual(a.result, { succeeded: false, message: "onExisting 'replace' is not one of skip, fail, move." });
      assert.deepEqual(a.errors, [{ message: "onExisting 'replace' is not one of skip, fail, move.", where: undefined }]);
      assert.deepEqual(a.outputs, {});
      assert.equal(await tags(repo), '');
    });
  });
});
