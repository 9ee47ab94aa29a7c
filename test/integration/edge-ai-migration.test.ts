import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../shared/process';
import { RegistryClient } from '../../shared/registry/client';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { builderEnvironment, imageConfigs } from '../helpers/containers';
import { EDGE_AI_SERVICES, edgeAiApp, edgeAiGitops, edgeAiService, type FixtureRepo } from '../helpers/edge-ai';
import { requireTool } from '../helpers/requires';
import { runTask, type TaskRun } from '../helpers/run-task';

// Issue 13, items 1, 2, 5 and 6, on the fixtures shaped like microsoft/edge-ai: a team keeps its image
// names (folder names), builds its three build-context layouts in one step, pushes the three tags the
// original template pushed (the primary one immutable), and is told plainly why a first release
// candidate of a version already running is refused, then moves on by bumping the crate.

interface ImagesFile {
  images: Array<{ component: string; version: string; image: string; tags: string[]; primaryTag: string; digest?: string; status: string }>;
}

const explain = (result: TaskRun) => `${result.message}\n${result.errors.join('\n')}\n${result.stdout.slice(-4000)}`;

/** The adoption edit: where a component is built from, said where it is defined (paths relative to its folder). */
const METADATA: Record<string, string> = {
  broker: 'context = "../.."\n',
  subscriber: 'context = "../.."\n',
  'ai-edge-inference': 'image = "ai-edge-inference"\ncontext = ".."\nbuildArgs = { BACKEND = "candle" }\n',
};

/** `[package.metadata.rust-gitops-release]` appended to each service's Cargo.toml. */
async function adopt(app: FixtureRepo): Promise<void> {
  const files: Record<string, string> = {};
  for (const [folder, table] of Object.entries(METADATA)) {
    const manifest = path.join(edgeAiService(folder).path, 'Cargo.toml');
    files[manifest] = `${await fs.readFile(path.join(app.dir, manifest), 'utf8')}\n[package.metadata.rust-gitops-release]\n${table}`;
  }
  await app.commit(files, 'Say how each image is built, where the component is defined');
  // The original script's last run tagged this commit (folder-name tags, as it made them).
  for (const s of EDGE_AI_SERVICES) await app.git('tag', '-f', '-a', `${s.folder}/${s.version}`, '-m', `Tag ${s.folder} ${s.version}`);
}

describe('Adopting the tasks from the edge-ai scripts: image names, one step, three tags, running versions (issue 13)', function () {
  this.timeout(600_000);
  let registry: TestRegistry;
  let client: RegistryClient;
  let app: FixtureRepo;
  let gitops: FixtureRepo;
  let scratch: string;
  let containerEnv: Record<string, string>;
  let firstBuild: ImagesFile;

  before(async function () {
    await requireTool(this, ...REGISTRY_TOOLS, 'buildah', 'kubectl');
    registry = await TestRegistry.start();
    client = new RegistryClient(registry.host, { username: registry.username, password: registry.password });
    app = await edgeAiApp();
    await adopt(app);
    gitops = await edgeAiGitops(registry.host);
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'edge-ai-migration-'));
    containerEnv = await builderEnvironment(path.join(scratch, 'storage'));
  });

  after(async () => {
    await registry?.stop();
    for (const dir of [app?.dir, gitops?.dir, scratch]) if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** BuildRustContainers as the agent runs it, with the original template's tag forms. */
  async function build(buildId: string, inputs: Record<string, string | boolean>) {
    const agentTemp = await fs.mkdtemp(path.join(scratch, 'agent-'));
    const manifestPath = path.join(agentTemp, 'images.json');
    const result = await runTask('BuildRustContainers', {
      inputs: {
        componentsPath: app.dir,
        registry: registry.host,
        registryUsername: registry.username,
        registryPassword: registry.password,
        builder: 'buildah',
        imageNames: 'http-connector=broker',
        imageTagFormat: '{version}',
        preRelease: 'rc$(Build.BuildId)',
        additionalTags: '{version},latest',
        manifestPath,
        ...inputs,
      },
      variables: { 'Build.BuildId': buildId, 'Build.SourceVersion': await app.git('rev-parse', 'HEAD'), 'Agent.TempDirectory': agentTemp },
      env: containerEnv,
      cwd: app.dir,
      traceChildren: ['buildah'],
    });
    assert.equal(result.result, 'Succeeded', explain(result));
    const images = JSON.parse(await fs.readFile(manifestPath, 'utf8').catch(() => '{"images":[]}')) as ImagesFile;
    return { result, images, manifestPath };
  }

  async function update(inputs: Record<string, string | boolean>) {
    return runTask('UpdateGitOpsVersions', {
      inputs: { gitopsPath: gitops.dir, environment: 'devtest', registry: registry.host, registryUsername: registry.username, registryPassword: registry.password, ...inputs },
      cwd: gitops.dir,
    });
  }

  it('plans every layout in one step, naming each image as before: imageNames over Cargo.toml over package.name (items 1, 2)', async () => {
    const plan = async (imageNames: string) => {
      const result = await runTask('BuildRustContainers', {
        inputs: { componentsPath: app.dir, registry: registry.host, mode: 'plan', push: false, imageNames },
        cwd: app.dir,
        traceChildren: ['buildah', 'podman', 'docker'],
      });
      assert.equal(result.result, 'Succeeded', explain(result));
      assert.deepEqual(result.childArgv, [], 'a plan builds nothing');
      const matrix = JSON.parse(result.outputs.matrix) as Record<string, Record<string, string>>;
      return { result, images: Object.fromEntries(Object.values(matrix).map((leg) => [leg.component, leg.image])) };
    };
    const { result, images } = await plan('http-connector=broker');
    // The library has no Dockerfile: five images, one step, whatever their build context.
    assert.deepEqual(images, {
      'ai-edge-mqtt-publisher': `${registry.host}/ai-edge-inference`,
      'http-connector': `${registry.host}/broker`,
      receiver: `${registry.host}/receiver`,
      sender: `${registry.host}/sender`,
      subscriber: `${registry.host}/subscriber`,
    });
    assert.match(result.stdout, /http-connector: image \S+\/broker \(name from imageNames\)/);
    assert.match(result.stdout, /ai-edge-mqtt-publisher: image \S+\/ai-edge-inference \(name from Cargo\.toml\)/);
    // Without the input, the package name; the input wins over the Cargo.toml.
    const other = await plan('ai-edge-mqtt-publisher=edge-inference');
    assert.equal(other.images['http-connector'], `${registry.host}/http-connector`);
    assert.equal(other.images['ai-edge-mqtt-publisher'], `${registry.host}/edge-inference`);
  });

  it('builds the three layouts in one step and pushes the original three tags, the primary one immutable and named in images.json (items 1, 2, 5)', async () => {
    const { result, images } = await build('5678', {});
    assert.equal(result.outputs.built, '5', explain(result));
    assert.equal(result.childArgv.filter((argv) => argv.includes('build') || argv.includes('bud')).length, 5, 'one build per image, every context in the same step');
    firstBuild = images;
    const broker = images.images.find((i) => i.component === 'http-connector')!;
    assert.deepEqual(
      { image: broker.image, tags: broker.tags, primaryTag: broker.primaryTag, status: broker.status },
      { image: `${registry.host}/broker`, tags: ['0.1.0-rc5678', '0.1.0', 'latest'], primaryTag: '0.1.0-rc5678', status: 'pushed' },
    );
    assert.deepEqual(images.images.map((i) => i.image.split('/').pop()).sort(), ['ai-edge-inference', 'broker', 'receiver', 'sender', 'subscriber']);
    for (const tag of broker.tags) assert.equal(await client.digest('broker', tag), broker.digest, `broker:${tag}`);
    assert.match(result.stdout, /broker:0\.1\.0-rc5678 pushed: sha256:\w+ \(primary tag 0\.1\.0-rc5678, never replaced; moving tags 0\.1\.0, latest now point here too\)/);
    // The Cargo.toml's build arguments reached the ai-edge-inference build only.
    const { configs } = await imageConfigs(client, 'ai-edge-inference', '0.2.0-rc5678');
    assert.equal(configs[0].config.Labels?.['edge-ai.backend'], 'candle');

    // A later build moves the moving tags and leaves the earlier primary tag where it was.
    const again = await build('5679', { components: 'http-connector' });
    const moved = again.images.images[0];
    assert.equal(moved.primaryTag, '0.1.0-rc5679');
    assert.notEqual(moved.digest, broker.digest);
    assert.equal(await client.digest('broker', '0.1.0'), moved.digest, '0.1.0 moved');
    assert.equal(await client.digest('broker', 'latest'), moved.digest, 'latest moved');
    assert.equal(await client.digest('broker', '0.1.0-rc5678'), broker.digest, 'the primary tag of build 5678 stayed');
  });

  it('refuses the first candidate of a version the environment runs, saying why in one sentence and naming the three ways out (item 6)', async () => {
    const imagesFile = path.join(scratch, 'first-images.json');
    await fs.writeFile(imagesFile, JSON.stringify({ schemaVersion: 1, buildId: '5678', commit: '', ...firstBuild }));
    const ways = /Either bump the crate's version \(to 0\.1\.1 or later\) so its candidates are newer, build a release without preRelease, or set allowDowngrade: true for this one run\./;

    // No lock yet: what the overlay deploys (0.1.0, as the update script set it) is what runs.
    const first = await update({ imagesFile, components: 'http-connector' });
    assert.equal(first.result, 'Failed');
    assert.match(
      first.message,
      /environments\/devtest\/kustomization\.yaml:\d+: http-connector runs 0\.1\.0 \(deployed today, environments\/devtest\/kustomization\.yaml\) in 'devtest', and 0\.1\.0-rc5678 \(from first-images\.json \(http-connector\)\) is a pre-release of that same 0\.1\.0, which SemVer orders before the release, so this move is a downgrade\. /,
    );
    assert.match(first.message, ways);

    // A lock written by hand under the folder names: the entry `broker` is http-connector's (imageNames).
    const lock = `schemaVersion: 1\nenvironments:\n  devtest:\n${['broker', 'subscriber', 'ai-edge-inference', 'sender', 'receiver']
      .map((folder) => `    ${folder}:\n      image: ${registry.host}/${folder}\n      tag: "${folder === 'ai-edge-inference' ? '0.2.0' : '0.1.0'}"\n`)
      .join('')}`;
    await gitops.commit({ 'versions.yaml': lock }, 'The lock, as the team wrote it');
    const second = await update({ imagesFile, components: 'http-connector', imageNames: 'http-connector=broker' });
    assert.equal(second.result, 'Failed');
    assert.match(second.message, /^versions\.yaml:4: http-connector runs 0\.1\.0 in 'devtest', and 0\.1\.0-rc5678 .* is a pre-release of that same 0\.1\.0/);
    assert.match(second.message, ways);
    assert.equal(await gitops.git('status', '--porcelain'), '', 'nothing written');
  });

  it('after a version bump, builds only that component (legacy tags), moves its lock entry and overlay, and the pull request names the component (items 1, 3, 6)', async () => {
    const broker = edgeAiService('broker');
    const manifest = path.join(broker.path, 'Cargo.toml');
    const lockFile = path.join(broker.path, 'Cargo.lock');
    const bump = async (file: string) => (await fs.readFile(path.join(app.dir, file), 'utf8')).replace(/(name = "http-connector"\nversion = )"0\.1\.0"/, '$1"0.1.1"');
    await app.commit({ [manifest]: await bump(manifest), [lockFile]: await bump(lockFile) }, 'http-connector 0.1.1');

    const { result, images, manifestPath } = await build('5680', { changedOnly: true, legacyTagFormats: '{dir}/{version}' });
    assert.equal(result.outputs.built, '1', explain(result));
    assert.equal(result.outputs.skipped, '4');
    assert.match(result.stdout, /sender: unchanged \(nothing it uses changed since sender\/0\.1\.0\)/);
    assert.deepEqual(images.images.map((i) => [i.component, i.primaryTag]), [['http-connector', '0.1.1-rc5680']]);

    const updated = await update({ imagesFile: manifestPath, imageNames: 'http-connector=broker' });
    assert.equal(updated.result, 'Succeeded', explain(updated));
    const digest = images.images[0].digest!;
    const changes = JSON.parse(updated.outputs.changes) as Array<{ component: string; from: string; to: string; bump: string }>;
    assert.deepEqual(changes.map((c) => [c.component, c.from, c.to, c.bump]), [['http-connector', `${registry.host}/broker:0.1.0`, `${registry.host}/broker:0.1.1-rc5680@${digest}`, 'patch']]);
    // The entry the team wrote under `broker` moved; no second entry appeared.
    const lock = await fs.readFile(path.join(gitops.dir, 'versions.yaml'), 'utf8');
    assert.match(lock, new RegExp(`    broker:\\n      image: ${registry.host.replace(/[.]/g, '\\.')}/broker\\n      tag: "0\\.1\\.1-rc5680"\\n      digest: "${digest}"\\n`));
    assert.doesNotMatch(lock, /http-connector/);
    const rendered = (await run('kubectl', ['kustomize', path.join(gitops.dir, 'environments', 'devtest')])).stdout;
    assert.match(rendered, new RegExp(`image: ${registry.host.replace(/[.]/g, '\\.')}/broker:0\\.1\\.1-rc5680@${digest}`));

    // The pull request's description from the lock diff names the component, not the folder.
    const pr = await runTask('CreateEnvPR', {
      inputs: { gitopsPath: gitops.dir, environment: 'devtest', repository: 'gitops', project: 'Edge', imageNames: 'http-connector=broker', dryRun: true },
      variables: { 'Build.BuildId': '5681' },
      cwd: gitops.dir,
    });
    assert.equal(pr.result, 'Succeeded', explain(pr));
    assert.match(pr.message, /Dry run: would commit 2 changed file\(s\) \(http-connector 0\.1\.1-rc5680@sha256:\w+\)/);
    assert.match(pr.summaries.join('\n'), /\| http-connector \| 0\.1\.0 \| 0\.1\.1-rc5680@sha256:\w{12} \| patch \|/);
  });
});
