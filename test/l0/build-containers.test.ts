import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { runWithAgent } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import { buildRustContainers, hostPlatform, type BuildContainersResult } from '../../shared/flows/build-containers';
import { readOptions, report } from '../../tasks/BuildRustContainers/task';
import { workspaceFixture } from '../helpers/containers';
import { memoryAgents } from '../helpers/memory-agent';

const PASSWORD = 'registry-Pa55word-l0';
const DIGEST = `sha256:${'a'.repeat(64)}`;

const PUSHED: BuildContainersResult = {
  mode: 'build',
  dryRun: false,
  images: [{ component: 'heuristic', version: '1.4.2', image: 'edge.azurecr.io/heuristic', tags: ['v1.4.2-rc.5678', 'latest'], primaryTag: 'v1.4.2-rc.5678', digest: DIGEST, platforms: ['linux/amd64'], status: 'pushed' }],
  matrix: { heuristic: { component: 'heuristic', version: '1.4.2', tag: 'v1.4.2-rc.5678', image: 'edge.azurecr.io/heuristic', path: 'services/heuristic' } },
  built: 1,
  skipped: 1,
  outcomes: [
    { component: 'heuristic', version: '1.4.2', path: 'services/heuristic', status: 'pushed', reference: 'edge.azurecr.io/heuristic:v1.4.2-rc.5678', digest: DIGEST },
    { component: 'telemetry', version: '2.0.0', path: 'services/telemetry', status: 'unchanged', reference: 'edge.azurecr.io/telemetry:v2.0.0-rc.5678', note: 'no change since telemetry/2.0.0' },
    { component: 'common', version: '1.4.2', path: 'libs/common', status: 'no Dockerfile' },
  ],
  builder: 'podman',
  manifestPath: '/agent/_work/1/a/images.json',
};

describe('BuildRustContainers@1 in-process: readOptions and report on the in-memory agent', () => {
  const agent = memoryAgents();

  describe('readOptions', () => {
    it('reads every input empty as its default, with the build variables for labels and images.json', async () => {
      const a = agent({
        inputs: { registry: 'localhost:5000' },
        variables: { 'Build.SourcesDirectory': '/agent/_work/1/s', 'Build.BuildId': '5678', 'Build.SourceVersion': 'abc123', 'Build.Repository.Uri': 'https://dev.azure.com/edge/Edge/_git/app' },
      });
      assert.deepEqual(await readOptions(a), {
        network: {},
        componentsPath: '/agent/_work/1/s',
        components: '',
        excludePaths: [],
        dockerfile: '{path}/Dockerfile',
        buildContext: '{path}',
        imageNames: [],
        registry: 'localhost:5000',
        credentials: { username: undefined, password: undefined },
        repositoryPrefix: '',
        imageTagFormat: 'v{version}',
        preRelease: '',
        additionalTags: [],
        overwrite: false,
        platforms: [],
        builder: 'auto',
        buildArgs: [],
        changedOnly: false,
        changedSince: '',
        tagFormat: '{name}/{version}',
        legacyTagFormats: [],
        mode: 'build',
        manifestPath: '',
        push: true,
        dryRun: false,
        buildId: '5678',
        commit: 'abc123',
        sourceUrl: 'https://dev.azure.com/edge/Edge/_git/app',
        tempDir: a.tempDir(),
      });
    });

    it('parses every input: lists, one build argument a line, $(...) left by a template filled from the variables, paths resolved', async () => {
      const options = await readOptions(
        agent({
          inputs: {
            componentsPath: 'app',
            components: 'heuristic, telemetry',
            excludePaths: 'tests/**',
            dockerfile: '{workspaceRoot}/docker/{name}.Dockerfile',
            buildContext: '{workspaceRoot}',
            imageNames: 'heuristic=edge-heuristic',
            registry: 'ghcr.io/edge',
            registryUsername: 'ci',
            registryPassword: PASSWORD,
            repositoryPrefix: 'rust/',
            imageTagFormat: '{version}',
            preRelease: 'rc.$(Build.BuildId)',
            additionalTags: 'latest,\nstable',
            overwrite: 'true',
            platforms: 'linux/amd64, linux/arm64',
            builder: 'buildah',
            buildArgs: 'FLAVOUR=edge\n\nRUST_LOG=info,debug\r\n',
            changedOnly: 'true',
            changedSince: 'release/1.4',
            tagFormat: '{name}-v{version}',
            legacyTagFormats: '{dir}/{version}\n{dir}-{version}',
            mode: 'plan',
            manifestPath: '$(Build.ArtifactStagingDirectory)/images.json',
            push: 'false',
            dryRun: 'true',
          },
          variables: { 'Build.BuildId': '5678', 'Build.ArtifactStagingDirectory': '/agent/_work/1/a' },
        }),
      );
      assert.deepEqual(
        { ...options, tempDir: undefined },
        {
          componentsPath: path.resolve('app'),
          components: 'heuristic, telemetry',
          excludePaths: ['tests/**'],
          dockerfile: '{workspaceRoot}/docker/{name}.Dockerfile',
          buildContext: '{workspaceRoot}',
          imageNames: ['heuristic=edge-heuristic'],
          registry: 'ghcr.io/edge',
          credentials: { username: 'ci', password: PASSWORD },
          network: {},
          repositoryPrefix: 'rust/',
          imageTagFormat: '{version}',
          preRelease: 'rc.5678',
          additionalTags: ['latest', 'stable'],
          overwrite: true,
          platforms: ['linux/amd64', 'linux/arm64'],
          builder: 'buildah',
          buildArgs: ['FLAVOUR=edge', 'RUST_LOG=info,debug'],
          changedOnly: true,
          changedSince: 'release/1.4',
          tagFormat: '{name}-v{version}',
          legacyTagFormats: ['{dir}/{version}', '{dir}-{version}'],
          mode: 'plan',
          manifestPath: '/agent/_work/1/a/images.json',
          push: false,
          dryRun: true,
          buildId: '5678',
          commit: undefined,
          sourceUrl: undefined,
          tempDir: undefined,
        },
      );
    });

    it('takes the registry and its credentials from the containerRegistry service connection', async () => {
      const a = agent({
        inputs: { containerRegistry: 'edge-acr' },
        endpoints: { 'edge-acr': { url: 'https://edge.azurecr.io', username: 'edge-push', password: PASSWORD, data: { registry: 'https://edge.azurecr.io' } } },
      });
      const options = await readOptions(a);
      assert.equal(options.registry, 'https://edge.azurecr.io');
      assert.deepEqual(options.credentials, { username: 'edge-push', password: PASSWORD });
      assert.ok(a.secrets.includes(PASSWORD));
    });

    it('refuses to run without a registry, saying how to give one', async () => {
      await assert.rejects(readOptions(agent({})), new UserError('No registry is given: set containerRegistry (a Docker registry service connection), or registry (with azureSubscription: the login server of the Azure Container Registry, e.g. myacr.azurecr.io).'));
    });
  });

  describe('report', () => {
    it('sets images, matrix, built and skipped as the contract names them, the summary table, and the closing message', () => {
      const a = agent();
      assert.equal(report(a, PUSHED), 'Built 1 image(s), skipped 1; /agent/_work/1/a/images.json');
      assert.deepEqual(a.outputs, { images: JSON.stringify(PUSHED.images), matrix: JSON.stringify(PUSHED.matrix), built: '1', skipped: '1' });
      assert.deepEqual(a.summaries.map((s) => s.title), ['BuildRustContainers']);
      assert.equal(
        a.summaries[0].markdown,
        [
          'Built 1, skipped 1 (with podman).',
          '',
          '| Component | Version | Image | Status | Digest |',
          '| --- | --- | --- | --- | --- |',
          `| heuristic | 1.4.2 | \`edge.azurecr.io/heuristic:v1.4.2-rc.5678\` | pushed | \`${DIGEST}\` |`,
          '| telemetry | 2.0.0 | `edge.azurecr.io/telemetry:v2.0.0-rc.5678` | unchanged | no change since telemetry/2.0.0 |',
          '| common | 1.4.2 |  | no Dockerfile |  |',
          '',
        ].join('\n'),
      );
    });
  });

  describe('with the real flow, on the fixture workspace (nothing built, no registry contacted)', () => {
    const run = async (inputs: Record<string, string>) => {
      const a = agent({ inputs: { componentsPath: workspaceFixture, registry: 'edge.azurecr.io', push: 'false', ...inputs }, variables: { 'Build.BuildId': '5678' } });
      await runWithAgent(a, async (x) => report(x, await buildRustContainers(await readOptions(x), x)));
      return a;
    };

    it('mode plan sets a matrix leg per component with a Dockerfile, named as strategy: matrix: accepts', async () => {
      const a = await run({ mode: 'plan', preRelease: 'rc.$(Build.BuildId)' });
      assert.deepEqual(a.result, { succeeded: true, message: 'Planned 3 build(s), skipped 0' });
      const matrix = JSON.parse(a.outputs.matrix) as Record<string, Record<string, string>>;
      assert.deepEqual(Object.keys(matrix).sort(), ['heuristic', 'http_connector', 'telemetry']);
      assert.deepEqual(matrix.http_connector, { component: 'http-connector', version: '0.3.0', tag: 'v0.3.0-rc.5678', image: 'edge.azurecr.io/http-connector', path: 'services/http-connector' });
      assert.deepEqual(
        (JSON.parse(a.outputs.images) as Array<{ status: string; platforms: string[] }>).map((i) => [i.status, i.platforms]),
        [0, 1, 2].map(() => ['planned', [hostPlatform()]]),
      );
      assert.equal(a.outputs.built, '0');
      assert.match(a.summaries[0].markdown, /^Planned 3 build\(s\), skipped 0\./);
      assert.ok(a.summaries[0].markdown.includes('| common | 1.4.2 |  | no Dockerfile |  |'), a.summaries[0].markdown);
    });

    it('dryRun builds nothing and says so once', async () => {
      const a = await run({ dryRun: 'true' });
      assert.deepEqual(a.result, { succeeded: true, message: 'Dry run: would build 3 image(s), skipped 0 (nothing built or pushed)' });
      assert.equal(a.summaries[0].markdown.match(/Dry run/g)?.length, 1);
      assert.equal(a.outputs.built, '0');
    });

    it('a bad input of the flow fails the task with one error naming it', async () => {
      const a = await run({ platforms: 'linux/amd64,windows' });
      assert.equal(a.result?.succeeded, false);
      assert.deepEqual(a.errors.map((e) => e.message), ["platforms entry 'windows' is not a platform: use os/arch, e.g. linux/amd64,linux/arm64."]);
      assert.deepEqual(a.outputs, {});
    });
  });
});
