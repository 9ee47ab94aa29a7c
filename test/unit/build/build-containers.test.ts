import * as assert from 'node:assert/strict';
import { buildRustContainers, legName, parseRegistry } from '../../../shared/flows/build-containers';
import { componentTagPattern } from '../../../shared/git/changed-components';
import { parseBuilderChoice } from '../../../shared/builders';
import type { Log } from '../../../shared/agent';
import { UserError } from '../../../shared/errors';
import { workspaceFixture } from '../../helpers/containers';
import * as path from 'node:path';

const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, setSecret: () => undefined };

describe('BuildRustContainers inputs', () => {
  it('turns component names into leg names Azure Pipelines accepts, without collisions', () => {
    const taken = new Set<string>();
    assert.equal(legName('http-connector', taken), 'http_connector');
    assert.equal(legName('http_connector', taken), 'http_connector_2');
    assert.equal(legName('2fa-proxy', taken), 'c_2fa_proxy');
    assert.equal(legName('heuristic', taken), 'heuristic');
  });

  it('reads a registry host from a host, a URL or a service connection registry, keeping a namespace', () => {
    assert.deepEqual(parseRegistry('myacr.azurecr.io'), { host: 'myacr.azurecr.io', namespace: '' });
    assert.deepEqual(parseRegistry('https://MyACR.azurecr.io/'), { host: 'myacr.azurecr.io', namespace: '' });
    assert.deepEqual(parseRegistry('ghcr.io/edge-team'), { host: 'ghcr.io', namespace: 'edge-team/' });
    assert.deepEqual(parseRegistry('ghcr.io/v1'), { host: 'ghcr.io', namespace: 'v1/' });
    assert.deepEqual(parseRegistry('https://index.docker.io/v1/'), { host: 'docker.io', namespace: '' });
    assert.deepEqual(parseRegistry('registry-1.docker.io/edgeteam'), { host: 'docker.io', namespace: 'edgeteam/' });
    assert.deepEqual(parseRegistry('http://127.0.0.1:5000'), { host: '127.0.0.1:5000', namespace: '' });
    assert.deepEqual(parseRegistry('[::1]:5000'), { host: '[::1]:5000', namespace: '' });
    assert.throws(() => parseRegistry('not a host'), UserError);
  });

  it('matches a component’s own tags in the tag format and captures the version', () => {
    const pattern = componentTagPattern('{name}/{version}', { name: 'http-connector', dir: 'broker' });
    assert.equal(pattern.exec('http-connector/1.2.3')?.[1], '1.2.3');
    assert.equal(pattern.test('http-connector-x/1.2.3'), false);
    assert.equal(componentTagPattern('{name}-v{version}', { name: 'a.b', dir: 'a' }).exec('a.b-v1.0.0-rc10')?.[1], '1.0.0-rc10');
    assert.equal(componentTagPattern('{name}-v{version}', { name: 'a.b', dir: 'a' }).test('aXb-v1.0.0'), false);
  });

  it('knows the builders and lists them for anything else', () => {
    assert.equal(parseBuilderChoice(''), 'auto');
    assert.equal(parseBuilderChoice('Podman'), 'podman');
    assert.throws(() => parseBuilderChoice('kaniko'), /builder 'kaniko' is not known: use auto, docker, podman, buildah\./);
  });

  const base = { componentsPath: workspaceFixture, registry: '127.0.0.1:1', push: false, dryRun: true };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown mode', { mode: 'deploy' }, /mode 'deploy' is not known: use build or plan/],
    ['a platform that is not os/arch', { platforms: ['amd64'] }, /platforms entry 'amd64' is not a platform/],
    ['a build argument that is not KEY=VALUE', { buildArgs: ['FLAVOUR'] }, /buildArgs line 'FLAVOUR' is not KEY=VALUE/],
    ['an unknown placeholder in dockerfile', { dockerfile: '{folder}/Dockerfile' }, /dockerfile '\{folder\}\/Dockerfile' uses \{folder\}, which is not known/],
    ['a + in the image tag format', { imageTagFormat: 'v{version}+build' }, /contains '\+'/],
    ['an invalid additional tag', { additionalTags: ['-latest'] }, /additionalTags entry '-latest' is not a valid image tag/],
    ['a repository prefix that is not a repository', { repositoryPrefix: 'edge//' }, /is not a valid image repository/],
    ['a name that matches no component', { components: 'nothing-here' }, /No component matches 'nothing-here'/],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(buildRustContainers({ ...base, ...options }, quiet), (e: Error) => e instanceof UserError && message.test(e.message));
    });
  }

  it('plans every component with a Dockerfile without asking the registry when not pushing', async () => {
    const result = await buildRustContainers({ ...base, mode: 'plan', platforms: ['linux/arm64', 'linux/amd64'], repositoryPrefix: 'Edge/' }, quiet);
    assert.deepEqual(Object.keys(result.matrix), ['heuristic', 'http_connector', 'telemetry']);
    assert.deepEqual(
      result.images.map((i) => [i.image, i.tags.join(','), i.platforms.join(','), i.status]),
      [
        ['127.0.0.1:1/edge/heuristic', 'v1.4.2', 'linux/arm64,linux/amd64', 'planned'],
        ['127.0.0.1:1/edge/http-connector', 'v0.3.0', 'linux/arm64,linux/amd64', 'planned'],
        ['127.0.0.1:1/edge/telemetry', 'v2.0.0', 'linux/arm64,linux/amd64', 'planned'],
      ],
    );
    assert.deepEqual(
      result.outcomes.find((o) => o.component === 'common'),
      { component: 'common', version: '1.4.2', path: 'libs/common', status: 'no Dockerfile' },
    );
    assert.equal(result.manifestPath, undefined);
  });

  it('goes on without a broken Cargo.toml the selection does not need, warning and reporting it; fails when a selected component needs it', async () => {
    const examples = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'cargo', 'broken-example-path-dep');
    const warnings: string[] = [];
    const log: Log = { ...quiet, warn: (message, where) => warnings.push(`${path.relative(examples, where!.file)}:${where!.line}`) };
    const plan = { ...base, componentsPath: examples, mode: 'plan' };
    const result = await buildRustContainers({ ...plan, components: 'edge-*' }, log);
    assert.deepEqual(result.outcomes.map((o) => o.component), ['edge-server']);
    assert.deepEqual(result.skippedManifests?.map((s) => `${s.file}:${s.line}`), ['examples/demo/Cargo.toml:8', 'examples/loose/Cargo.toml:7']);
    assert.deepEqual(warnings, ['examples/demo/Cargo.toml:8', 'examples/loose/Cargo.toml:7']);
    await assert.rejects(buildRustContainers({ ...plan, components: 'loose-example' }, quiet), /'loose-example' depends on it by path/);
    const excluded = await buildRustContainers({ ...plan, excludePaths: ['examples/**'] }, quiet);
    assert.deepEqual(excluded.skippedManifests, []);
  });
});
