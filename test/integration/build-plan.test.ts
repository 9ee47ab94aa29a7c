import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverComponents } from '../../shared/cargo/discover';
import { affectedComponents } from '../../shared/git/changed-components';
import { hostPlatform } from '../../shared/flows/build-containers';
import { UserError } from '../../shared/errors';
import { git, workspaceRepo } from '../helpers/containers';
import { runTask } from '../helpers/run-task';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';

const append = (dir: string, file: string, text: string) => fs.appendFile(path.join(dir, file), text);

describe('BuildRustContainers changedOnly and plan mode (real git history, real registry)', function () {
  this.timeout(120_000);
  let registry: TestRegistry;
  let workspace: string;
  let base: string;
  let agentTemp: string;

  before(async function () {
    await requireTool(this, ...REGISTRY_TOOLS);
    registry = await TestRegistry.start();
    workspace = await workspaceRepo();
    base = await git(workspace, 'rev-parse', 'HEAD');
    // TagComponents' tags for the released versions, on the base commit.
    for (const tag of ['heuristic/1.4.2', 'http-connector/0.3.0', 'telemetry/2.0.0']) await git(workspace, 'tag', '-a', '-m', tag, tag);
    agentTemp = await fs.mkdtemp(path.join(os.tmpdir(), 'build-plan-'));
  });

  after(async () => {
    await registry?.stop();
    if (workspace) await fs.rm(workspace, { recursive: true, force: true });
    if (agentTemp) await fs.rm(agentTemp, { recursive: true, force: true });
  });

  /** A branch from the tagged commit with one change committed. */
  async function branch(name: string, file: string, text: string) {
    await git(workspace, 'checkout', '-q', '-B', name, base);
    await append(workspace, file, text);
    await git(workspace, 'add', '-A');
    await git(workspace, 'commit', '-q', '-m', `change ${file}`);
  }

  async function plan(inputs: Record<string, string | boolean> = {}) {
    const manifestPath = path.join(agentTemp, `${Date.now()}-images.json`);
    const result = await runTask('BuildRustContainers', {
      inputs: {
        componentsPath: workspace,
        registry: registry.host,
        registryUsername: registry.username,
        registryPassword: registry.password,
        mode: 'plan',
        changedOnly: true,
        preRelease: 'rc.$(Build.BuildId)',
        manifestPath,
        ...inputs,
      },
      variables: { 'Agent.TempDirectory': agentTemp },
      cwd: workspace,
      traceChildren: ['docker', 'podman', 'buildah'],
    });
    assert.equal(result.result, 'Succeeded', `${result.message}\n${result.errors.join('\n')}\n${result.stderr}`);
    assert.deepEqual(result.childArgv, [], 'plan runs no builder');
    const matrix = JSON.parse(result.outputs.matrix) as Record<string, Record<string, string>>;
    const images = await fs.readFile(manifestPath, 'utf8').then((t) => JSON.parse(t) as { images: Array<{ component: string; status: string }> }).catch(() => undefined);
    return { result, matrix, images };
  }

  it('selects only the member whose files changed', async () => {
    await branch('member', 'services/telemetry/src/main.rs', '// tweak\n');
    const { matrix, images, result } = await plan();
    assert.deepEqual(Object.keys(matrix), ['telemetry']);
    assert.deepEqual(images!.images, [
      { component: 'telemetry', version: '2.0.0', image: `${registry.host}/telemetry`, tags: ['v2.0.0-rc.5678'], primaryTag: 'v2.0.0-rc.5678', platforms: [hostPlatform()], status: 'planned' },
    ]);
    assert.equal(result.outputs.skipped, '2', 'two components unchanged');
    assert.equal(result.outputs.built, '0');
  });

  it('selects every member that depends on a changed shared path dependency', async () => {
    await branch('shared', 'libs/common/src/lib.rs', '// tweak\n');
    const { matrix } = await plan();
    assert.deepEqual(Object.keys(matrix).sort(), ['heuristic', 'http_connector']);
  });

  it('selects every member when the workspace lock file changed', async () => {
    await branch('lock', 'Cargo.lock', '\n');
    const { matrix } = await plan();
    assert.deepEqual(Object.keys(matrix).sort(), ['heuristic', 'http_connector', 'telemetry']);
  });

  it('selects nothing when only files outside every component changed, and compares with changedSince when given', async () => {
    await branch('docs', 'README.md', 'notes\n');
    assert.deepEqual((await plan()).matrix, {});
    await append(workspace, 'services/heuristic/payload.txt', 'more\n');
    await git(workspace, 'commit', '-q', '-am', 'heuristic payload');
    assert.deepEqual(Object.keys((await plan()).matrix), ['heuristic']);
    assert.deepEqual((await plan({ changedSince: 'HEAD~1' })).matrix.heuristic?.component, 'heuristic');
    assert.deepEqual((await plan({ changedSince: 'HEAD' })).matrix, {});
  });

  it('emits a matrix Azure Pipelines accepts: an object of objects of strings, keyed by valid leg names', async () => {
    await git(workspace, 'checkout', '-q', '-B', 'all', base);
    const { matrix } = await plan({ changedOnly: false, repositoryPrefix: 'Edge/' });
    assert.deepEqual(Object.keys(matrix).sort(), ['heuristic', 'http_connector', 'telemetry']);
    for (const [leg, values] of Object.entries(matrix)) {
      assert.match(leg, /^[A-Za-z][A-Za-z0-9_]*$/);
      for (const value of Object.values(values)) assert.equal(typeof value, 'string');
    }
    assert.deepEqual(matrix.http_connector, {
      component: 'http-connector',
      version: '0.3.0',
      tag: 'v0.3.0-rc.5678',
      image: `${registry.host}/edge/http-connector`,
      path: 'services/http-connector',
    });
  });

  it('leaves out of the matrix a component whose tag is already in the registry', async () => {
    await registry.pushImage('edge/heuristic', 'v1.4.2-rc.5678');
    const { matrix, images } = await plan({ changedOnly: false, repositoryPrefix: 'edge/' });
    assert.deepEqual(Object.keys(matrix).sort(), ['http_connector', 'telemetry']);
    assert.deepEqual(images!.images.find((i) => i.component === 'heuristic')?.status, 'exists');
  });

  it('refuses a changedSince that is not in the repository', async () => {
    const result = await runTask('BuildRustContainers', {
      inputs: { componentsPath: workspace, registry: registry.host, mode: 'plan', changedOnly: true, changedSince: 'no-such-tag', manifestPath: '' },
      variables: { 'Agent.TempDirectory': agentTemp },
      cwd: workspace,
    });
    assert.equal(result.result, 'Failed');
    assert.match(result.errors.join('\n'), /changedSince 'no-such-tag' is not a commit in this repository/);
  });

  describe('affectedComponents', () => {
    it('compares with the newest component tag by version (rc10 after rc9), never one on HEAD itself', async () => {
      await git(workspace, 'checkout', '-q', '-B', 'order', base);
      await git(workspace, 'tag', 'telemetry/2.0.1-rc10');
      await append(workspace, 'services/telemetry/src/main.rs', '// after rc10\n');
      await git(workspace, 'commit', '-q', '-am', 'telemetry change');
      await git(workspace, 'tag', 'telemetry/2.0.1-rc9');
      await append(workspace, 'services/heuristic/src/main.rs', '// heuristic change\n');
      await git(workspace, 'commit', '-q', '-am', 'heuristic change');
      await git(workspace, 'tag', 'heuristic/1.4.3');
      const components = await discoverComponents(workspace);
      const verdicts = await affectedComponents(components, { root: workspace });
      // rc10 (on the base) is newer than rc9 (after the telemetry change), so telemetry changed since it.
      assert.deepEqual(verdicts.get('telemetry'), { affected: true, since: 'telemetry/2.0.1-rc10', reason: 'services/telemetry/src/main.rs changed since telemetry/2.0.1-rc10' });
      // heuristic/1.4.3 is on HEAD (TagComponents ran first): the comparison is with 1.4.2.
      assert.equal(verdicts.get('heuristic')?.since, 'heuristic/1.4.2');
      assert.equal(verdicts.get('heuristic')?.affected, true);
      assert.equal(verdicts.get('http-connector')?.affected, false);
      assert.deepEqual(verdicts.get('common'), { affected: true, reason: 'no earlier component tag' });
    });

    it('honours a custom tagFormat, and treats a component without any tag as affected', async () => {
      await git(workspace, 'checkout', '-q', '-B', 'format', base);
      await git(workspace, 'tag', 'telemetry-v2.0.0');
      await append(workspace, 'README.md', 'x\n');
      await git(workspace, 'add', '-A');
      await git(workspace, 'commit', '-q', '-m', 'docs');
      const verdicts = await affectedComponents(await discoverComponents(workspace), { root: workspace, tagFormat: '{name}-v{version}' });
      assert.deepEqual(verdicts.get('telemetry'), { affected: false, since: 'telemetry-v2.0.0', reason: 'nothing it uses changed since telemetry-v2.0.0' });
      assert.deepEqual(verdicts.get('heuristic'), { affected: true, reason: 'no earlier component tag' });
    });

    it('needs a git working copy', async () => {
      const plain = await fs.mkdtemp(path.join(os.tmpdir(), 'no-git-'));
      try {
        await assert.rejects(affectedComponents([], { root: plain }), (e: Error) => e instanceof UserError && /needs a git working copy/.test(e.message));
      } finally {
        await fs.rm(plain, { recursive: true, force: true });
      }
    });
  });
});
