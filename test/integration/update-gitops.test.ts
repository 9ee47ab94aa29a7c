import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { UserError } from '../../shared/errors';
import { updateGitOps, type UpdateGitOpsOptions } from '../../shared/flows/update-gitops';
import { run } from '../../shared/process';
import { gitopsSummary } from '../../shared/summaries';
import { gitopsTree, refuses, snapshot, testLog } from '../helpers/gitops-tree';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';

const D = (c: string) => `sha256:${c.repeat(64)}`;


/** The images `kubectl kustomize` renders for an overlay: containers, initContainers and HelmRelease values. */
async function rendered(dir: string, overlay: string): Promise<string[]> {
  const { stdout } = await run('kubectl', ['kustomize', path.join(dir, overlay)]);
  const images: string[] = [];
  for (const document of parseAllDocuments(stdout)) {
    type Containers = Record<string, Array<{ name: string; image: string }> | undefined>;
    type PodTemplate = { template?: { spec?: Containers } };
    const object = document.toJS() as {
      kind: string;
      metadata: { name: string };
      spec: PodTemplate & { jobTemplate?: { spec: PodTemplate }; values?: { collector: { repository: string; tag: string } } };
    };
    const podSpec = object.kind === 'CronJob' ? object.spec.jobTemplate?.spec.template?.spec : object.spec?.template?.spec;
    for (const list of ['initContainers', 'containers']) {
      for (const container of podSpec?.[list] ?? []) images.push(`${object.kind}/${object.metadata.name}/${container.name}=${container.image}`);
    }
    if (object.kind === 'HelmRelease') {
      const values = object.spec.values!.collector;
      images.push(`HelmRelease/${object.metadata.name}=${values.repository}:${values.tag}`);
    }
  }
  return images.sort();
}

const R = 'myacr.azurecr.io';

describe('updateGitOps on a GitOps tree (base + devtest/qa overlays)', function () {
  let dir: string;
  beforeEach(async () => {
    dir = await gitopsTree(R);
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  const options = (extra: Partial<UpdateGitOpsOptions> = {}): UpdateGitOpsOptions => ({
    gitopsPath: dir,
    environment: 'devtest',
    images: ['heuristic=v1.4.2', `${R}/collector:v2.1.0`],
    pinDigest: false,
    ...extra,
  });

  it('takes every images.json in a folder (the artifacts of a fanned-out build), and refuses two different images of one component', async () => {
    const artifacts = await fs.mkdtemp(path.join(os.tmpdir(), 'artifacts-'));
    try {
      const leg = (component: string, tag: string, digest: string) =>
        JSON.stringify({ schemaVersion: 1, buildId: '5678', commit: 'abc', images: [{ component, version: tag.slice(1), image: `${R}/${component}`, tags: [tag], digest, platforms: ['linux/amd64'], status: 'pushed' }] });
      await fs.mkdir(path.join(artifacts, 'images-heuristic'));
      await fs.mkdir(path.join(artifacts, 'images-collector'));
      await fs.writeFile(path.join(artifacts, 'images-heuristic', 'images-heuristic.json'), leg('heuristic', 'v1.4.2', D('a')));
      await fs.writeFile(path.join(artifacts, 'images-collector', 'images-collector.json'), leg('collector', 'v2.1.0', D('b')));
      const result = await updateGitOps(options({ images: [], imagesFile: artifacts }), testLog());
      assert.deepEqual(result.changes.map((c) => c.to).sort(), [`${R}/collector:v2.1.0@${D('b')}`, `${R}/heuristic:v1.4.2@${D('a')}`]);

      await fs.writeFile(path.join(artifacts, 'images-collector', 'again.json'), leg('collector', 'v2.1.1', D('c')));
      const before = await snapshot(dir);
      await assert.rejects(updateGitOps(options({ images: [], imagesFile: artifacts }), testLog()), /collector is in both .* with different images/);
      assert.deepEqual(await snapshot(dir), before);
    } finally {
      await fs.rm(artifacts, { recursive: true, force: true });
    }
  });

  it('updates the lock and every reference, and kubectl kustomize renders exactly the new images', async function () {
    const before = await snapshot(dir);
    const result = await updateGitOps(options(), testLog());
    assert.equal(result.changed, true);
    assert.deepEqual(result.changes, [
      { component: 'collector', from: `${R}/collector:v2.0.0`, to: `${R}/collector:v2.1.0`, bump: 'minor', files: ['versions.yaml', 'environments/devtest/helmrelease.yaml', 'environments/devtest/kustomization.yaml'] },
      { component: 'heuristic', from: `${R}/heuristic:v1.4.1`, to: `${R}/heuristic:v1.4.2`, bump: 'patch', files: ['versions.yaml', 'environments/devtest/jobs.yaml', 'environments/devtest/kustomization.yaml'] },
    ]);
    const after = await snapshot(dir);
    const changedFiles = [...after.keys()].filter((f) => after.get(f)!.bytes !== before.get(f)!.bytes).sort();
    assert.deepEqual(changedFiles, ['environments/devtest/helmrelease.yaml', 'environments/devtest/jobs.yaml', 'environments/devtest/kustomization.yaml', 'versions.yaml']);
    const lock = await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8');
    assert.ok(lock.includes('  devtest:\n    heuristic:\n      image: myacr.azurecr.io/heuristic   # repository, without tag\n      tag: v1.4.2\n    collector:\n      image: myacr.azurecr.io/collector\n      tag: "v2.1.0"\n  qa:\n'), lock);
    assert.match(gitopsSummary(result), /\| heuristic \| `myacr.azurecr.io\/heuristic:v1.4.1` \| `myacr.azurecr.io\/heuristic:v1.4.2` \| patch \|/);
    await requireTool(this, 'kubectl');
    assert.deepEqual(await rendered(dir, 'environments/devtest'), [
      `CronJob/collector/collector=${R}/collector:v2.1.0`,
      `Deployment/heuristic/heuristic=${R}/heuristic:v1.4.2`,
      `Deployment/heuristic/migrate=${R}/heuristic:v1.4.2`,
      `HelmRelease/collector-dashboard=${R}/collector:v2.1.0`,
      'Job/warmup/wait=busybox:1.36',
      `Job/warmup/warmup=${R}/heuristic:v1.4.2`,
    ]);
    assert.deepEqual(await rendered(dir, 'environments/qa'), [
      `CronJob/collector/collector=${R}/collector:v2.0.0`,
      `Deployment/heuristic/heuristic=${R}/heuristic:v1.3.0`,
      `Deployment/heuristic/migrate=${R}/heuristic:v1.3.0`,
    ]);
  });

  it('writes digests everywhere when the images carry them, and kustomize renders repo:tag@digest', async function () {
    const result = await updateGitOps(options({ images: [`heuristic=v1.4.2@${D('1')}`, `collector=v2.1.0@${D('2')}`] }), testLog());
    assert.deepEqual(result.changes.map((c) => c.to), [`${R}/collector:v2.1.0@${D('2')}`, `${R}/heuristic:v1.4.2@${D('1')}`]);
    const lock = await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8');
    assert.ok(lock.includes(`      tag: v1.4.2\n      digest: ${D('1')}\n    collector:`));
    await requireTool(this, 'kubectl');
    assert.deepEqual(await rendered(dir, 'environments/devtest'), [
      `CronJob/collector/collector=${R}/collector:v2.1.0@${D('2')}`,
      `Deployment/heuristic/heuristic=${R}/heuristic:v1.4.2@${D('1')}`,
      `Deployment/heuristic/migrate=${R}/heuristic:v1.4.2@${D('1')}`,
      `HelmRelease/collector-dashboard=${R}/collector:v2.1.0`,
      'Job/warmup/wait=busybox:1.36',
      `Job/warmup/warmup=${R}/heuristic:v1.4.2@${D('1')}`,
    ]);
    // and back to unpinned: the digests go again
    await updateGitOps(options({ images: ['heuristic=v1.4.3', 'collector=v2.1.1'] }), testLog());
    assert.ok(!(await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8')).includes('digest'));
    assert.ok(!(await rendered(dir, 'environments/devtest')).some((image) => image.includes('@')));
  });

  it('re-running changes no byte, keeps mtimes, and reports changed=false', async () => {
    await updateGitOps(options(), testLog());
    const before = await snapshot(dir);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await updateGitOps(options(), testLog());
    assert.equal(again.changed, false);
    assert.deepEqual(again.changes, []);
    assert.deepEqual(again.files, []);
    assert.deepEqual(await snapshot(dir), before);
    assert.match(gitopsSummary(again), /up to date/);
  });

  it('re-applies its own changes semantically (as CreateEnvPR does) with identical bytes', async () => {
    const first = await updateGitOps(options({ images: [`heuristic=v1.4.2@${D('1')}`, 'collector=v2.1.0'] }), testLog());
    const expected = await snapshot(dir);
    const other = await gitopsTree(R);
    try {
      const replay = await updateGitOps({ gitopsPath: other, environment: 'devtest', source: 'images', images: first.changes.map((c) => `${c.component}=${c.to}`), pinDigest: false }, testLog());
      assert.deepEqual(replay.changes, first.changes);
      const got = await snapshot(other);
      for (const [file, { bytes }] of expected) assert.equal(got.get(file)!.bytes, bytes, file);
    } finally {
      await fs.rm(other, { recursive: true, force: true });
    }
  });

  it('promotes devtest to qa copying tag and digest exactly', async () => {
    await updateGitOps(options({ images: [`heuristic=v1.4.2@${D('1')}`, `collector=v2.1.0@${D('2')}`] }), testLog());
    const result = await updateGitOps({ gitopsPath: dir, environment: 'qa', source: 'environment', sourceEnvironment: 'devtest', pinDigest: true }, testLog());
    assert.deepEqual(result.changes.map((c) => [c.component, c.to, c.bump]), [
      ['collector', `${R}/collector:v2.1.0@${D('2')}`, 'minor'],
      ['heuristic', `${R}/heuristic:v1.4.2@${D('1')}`, 'minor'],
    ]);
    const qa = await fs.readFile(path.join(dir, 'environments/qa/kustomization.yaml'), 'utf8');
    assert.ok(qa.includes(`    -   name: heuristic\n        newName: ${R}/heuristic\n        newTag: v1.4.2\n        digest: ${D('1')}\n`));
  });

  it('selects components with the components input', async () => {
    const result = await updateGitOps(options({ components: 'heuristic' }), testLog());
    assert.deepEqual(result.changes.map((c) => c.component), ['heuristic']);
    await assert.rejects(updateGitOps(options({ components: 'nothing-like-it' }), testLog()), /No component matches 'nothing-like-it'/);
  });

  it('a dry run computes the changes and writes nothing', async () => {
    const before = await snapshot(dir);
    const result = await updateGitOps(options({ dryRun: true }), testLog());
    assert.equal(result.changed, true);
    assert.equal(result.files.length, 4);
    assert.deepEqual(await snapshot(dir), before);
  });

  const failures: Array<[string, (dir: string) => Promise<Partial<UpdateGitOpsOptions>>, string, number | undefined, RegExp]> = [
    ['malformed YAML in a file that mentions no image', async (d) => {
      await fs.appendFile(path.join(d, 'environments/devtest/config/settings.yaml'), '  bad: [unclosed\n');
      return {};
    }, 'environments/devtest/config/settings.yaml', 7, /not valid YAML/],
    ['an invalid lock', async (d) => {
      const file = path.join(d, 'versions.yaml');
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('tag: v1.3.0', 'tag: v1.3.0+build'));
      return {};
    }, 'versions.yaml', 14, /contains '\+'/],
    ['a downgrade', async () => ({ images: ['heuristic=v1.4.0'] }), 'versions.yaml', 5, /move down from v1.4.1 to v1.4.0.*allowDowngrade/],
    ['a bump over maxBump', async () => ({ images: ['heuristic=v2.0.0'], maxBump: 'minor' }), 'versions.yaml', 5, /major step from v1.4.1 to v2.0.0.*maxBump 'minor'/],
    ['an unchanged image outside allowedRegistries', async () => ({ allowedRegistries: [R] }), 'environments/devtest/jobs.yaml', 11, /busybox:1.36, outside allowedRegistries/],
    ['a changed image outside allowedRegistries', async () => ({ images: ['heuristic=evil.example.com/heuristic:v1.4.2'], allowedRegistries: [R, 'docker.io/library'] }), 'versions.yaml', 5, /evil.example.com\/heuristic, outside allowedRegistries/],
    ['a symbolic link leading outside the repository', async (d) => {
      await fs.symlink(os.tmpdir(), path.join(d, 'environments/devtest/outside'));
      return {};
    }, 'environments/devtest/outside', undefined, /outside the GitOps repository/],
  ];
  for (const [name, prepare, file, line, message] of failures) {
    it(`fails on ${name}, naming ${file}${line ? `:${line}` : ''}, and changes no file`, async () => {
      await refuses(dir, options(await prepare(dir)), file, line, message);
    });
  }

  it('creates the lock when the repository has none, from images with their repositories', async () => {
    await fs.rm(path.join(dir, 'versions.yaml'));
    await assert.rejects(updateGitOps(options({ images: ['heuristic=v1.4.2'] }), testLog()), /heuristic is not in versions.yaml .* write 'heuristic=registry\/repository:v1.4.2'/);
    const log = testLog();
    const result = await updateGitOps(options({ images: [`heuristic=${R}/heuristic:v1.4.2`] }), log);
    // what the environment deploys today is where it moves from: its policies apply to that
    assert.deepEqual(result.changes.map((c) => [c.component, c.from, c.to, c.bump]), [['heuristic', `${R}/heuristic:v1.4.1`, `${R}/heuristic:v1.4.2`, 'patch']]);
    assert.ok(log.lines.some((l) => l.includes(`heuristic: not in versions.yaml yet; environments/devtest deploys ${R}/heuristic:v1.4.1 today`)), log.lines.join('\n'));
    assert.equal(
      await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8'),
      `# versions.yaml: what runs where. Change it through pull requests.\nschemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: ${R}/heuristic\n      tag: v1.4.2\n`,
    );
    assert.ok((await fs.readFile(path.join(dir, 'environments/devtest/jobs.yaml'), 'utf8')).includes(`"${R}/heuristic:v1.4.2"`));
  });

  it('reads BuildRustContainers images.json (first version tag, digest), skipping planned images', async () => {
    const file = path.join(dir, '..', `${path.basename(dir)}-images.json`);
    await fs.writeFile(
      file,
      JSON.stringify({
        schemaVersion: 1,
        buildId: '5678',
        commit: 'abc',
        images: [
          { component: 'heuristic', version: '1.4.2', image: `${R}/heuristic`, tags: ['v1.4.2-rc.5678', 'latest'], digest: D('3'), platforms: ['linux/amd64'], status: 'pushed' },
          { component: 'collector', version: '2.1.0', image: `${R}/collector`, tags: ['v2.1.0'], platforms: [], status: 'planned' },
        ],
      }),
    );
    try {
      const log = testLog();
      const result = await updateGitOps(options({ images: [], imagesFile: file }), log);
      assert.deepEqual(result.changes.map((c) => [c.component, c.to, c.bump]), [['heuristic', `${R}/heuristic:v1.4.2-rc.5678@${D('3')}`, 'patch']]);
      assert.equal(log.warnings.filter((w) => /collector is only planned/.test(w)).length, 1);
    } finally {
      await fs.rm(file, { force: true });
    }
  });

  it('reads a Helm chart\'s values but not its templates (not YAML until rendered)', async () => {
    const chart = path.join(dir, 'environments/devtest/charts/dashboard');
    await fs.mkdir(path.join(chart, 'templates'), { recursive: true });
    await fs.writeFile(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: dashboard\nversion: 0.1.0\n');
    await fs.writeFile(path.join(chart, 'values.yaml'), `image: ${R}/heuristic:v1.4.1 # {"$imagepolicy": "flux-system:heuristic"}\n`);
    await fs.writeFile(path.join(chart, 'templates', 'deployment.yaml'), 'spec:\n  {{- if .Values.x }}\n  image: {{ .Values.image }}\n  {{- end }}\n');
    const result = await updateGitOps(options(), testLog());
    assert.ok(result.changes.find((c) => c.component === 'heuristic')!.files.includes('environments/devtest/charts/dashboard/values.yaml'));
    assert.equal(await fs.readFile(path.join(chart, 'values.yaml'), 'utf8'), `image: ${R}/heuristic:v1.4.2 # {"$imagepolicy": "flux-system:heuristic"}\n`);
  });

  it('checks allowedRegistries on what runs: a placeholder image renamed by the kustomization passes', async () => {
    await fs.writeFile(
      path.join(dir, 'environments/devtest/pod.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: local\nspec:\n  containers:\n  - name: h\n    image: heuristic   # renamed by the kustomization\n',
    );
    const result = await updateGitOps(options({ allowedRegistries: [R, 'docker.io/library/busybox'] }), testLog());
    assert.equal(result.changed, true);
    // the same name, not renamed, is an image from Docker Hub and fails
    await fs.writeFile(path.join(dir, 'environments/devtest/pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: local\nspec:\n  containers:\n  - name: h\n    image: redis:7\n');
    await assert.rejects(updateGitOps(options({ allowedRegistries: [R, 'docker.io/library/busybox'] }), testLog()), /pod.yaml runs redis:7, outside allowedRegistries/);
  });

  it('reads allowedRegistries and image hosts in any spelling of the host: case, scheme, Docker Hub\'s aliases', async () => {
    await fs.writeFile(path.join(dir, 'environments/devtest/pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: local\nspec:\n  containers:\n  - name: h\n    image: Registry-1.Docker.io/library/redis:7\n  - name: i\n    image: MyACR.AzureCR.io/sidecar:v1\n');
    const result = await updateGitOps(options({ allowedRegistries: [`HTTPS://${R.toUpperCase()}/`, 'index.docker.io/library/redis', 'docker.io/library/busybox'] }), testLog());
    assert.equal(result.changed, true);
    await assert.rejects(updateGitOps(options({ allowedRegistries: [R, 'docker.io/library/busybox'] }), testLog()), /pod.yaml runs Registry-1.Docker.io\/library\/redis:7, outside allowedRegistries/);
  });

  it('warns about a :digest marker it cannot fill when the new image has no digest', async () => {
    const file = path.join(dir, 'environments/devtest/helmrelease.yaml');
    await fs.appendFile(file, `      digest: ${D('a')} # {"$imagepolicy": "flux-system:collector:digest"}\n`);
    const log = testLog();
    await updateGitOps(options(), log);
    assert.deepEqual(log.warnings.filter((w) => w.includes(':digest marker')).length, 1);
    assert.ok((await fs.readFile(file, 'utf8')).includes(`digest: ${D('a')} #`));
  });

  it('refuses an environment without manifests folder, naming it', async () => {
    await assert.rejects(updateGitOps(options({ environment: 'prod' }), testLog()), (error: unknown) => error instanceof UserError && error.where?.file === 'environments/prod' && /not a folder/.test(error.message));
  });

  it('allows a downgrade when asked, and any registry listed with a glob', async () => {
    const result = await updateGitOps(options({ images: ['heuristic=v1.4.0'], allowDowngrade: true, allowedRegistries: ['*.azurecr.io', 'docker.io/library'] }), testLog());
    assert.deepEqual(result.changes.map((c) => [c.component, c.bump]), [['heuristic', 'patch']]);
  });
});

describe('updateGitOps with a real registry (docker-registry, htpasswd)', function () {
  let registry: TestRegistry;
  const pushed: Record<string, string> = {};
  let dir: string;

  before(async function () {
    await requireTool(this, ...REGISTRY_TOOLS);
    registry = await TestRegistry.start();
    for (const tag of ['v1.2.3', '1.2.4', 'v1.2.10', '1.3.0-rc.5', 'v1.3.0-rc9', 'v1.3.0-rc10', 'v0.9.0', 'latest', 'rc9', 'rc10', 'v1.4.1']) {
      pushed[`heuristic:${tag}`] = await registry.pushImage('heuristic', tag, `heuristic-${tag}`);
    }
    for (const tag of ['v2.0.0', 'v2.0.1', 'v2.1.0-rc.1']) pushed[`collector:${tag}`] = await registry.pushImage('collector', tag, `collector-${tag}`);
  });
  after(async () => registry?.stop());
  beforeEach(async () => {
    dir = await gitopsTree(registry.host);
    // the registry holds heuristic v1.2.x..v1.4.1: start devtest from v1.2.3
    const lock = path.join(dir, 'versions.yaml');
    await fs.writeFile(lock, (await fs.readFile(lock, 'utf8')).replace('tag: v1.4.1', 'tag: v1.2.3'));
  });
  afterEach(async () => dir && fs.rm(dir, { recursive: true, force: true }));

  const credentials = () => ({ registry: registry.host, credentials: { username: registry.username, password: registry.password } });

  it('chooses the newest stable tag across several pages, with the registry\'s own digest', async () => {
    const result = await updateGitOps({ gitopsPath: dir, environment: 'devtest', source: 'registry', registryPageSize: 2, ...credentials() }, testLog());
    assert.deepEqual(result.changes.map((c) => [c.component, c.to, c.bump]), [
      ['collector', `${registry.host}/collector:v2.0.1@${pushed['collector:v2.0.1']}`, 'patch'],
      ['heuristic', `${registry.host}/heuristic:v1.4.1@${pushed['heuristic:v1.4.1']}`, 'minor'],
    ]);
  });

  it('orders pre-releases by our rules when tagFilter admits them (rc10 after rc9 after rc.5)', async () => {
    const result = await updateGitOps(
      { gitopsPath: dir, environment: 'devtest', source: 'registry', registryPageSize: 3, tagFilter: '^v?1\\.3\\.\\d+(-rc\\.?\\d+)?$', components: 'heuristic', ...credentials() },
      testLog(),
    );
    assert.deepEqual(result.changes.map((c) => c.to), [`${registry.host}/heuristic:v1.3.0-rc10@${pushed['heuristic:v1.3.0-rc10']}`]);
    const second = await updateGitOps(
      { gitopsPath: dir, environment: 'devtest', source: 'registry', registryPageSize: 3, tagFilter: '^v?1\\.3\\.\\d+(-rc\\.?\\d+)?$', components: 'heuristic', ...credentials() },
      testLog(),
    );
    assert.equal(second.changed, false);
  });

  it('pins the digest of an image given without one, and refuses a tag the registry lacks', async () => {
    const result = await updateGitOps({ gitopsPath: dir, environment: 'devtest', images: ['heuristic=1.2.4'], ...credentials() }, testLog());
    assert.deepEqual(result.changes.map((c) => c.to), [`${registry.host}/heuristic:1.2.4@${pushed['heuristic:1.2.4']}`]);
    const before = await snapshot(dir);
    await assert.rejects(updateGitOps({ gitopsPath: dir, environment: 'devtest', images: ['heuristic=v9.9.9'], ...credentials() }, testLog()), /heuristic:v9.9.9 .* is not in the registry/);
    assert.deepEqual(await snapshot(dir), before);
  });

  it('sends the credentials to the registry however the registry input spells its host', async () => {
    const result = await updateGitOps(
      { gitopsPath: dir, environment: 'devtest', source: 'registry', components: 'heuristic', registry: `HTTP://${registry.host}/`, credentials: credentials().credentials },
      testLog(),
    );
    assert.deepEqual(result.changes.map((c) => c.to), [`${registry.host}/heuristic:v1.4.1@${pushed['heuristic:v1.4.1']}`]);
  });

  it('refuses wrong credentials naming the registry', async () => {
    await assert.rejects(
      updateGitOps({ gitopsPath: dir, environment: 'devtest', source: 'registry', registry: registry.host, credentials: { username: registry.username, password: 'wrong' } }, testLog()),
      /refused the credentials/,
    );
  });
});
