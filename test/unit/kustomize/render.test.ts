import { strict as assert } from 'node:assert';
import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../../shared/errors';
import { applyImagesEntry, imageMatches, splitImage } from '../../../shared/kustomize/images';
import { RenderUnsupported } from '../../../shared/kustomize/kustomization-file';
import { containerImages, renderKustomization } from '../../../shared/kustomize/render';
import { lineAt } from '../../../shared/kustomize/tree';
import { repoRoot } from '../../helpers/run-task';
import { gitopsTree } from '../../helpers/gitops-tree';
import { kubectlRendered, resolverRendered } from '../../helpers/kustomize';
import { requireTool } from '../../helpers/requires';

const R = 'myacr.azurecr.io';
const FIXTURES = ['tree', ...readdirSync(path.join(repoRoot, 'test/fixtures/gitops/layouts')).map((l) => `layouts/${l}`)];

/** Every folder of a tree whose kustomization is a Kustomization (not a Component): what kubectl kustomize builds. */
function buildable(dir: string, at = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(at)) {
    const full = path.join(at, entry);
    if (statSync(full).isDirectory()) out.push(...buildable(dir, full));
    else if (entry === 'kustomization.yaml' && !/kind: Component/.test(readFileSync(full, 'utf8'))) out.push(path.relative(dir, at));
  }
  return out.sort();
}

describe('kustomize resolver: renders what kubectl kustomize renders', function () {
  for (const fixture of FIXTURES) {
    it(`${fixture}: every kustomization renders the same container images and HelmRelease values`, async function () {
      await requireTool(this, 'kubectl');
      const dir = await gitopsTree(R, fixture);
      try {
        const folders = buildable(dir);
        assert.ok(folders.length >= 1, fixture);
        for (const folder of folders) {
          const ours = resolverRendered(renderKustomization(path.join(dir, folder), { root: dir }));
          assert.deepEqual(ours, await kubectlRendered(path.join(dir, folder)), `${fixture}/${folder}`);
          assert.ok(ours.length > 0, `${fixture}/${folder} renders something`);
        }
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('kustomize resolver: where each rendered image comes from', () => {
  let dir: string;
  before(async () => {
    dir = await gitopsTree(R, 'layouts/patches');
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  const image = (name: string) => {
    const render = renderKustomization(path.join(dir, 'environments/devtest'), { root: dir });
    const found = containerImages(render).find((c) => `${c.resource.kind}/${c.resource.name}/${c.container}` === name);
    assert.ok(found, name);
    return { ...found, written: found.leaf.origin && `${found.leaf.origin.source.file}:${lineAt(found.leaf.origin)}`, entries: found.leaf.steps.map((s) => `${s.origin.source.file}:${lineAt(s.origin)}`) };
  };

  it("a base's image field renamed and tagged by the base's own images entries, in order", () => {
    const web = image('Deployment/app-web/web');
    assert.equal(web.image, `${R}/heuristic:v1.4.1`);
    assert.equal(web.written, 'bases/app/workloads.yaml:13');
    assert.deepEqual(web.entries, ['bases/app/kustomization.yaml:5', 'bases/app/kustomization.yaml:7']);
    assert.deepEqual(web.source, { file: 'bases/app/kustomization.yaml', line: 7 });
    assert.equal(web.resource.namespace, 'devtest');
  });

  it("a strategic-merge patch file's container, a JSON 6902 patch file's value, an inline patch's value", () => {
    assert.deepEqual([image('Deployment/app-web/sidecar').image, image('Deployment/app-web/sidecar').written], [`${R}/collector:v2.0.1`, 'environments/devtest/sidecar-patch.yaml:11']);
    const store = image('StatefulSet/app-store/store');
    assert.deepEqual([store.image, store.written], [`${R}/collector:v2.0.1`, 'environments/devtest/store-ops.yaml:3']);
    const report = image('Job/nightly/report');
    assert.equal(report.written, 'environments/devtest/kustomization.yaml:21');
    assert.equal(report.leaf.origin!.source.inline, true);
  });

  it("an overlay's images entry over a patch's value; a deleted container is gone", () => {
    const debug = image('Deployment/app-web/debug');
    assert.deepEqual([debug.image, debug.written, debug.entries], ['busybox:1.37', 'environments/devtest/sidecar-patch.yaml:13', ['environments/devtest/kustomization.yaml:35']]);
    assert.equal(image('Pod/app-probe/probe').image, 'busybox:1.37');
    const render = renderKustomization(path.join(dir, 'environments/devtest'), { root: dir });
    assert.equal(containerImages(render).some((c) => c.container === 'legacy'), false);
    assert.deepEqual(render.kustomizations, ['environments/devtest/kustomization.yaml', 'bases/app/kustomization.yaml']);
  });
});

describe('kustomize resolver: images entries as kustomize reads them', () => {
  it('splits names, tags and digests, a registry port not taken for a tag', () => {
    assert.deepEqual(splitImage('localhost:5000/x/nginx:1.2@sha256:ab'), { name: 'localhost:5000/x/nginx', tag: '1.2', digest: 'sha256:ab' });
    assert.deepEqual(splitImage('localhost:5000/nginx'), { name: 'localhost:5000/nginx', tag: '', digest: '' });
    assert.deepEqual(splitImage('nginx@sha256:ab'), { name: 'nginx', tag: '', digest: 'sha256:ab' });
  });

  it('matches the name exactly (no Docker Hub normalisation) and replaces tag and digest together', () => {
    assert.equal(imageMatches('docker.io/library/nginx:1', 'nginx'), false);
    assert.equal(imageMatches('nginx:1@sha256:ab', 'nginx'), true);
    assert.equal(applyImagesEntry('nginx:1@sha256:ab', { name: 'nginx', newTag: '2' }), 'nginx:2');
    assert.equal(applyImagesEntry('nginx:1', { name: 'nginx', digest: 'sha256:cd' }), 'nginx@sha256:cd');
    assert.equal(applyImagesEntry('nginx:1', { name: 'nginx', newName: 'r.io/nginx' }), 'r.io/nginx:1');
    assert.equal(applyImagesEntry('redis:1', { name: 'nginx', newTag: '2' }), undefined);
  });
});

describe('kustomize resolver: refusals name the kustomization and line', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kustomize-'));
    await fs.mkdir(path.join(dir, 'base'));
    await fs.mkdir(path.join(dir, 'env'));
    await fs.writeFile(path.join(dir, 'base/pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: app:1\n');
    await fs.writeFile(path.join(dir, 'base/kustomization.yaml'), 'resources:\n- pod.yaml\n');
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  const cases: Array<[string, string, RegExp, number | undefined, typeof UserError]> = [
    ['a missing resource', 'resources:\n- ../base\n- missing.yaml\n', /resource 'missing.yaml' does not exist/, 3, UserError],
    ['a file outside the folder', 'resources:\n- ../base/pod.yaml\n', /is a file outside env: kustomize reads files only in or below/, 2, UserError],
    ['a plain number as newTag', 'resources:\n- ../base\nimages:\n- name: app\n  newTag: 1.10\n', /'newTag: 1.10' reads as a number.*quote it/, 5, UserError],
    ['a boolean as newTag (YAML 1.1)', 'resources:\n- ../base\nimages:\n- name: app\n  newTag: yes\n', /reads as a boolean/, 5, UserError],
    ['a Component under resources', 'resources:\n- ../comp\n', /is kind: Component: list it under 'components'/, undefined, UserError],
    ['a strategic-merge patch of nothing', 'resources:\n- ../base\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: Pod\n    metadata:\n      name: other\n', /No resource matches the strategic-merge patch of Pod\/other/, 4, UserError],
    ['a resource listed twice', 'resources:\n- ../base\n- ../base/../base\n', /Pod\/p is in the render twice/, 3, UserError],
    ['a remote base', 'resources:\n- https://github.com/org/repo//base?ref=v1\n', /uses the remote resource/, 2, RenderUnsupported],
    ['helmCharts', 'helmCharts:\n- name: x\n  repo: https://charts.example.com\n', /uses 'helmCharts'/, 2, RenderUnsupported],
  ];
  it('expands aliases within a budget: a "billion laughs" in a resource is refused naming the file', async () => {
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)].join('\n');
    await fs.writeFile(path.join(dir, 'base/pod.yaml'), `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n${bomb}\nspec:\n  containers:\n  - name: a\n    image: app:1\n`);
    await fs.writeFile(path.join(dir, 'env/kustomization.yaml'), 'resources:\n- ../base\n');
    assert.throws(() => renderKustomization(path.join(dir, 'env'), { root: dir }), /base\/pod.yaml has aliases \(\*name\) that expand to more than 100,000 values/);
  });

  it('leaves out documents that are not objects (they run nothing) and keys it does not read, without expanding them', async () => {
    await fs.appendFile(path.join(dir, 'base/pod.yaml'), '---\nnotes: [a, b]\n---\n');
    await fs.writeFile(path.join(dir, 'env/kustomization.yaml'), 'resources:\n- ../base\nx-bomb: &b [*b]\n');
    assert.deepEqual(containerImages(renderKustomization(path.join(dir, 'env'), { root: dir })).map((c) => c.image), ['app:1']);
  });

  for (const [what, kustomization, message, line, type] of cases) {
    it(`refuses ${what}`, async () => {
      await fs.mkdir(path.join(dir, 'comp'));
      await fs.writeFile(path.join(dir, 'comp/kustomization.yaml'), 'kind: Component\n');
      await fs.writeFile(path.join(dir, 'env/kustomization.yaml'), kustomization);
      assert.throws(
        () => renderKustomization(path.join(dir, 'env'), { root: dir }),
        (error: unknown) => {
          assert.ok(error instanceof type, String(error));
          assert.match((error as Error).message, message);
          assert.equal((error as UserError).where?.line, line);
          return true;
        },
      );
    });
  }
});
