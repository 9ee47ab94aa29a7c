import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../shared/process';
import { RegistryClient } from '../../shared/registry/client';
import { builderEnvironment, git, imageConfigs, PodmanService, workspaceRepo } from '../helpers/containers';
import { runTask, type TaskRun } from '../helpers/run-task';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';

const SERVICES = ['heuristic', 'http-connector', 'telemetry'];
const VERSIONS: Record<string, string> = { heuristic: '1.4.2', 'http-connector': '0.3.0', telemetry: '2.0.0' };
const SOURCE = 'https://dev.azure.com/edge/Edge/_git/app';

interface ImagesFile {
  schemaVersion: number;
  buildId: string;
  commit: string;
  images: Array<{ component: string; version: string; image: string; tags: string[]; digest?: string; platforms: string[]; status: string; revision?: string; source?: string }>;
}

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await fs.readFile(file)).includes(needle)) hits.push(file);
  }
  return hits;
}

const buildCalls = (result: TaskRun) => result.childArgv.filter((argv) => argv.includes('build') || argv.includes('push'));
const explain = (result: TaskRun) => `${result.message}\n${result.errors.join('\n')}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-2000)}`;

describe('BuildRustContainers with real builders and a real registry (docker-registry, htpasswd)', function () {
  this.timeout(900_000);
  let registry: TestRegistry;
  let workspace: string;
  let scratch: string;
  let commit: string;
  let containerEnv: Record<string, string>;
  let client: RegistryClient;
  let secrets: string[];

  before(async function () {
    await requireTool(this, ...REGISTRY_TOOLS);
    registry = await TestRegistry.start();
    workspace = await workspaceRepo();
    commit = await git(workspace, 'rev-parse', 'HEAD');
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'build-containers-'));
    containerEnv = await builderEnvironment(path.join(scratch, 'storage'));
    client = new RegistryClient(registry.host, { username: registry.username, password: registry.password });
    secrets = [registry.password, Buffer.from(`${registry.username}:${registry.password}`).toString('base64')];
  });

  after(async () => {
    await registry?.stop();
    if (workspace) await fs.rm(workspace, { recursive: true, force: true });
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });

  /** Runs the bundled task as the agent does, tracing every builder and git child. */
  async function buildTask(name: string, inputs: Record<string, string | boolean>, env: Record<string, string> = {}, endpoint = false) {
    const agentTemp = await fs.mkdtemp(path.join(scratch, 'agent-'));
    const manifestPath = path.join(agentTemp, 'staging', 'images.json');
    const credentials = endpoint
      ? { containerRegistry: 'registry-connection' }
      : { registry: registry.host, registryUsername: registry.username, registryPassword: registry.password };
    const result = await runTask('BuildRustContainers', {
      inputs: { componentsPath: workspace, ...credentials, preRelease: 'rc.$(Build.BuildId)', additionalTags: 'latest', buildArgs: 'FLAVOUR=edge', manifestPath, repositoryPrefix: `${name}/`, ...inputs },
      variables: { 'Build.SourceVersion': commit, 'Build.Repository.Uri': SOURCE, 'Agent.TempDirectory': agentTemp },
      endpoints: endpoint
        ? {
            'registry-connection': {
              url: `http://${registry.host}`,
              parameters: { registry: `http://${registry.host}`, username: registry.username, password: registry.password, email: '' },
            },
          }
        : undefined,
      env: { ...containerEnv, ...env },
      cwd: workspace,
      traceChildren: ['docker', 'podman', 'buildah', 'git'],
    });
    const images = await fs
      .readFile(manifestPath, 'utf8')
      .then((text) => JSON.parse(text) as ImagesFile)
      .catch(() => undefined);
    const leftovers = await filesContaining(agentTemp, registry.password);
    return { result, images, leftovers, agentTemp };
  }

  async function registryState(prefix: string) {
    const state: Record<string, Record<string, string | undefined>> = {};
    for (const service of SERVICES) {
      const repository = `${prefix}${service}`;
      state[repository] = {};
      for (const tag of (await client.listTags(repository)).sort()) state[repository][tag] = await client.digest(repository, tag);
    }
    return state;
  }

  function assertNoSecretInArgv(result: TaskRun) {
    assert.ok(result.childArgv.length > 0, 'children were traced');
    for (const argv of result.childArgv) {
      for (const secret of secrets) assert.ok(!argv.some((arg) => arg.includes(secret)), `a secret reached argv: ${argv.join(' ')}`);
    }
  }

  /** The first build: three images pushed, every check a user relies on. */
  async function firstBuild(name: string, inputs: Record<string, string | boolean>, env: Record<string, string> = {}, endpoint = false) {
    const { result, images, leftovers, agentTemp } = await buildTask(name, inputs, env, endpoint);
    assert.equal(result.result, 'Succeeded', explain(result));
    // podman and buildah got the credentials in an auth file under the agent's temp dir, since removed.
    for (const argv of result.childArgv.filter((a) => a.includes('--authfile'))) {
      const file = argv[argv.indexOf('--authfile') + 1];
      assert.ok(file.startsWith(agentTemp), file);
      await assert.rejects(fs.access(file), 'the auth file is removed');
    }
    assert.equal(result.outputs.built, '3');
    assert.equal(result.outputs.skipped, '0');
    assert.ok(images, 'images.json was written');
    assert.equal(images.schemaVersion, 1);
    assert.equal(images.buildId, '5678');
    assert.equal(images.commit, commit);
    assert.deepEqual(images.images.map((i) => i.component).sort(), SERVICES);
    assert.deepEqual(JSON.parse(result.outputs.images), images.images);
    for (const image of images.images) {
      const repository = `${name}/${image.component}`;
      const tag = `v${VERSIONS[image.component]}-rc.5678`;
      assert.equal(image.image, `${registry.host}/${repository}`);
      assert.deepEqual(image.tags, [tag, 'latest']);
      assert.equal(image.status, 'pushed');
      assert.deepEqual([image.revision, image.source], [commit, SOURCE], 'images.json records the commit and repository that built it (the revision and source labels)');
      assert.deepEqual((await client.listTags(repository)).sort(), [tag, 'latest'].sort());
      assert.equal(image.digest, await client.digest(repository, tag), 'images.json digest is the registry digest');
      assert.equal(await client.digest(repository, 'latest'), image.digest);
      const { configs } = await imageConfigs(client, repository, tag);
      for (const config of configs) {
        const labels = config.config.Labels ?? {};
        assert.equal(labels['org.opencontainers.image.title'], image.component);
        assert.equal(labels['org.opencontainers.image.version'], VERSIONS[image.component]);
        assert.equal(labels['org.opencontainers.image.revision'], commit);
        assert.equal(labels['org.opencontainers.image.source'], SOURCE);
        assert.ok(!Number.isNaN(Date.parse(labels['org.opencontainers.image.created'])), 'created is a timestamp');
        assert.equal(labels['edge.flavour'], 'edge', 'the build argument reached the Dockerfile');
      }
    }
    assert.deepEqual(leftovers, [], 'no file under the agent temp directory holds the password');
    // Only the command that registers it as a secret (the agent masks from it on, and never prints it) holds it.
    const logLines = `${result.stdout}\n${result.stderr}`
      .split('\n')
      .filter((line) => !line.startsWith('##vso[task.setsecret]'));
    for (const secret of secrets) assert.deepEqual(logLines.filter((line) => line.includes(secret)), [], 'the log holds no secret');
    assertNoSecretInArgv(result);
    assert.match(result.summaries.join('\n'), /\| heuristic \| 1\.4\.2 \|.*\| pushed \| `sha256:/);
    return result;
  }

  /** A re-run finds every tag and changes nothing. */
  async function reRun(name: string, inputs: Record<string, string | boolean>, env: Record<string, string> = {}) {
    const before = await registryState(`${name}/`);
    const { result, images } = await buildTask(name, inputs, env);
    assert.equal(result.result, 'Succeeded', explain(result));
    assert.equal(result.outputs.built, '0');
    assert.equal(result.outputs.skipped, '3');
    assert.deepEqual(buildCalls(result), [], 'nothing was built or pushed');
    assert.deepEqual(images!.images.map((i) => i.status), ['exists', 'exists', 'exists']);
    for (const image of images!.images) assert.equal(image.digest, before[`${name}/${image.component}`][image.tags[0]]);
    assert.ok(images!.images.every((i) => i.revision === undefined), 'an image found in the registry was built by another commit: no revision claimed');
    assert.deepEqual(await registryState(`${name}/`), before, 'the registry is unchanged');
  }

  async function multiPlatform(name: string, inputs: Record<string, string | boolean>, env: Record<string, string> = {}) {
    const { result, images } = await buildTask(name, { components: 'heuristic', preRelease: 'multi.1', additionalTags: '', platforms: 'linux/amd64,linux/arm64', ...inputs }, env);
    assert.equal(result.result, 'Succeeded', explain(result));
    const [image] = images!.images;
    assert.equal(image.status, 'pushed');
    assert.deepEqual([...image.platforms].sort(), ['linux/amd64', 'linux/arm64']);
    const { mediaType, configs } = await imageConfigs(client, `${name}/heuristic`, 'v1.4.2-multi.1');
    assert.match(mediaType, /image\.index|manifest\.list/, 'an image index');
    assert.deepEqual(configs.map((c) => `${c.os}/${c.architecture}`).sort(), ['linux/amd64', 'linux/arm64']);
    assert.equal(image.digest, await client.digest(`${name}/heuristic`, 'v1.4.2-multi.1'));
    for (const config of configs) assert.equal(config.config.Labels?.['org.opencontainers.image.title'], 'heuristic');
  }

  describe('buildah (chroot isolation, vfs storage)', function () {
    before(async function () {
      await requireTool(this, 'buildah');
    });

    it('builds and pushes the three images with their labels, records the registry digests, and keeps the password out of argv and files', async () => {
      const result = await firstBuild('buildah', { builder: 'buildah' });
      assert.ok(result.childArgv.some((argv) => argv[0] === 'buildah' && argv.includes('build')));
    });

    it('skips every component on a re-run and leaves the registry unchanged', async () => {
      await reRun('buildah', { builder: 'buildah' });
    });

    it('rebuilds and pushes again with overwrite', async () => {
      const before = await registryState('buildah/');
      const { result, images } = await buildTask('buildah', { builder: 'buildah', overwrite: true, components: 'telemetry' });
      assert.equal(result.result, 'Succeeded', explain(result));
      assert.equal(result.outputs.built, '1');
      assert.equal(images!.images[0].status, 'pushed');
      assert.ok(buildCalls(result).some((argv) => argv.includes('build')));
      const digest = await client.digest('buildah/telemetry', 'v2.0.0-rc.5678');
      assert.equal(images!.images[0].digest, digest);
      assert.notEqual(digest, before['buildah/telemetry']['v2.0.0-rc.5678'], 'a new image (new created label) replaced the tag');
    });

    it('pushes an image index for linux/amd64 and linux/arm64', async () => {
      await multiPlatform('buildah', { builder: 'buildah' });
    });

    it('names the Dockerfile when a build fails, and writes no images.json', async () => {
      const broken = path.join(workspace, 'services', 'telemetry', 'Broken.Dockerfile');
      await fs.writeFile(broken, 'FROM scratch\nCOPY missing.txt /missing.txt\n');
      try {
        const { result, images } = await buildTask('broken', { builder: 'buildah', components: 'telemetry', dockerfile: '{path}/Broken.Dockerfile' });
        assert.equal(result.result, 'Failed');
        assert.match(result.errors.join('\n'), /^services\/telemetry\/Broken\.Dockerfile: Building 127\.0\.0\.1:\d+\/broken\/telemetry:v2\.0\.0-rc\.5678 failed: buildah build/);
        assert.equal(images, undefined);
        assert.deepEqual(await client.listTags('broken/telemetry'), []);
      } finally {
        await fs.rm(broken, { force: true });
      }
    });

    it('builds without pushing or asking the registry when push is false', async () => {
      const { result, images } = await buildTask('local', { builder: 'buildah', push: false, registryPassword: 'not-asked' });
      assert.equal(result.result, 'Succeeded', explain(result));
      assert.equal(result.outputs.built, '3');
      assert.deepEqual(images!.images.map((i) => [i.status, i.digest]), [['built', undefined], ['built', undefined], ['built', undefined]]);
      assert.ok(result.childArgv.some((argv) => argv[0] === 'buildah' && argv.includes('build')));
      assert.ok(!result.childArgv.some((argv) => argv.includes('push')), 'nothing pushed');
      for (const service of SERVICES) assert.deepEqual(await client.listTags(`local/${service}`), []);
    });

    it('builds, pushes and writes nothing in a dry run, but still finds what exists', async () => {
      const { result, images } = await buildTask('buildah', { builder: 'buildah', dryRun: true, preRelease: 'dry.1' });
      assert.equal(result.result, 'Succeeded', explain(result));
      assert.deepEqual(buildCalls(result), []);
      assert.equal(images, undefined, 'no images.json');
      assert.deepEqual(JSON.parse(result.outputs.images).map((i: { status: string }) => i.status), ['planned', 'planned', 'planned']);
      const existing = JSON.parse((await buildTask('buildah', { builder: 'buildah', dryRun: true })).result.outputs.images) as Array<{ status: string }>;
      assert.deepEqual(existing.map((i) => i.status), ['exists', 'exists', 'exists']);
      assert.deepEqual((await client.listTags('buildah/heuristic')).filter((t) => t.includes('dry')), []);
    });
  });

  describe('podman (chroot isolation, vfs storage), chosen by auto where docker reaches no engine', function () {
    const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    before(async function () {
      await requireTool(this, 'podman');
    });

    it('builds and pushes the three images with credentials from a Docker registry service connection', async () => {
      const result = await firstBuild('podman', { builder: 'auto' }, noEngine, true);
      assert.ok(result.childArgv.some((argv) => argv[0] === 'podman' && argv.includes('build')), 'podman built');
      assert.ok(!result.childArgv.some((argv) => argv[0] === 'buildah'), 'podman came before buildah');
      assert.match(result.summaries.join('\n'), /with podman/);
    });

    it('skips every component on a re-run and leaves the registry unchanged', async () => {
      await reRun('podman', { builder: 'podman' });
    });

    it('pushes an image index for linux/amd64 and linux/arm64', async () => {
      await multiPlatform('podman', { builder: 'podman' });
    });

    it('builds the one platform asked for', async () => {
      const { result, images } = await buildTask('podman', { builder: 'podman', components: 'heuristic', preRelease: 'arm.1', additionalTags: '', platforms: 'linux/arm64' });
      assert.equal(result.result, 'Succeeded', explain(result));
      assert.deepEqual(images!.images[0].platforms, ['linux/arm64']);
      const { configs } = await imageConfigs(client, 'podman/heuristic', 'v1.4.2-arm.1');
      assert.deepEqual(configs.map((c) => `${c.os}/${c.architecture}`), ['linux/arm64']);
    });
  });

  describe('the docker CLI through podman system service (the Docker engine API)', function () {
    let service: PodmanService | undefined;
    let dockerEnv: Record<string, string>;
    before(async function () {
      await requireTool(this, 'docker', 'podman');
      service = await PodmanService.start(scratch, containerEnv, registry.host);
      dockerEnv = { DOCKER_HOST: service.dockerHost };
    });
    after(async () => service?.stop());

    it('is chosen by auto when docker reaches an engine, and builds and pushes the three images', async () => {
      const result = await firstBuild('docker', { builder: 'auto' }, dockerEnv);
      assert.ok(result.childArgv.some((argv) => argv[0] === 'docker' && argv[1] === 'build'), 'docker built');
      assert.ok(result.childArgv.some((argv) => argv[0] === 'docker' && argv[1] === 'push'), 'docker pushed');
      assert.ok(!result.childArgv.some((argv) => argv[0] === 'podman' || argv[0] === 'buildah'), 'only docker ran');
    });

    it('skips every component on a re-run and leaves the registry unchanged', async () => {
      await reRun('docker', { builder: 'docker' }, dockerEnv);
    });

    it('builds several platforms with buildx, or says that buildx is missing', async () => {
      const buildx = (await run('docker', ['buildx', 'version'], { env: dockerEnv, allowFailure: true })).code === 0;
      if (buildx) {
        await multiPlatform('docker', { builder: 'docker' }, dockerEnv);
        return;
      }
      const { result } = await buildTask('docker', { builder: 'docker', components: 'heuristic', preRelease: 'multi.1', platforms: 'linux/amd64,linux/arm64' }, dockerEnv);
      assert.equal(result.result, 'Failed');
      assert.match(result.errors.join('\n'), /needs the buildx plugin.*set builder to podman or buildah/);
      assert.deepEqual(await client.listTags('docker/heuristic').then((tags) => tags.filter((t) => t.includes('multi'))), []);
    });
  });

  describe('bad input fails before any build', function () {
    const cases: Array<[string, Record<string, string | boolean>, RegExp]> = [
      ['a listed component without a Dockerfile', { components: 'heuristic, common' }, /'common' is listed in components but has no Dockerfile at libs\/common\/Dockerfile/],
      ['a + in the pre-release', { preRelease: 'rc+5678' }, /contains '\+', which container registries do not allow/],
      ['an unknown builder', { builder: 'kaniko' }, /builder 'kaniko' is not known: use auto, docker, podman, buildah/],
      ['a registry that refuses the credentials', { registryPassword: 'not-the-password' }, /refused the credentials \(401\)/],
    ];
    for (const [what, inputs, message] of cases) {
      it(`rejects ${what}`, async () => {
        const { result, images } = await buildTask('bad', { builder: 'buildah', ...inputs });
        assert.equal(result.result, 'Failed');
        assert.match(result.errors.join('\n'), message);
        assert.deepEqual(buildCalls(result), [], 'no builder ran');
        assert.equal(images, undefined, 'no images.json');
        for (const service of SERVICES) assert.deepEqual(await client.listTags(`bad/${service}`), []);
      });
    }
  });
});
