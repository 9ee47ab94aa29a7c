import { gitopsSummary } from '../../shared/summaries';
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { updateGitOps, type UpdateGitOpsOptions } from '../../shared/flows/update-gitops';
import { gitopsTree, refuses, snapshot, testLog } from '../helpers/gitops-tree';
import { kubectlRendered } from '../helpers/kustomize';
import { requireTool } from '../helpers/requires';

const R = 'myacr.azurecr.io';
const D = (c: string) => `sha256:${c.repeat(64)}`;

/** Files whose bytes differ between two snapshots. */
function changed(before: Awaited<ReturnType<typeof snapshot>>, after: Awaited<ReturnType<typeof snapshot>>): string[] {
  return [...after.keys()].filter((f) => before.get(f)?.bytes !== after.get(f)!.bytes).sort();
}

describe('updateGitOps on real GitOps layouts: the environment renders the new image', function () {
  let dir: string;
  before(async function () {
    await requireTool(this, 'kubectl');
  });
  afterEach(async () => dir && fs.rm(dir, { recursive: true, force: true }));
  const read = (file: string) => fs.readFile(path.join(dir, file), 'utf8');
  const render = (env: string): Promise<string[]> => kubectlRendered(path.join(dir, 'environments', env));
  const options = (extra: Partial<UpdateGitOpsOptions>): UpdateGitOpsOptions => ({ gitopsPath: dir, environment: 'devtest', pinDigest: false, ...extra });

  describe('an overlay that only lists ../../bases', () => {
    beforeEach(async () => {
      dir = await gitopsTree(R, 'layouts/bases-only');
    });

    it('pins the new images with images: entries in the overlay, never edits the bases, and says so', async () => {
      const before = await snapshot(dir);
      const qa = await render('qa');
      assert.ok((await render('devtest')).includes(`Deployment/devtest-heuristic/spec.template.spec.containers[heuristic]=${R}/heuristic:v1.4.1`));
      const log = testLog();
      const result = await updateGitOps(options({ images: [`heuristic=v1.4.2@${D('1')}`, 'collector=v2.1.0'] }), log);
      assert.deepEqual(changed(before, await snapshot(dir)), ['environments/devtest/kustomization.yaml', 'versions.yaml']);
      assert.equal(
        await read('environments/devtest/kustomization.yaml'),
        `# devtest: the shared bases, in their own namespace\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: devtest\nnamePrefix: devtest-\nresources:\n  - ../../bases/heuristic\n  - ../../bases/collector\nimages:\n  - name: ${R}/heuristic\n    newTag: v1.4.2\n    digest: ${D('1')}\n  - name: ${R}/collector\n    newTag: v2.1.0\n`,
      );
      assert.deepEqual(result.changes.map((c) => [c.component, c.from, c.to, c.files]), [
        ['collector', `${R}/collector:v2.0.0`, `${R}/collector:v2.1.0`, ['versions.yaml', 'environments/devtest/kustomization.yaml']],
        ['heuristic', `${R}/heuristic:v1.4.1`, `${R}/heuristic:v1.4.2@${D('1')}`, ['versions.yaml', 'environments/devtest/kustomization.yaml']],
      ]);
      const heuristic = result.changes.find((c) => c.component === 'heuristic')!;
      assert.deepEqual(heuristic.notes, [
        `heuristic: its image is written outside environments/devtest (bases/heuristic/deployment.yaml:15): pinned with an images: entry in environments/devtest/kustomization.yaml; the shared base is not edited`,
      ]);
      assert.match(result.changes[0].notes![0], /collector: its image is written outside environments\/devtest \(bases\/collector\/cronjob.yaml:14, then the images entry 'collector' at bases\/collector\/kustomization.yaml:6\)/);
      assert.ok(log.lines.includes(`${heuristic.notes![0]}.`));
      assert.ok(gitopsSummary(result).includes(`- ${heuristic.notes![0]}`));
      assert.equal(log.warnings.length, 0, log.warnings.join('\n'));
      assert.deepEqual(await render('devtest'), [
        `CronJob/devtest-collector/spec.jobTemplate.spec.template.spec.containers[collector]=${R}/collector:v2.1.0`,
        `Deployment/devtest-heuristic/spec.template.spec.containers[heuristic]=${R}/heuristic:v1.4.2@${D('1')}`,
        'Deployment/devtest-heuristic/spec.template.spec.containers[proxy]=docker.io/envoyproxy/envoy:v1.30.1',
        `Deployment/devtest-heuristic/spec.template.spec.initContainers[migrate]=${R}/heuristic:v1.4.2@${D('1')}`,
      ]);
      assert.deepEqual(await render('qa'), qa);
    });

    it('a second run edits its own pins in place, and a third with nothing new writes nothing', async () => {
      await updateGitOps(options({ images: ['heuristic=v1.4.2', 'collector=v2.1.0'] }), testLog());
      const second = await updateGitOps(options({ images: [`heuristic=v1.4.3@${D('2')}`] }), testLog());
      assert.deepEqual(second.changes.map((c) => [c.files, c.notes]), [[['versions.yaml', 'environments/devtest/kustomization.yaml'], undefined]]);
      assert.ok((await read('environments/devtest/kustomization.yaml')).endsWith(`images:\n  - name: ${R}/heuristic\n    newTag: v1.4.3\n    digest: ${D('2')}\n  - name: ${R}/collector\n    newTag: v2.1.0\n`));
      const before = await snapshot(dir);
      const third = await updateGitOps(options({ images: [`heuristic=v1.4.3@${D('2')}`, 'collector=v2.1.0'] }), testLog());
      assert.equal(third.changed, false);
      assert.deepEqual(await snapshot(dir), before);
    });

    it('on a first run without a lock entry, what the environment deploys today is where it moves from: downgrade and maxBump apply', async () => {
      await fs.writeFile(path.join(dir, 'versions.yaml'), `schemaVersion: 1\nenvironments:\n  qa:\n    heuristic:\n      image: ${R}/heuristic\n      tag: v1.4.1\n`);
      await refuses(dir, options({ images: [`heuristic=${R}/heuristic:v1.4.0`] }), 'bases/heuristic/deployment.yaml', 15, /heuristic would move down from v1.4.1 \(deployed today, bases\/heuristic\/deployment.yaml\) to v1.4.0 .*allowDowngrade/);
      await refuses(dir, options({ images: [`heuristic=${R}/heuristic:v1.5.0`], maxBump: 'patch' }), 'bases/heuristic/deployment.yaml', 15, /minor step from v1.4.1 .* more than maxBump 'patch'/);
      const result = await updateGitOps(options({ images: [`heuristic=${R}/heuristic:v1.4.2`] }), testLog());
      assert.deepEqual(result.changes.map((c) => [c.from, c.to, c.bump]), [[`${R}/heuristic:v1.4.1`, `${R}/heuristic:v1.4.2`, 'patch']]);
      assert.ok((await read('versions.yaml')).includes(`  devtest:\n    heuristic:\n      image: ${R}/heuristic\n      tag: v1.4.2\n`));
    });

    it('fails before writing anything when the overlay cannot take an images entry, naming it and the base', async () => {
      await fs.writeFile(path.join(dir, 'environments/devtest/kustomization.yaml'), '{resources: [../../bases/heuristic, ../../bases/collector]}\n');
      await refuses(
        dir,
        options({ images: ['heuristic=v1.4.2'] }),
        'environments/devtest/kustomization.yaml',
        undefined,
        /environments\/devtest renders Deployment\/heuristic container 'migrate' as .*heuristic:v1.4.1, written at bases\/heuristic\/deployment.yaml:15, and its images: list cannot be edited safely: nothing was written. Add an images: entry/,
      );
    });
  });

  describe('Helm values with separate repository and tag keys, no markers', () => {
    beforeEach(async () => {
      dir = await gitopsTree(R, 'layouts/helm-values');
    });
    const helmValues = ['heuristic=repository:image.repository,tag:image.tag,digest:image.digest', 'collector=repository:image.repository,tag:image.tag'];

    it('without helmValues, fails before writing anything, naming the files and the input that fixes it', async () => {
      await refuses(
        dir,
        options({ images: ['heuristic=v1.4.2', 'collector=v2.1.0'] }),
        'environments/devtest/charts/heuristic/values.yaml',
        5,
        /environments\/devtest deploys images from Helm values that no input says how to update: environments\/devtest\/charts\/heuristic\/values.yaml:5 \(image.repository: .*\), environments\/devtest\/collector.yaml:14 \(image.repository: .*\)\. Nothing was written\. .*helmValues .*'heuristic=repository:image.repository,tag:image.tag' and 'collector=repository:image.repository,tag:image.tag'/,
      );
    });

    it('with helmValues, edits the values file and the HelmRelease in place, keeping their formatting', async () => {
      const before = await snapshot(dir);
      assert.deepEqual(await render('devtest'), [`HelmRelease/collector values={"image":{"repository":"${R}/collector","tag":"v2.0.0"},"resources":{"limits":{"memory":"128Mi"}}}`]);
      const result = await updateGitOps(options({ images: [`heuristic=v1.4.2@${D('3')}`, 'collector=v2.1.0'], helmValues }), testLog());
      assert.deepEqual(changed(before, await snapshot(dir)), ['environments/devtest/charts/heuristic/values.yaml', 'environments/devtest/collector.yaml', 'versions.yaml']);
      assert.equal(
        await read('environments/devtest/charts/heuristic/values.yaml'),
        `# Default values for heuristic.\nreplicaCount: 2\n\nimage:\n  repository: ${R}/heuristic\n  pullPolicy: IfNotPresent\n  # Overrides the image tag whose default is the chart appVersion.\n  tag: "v1.4.2"\n  digest: "${D('3')}"\n\nservice:\n  port: 8080\n`,
      );
      assert.deepEqual(result.changes.map((c) => c.files), [['versions.yaml', 'environments/devtest/collector.yaml'], ['versions.yaml', 'environments/devtest/charts/heuristic/values.yaml']]);
      assert.deepEqual(await render('devtest'), [`HelmRelease/collector values={"image":{"repository":"${R}/collector","tag":"v2.1.0"},"resources":{"limits":{"memory":"128Mi"}}}`]);
      // and back without a digest: the key stays, emptied
      await updateGitOps(options({ images: ['heuristic=v1.4.3', 'collector=v2.1.0'], helmValues }), testLog());
      assert.ok((await read('environments/devtest/charts/heuristic/values.yaml')).includes('\n  tag: "v1.4.3"\n  digest: ""\n'));
    });

    it('a line with a repository path edits only values of that repository; a tag-only line edits where its path is', async () => {
      const result = await updateGitOps(options({ images: ['collector=v2.1.0'], helmValues: ['collector=tag:image.tag', 'heuristic=repository:image.repository,tag:image.tag'] }), testLog());
      assert.deepEqual(result.changes.map((c) => c.files), [['versions.yaml', 'environments/devtest/charts/heuristic/values.yaml', 'environments/devtest/collector.yaml']]);
      assert.match(await read('environments/devtest/charts/heuristic/values.yaml'), /tag: "v2.1.0"/, 'a tag-only line is taken at its word');
      await fs.rm(dir, { recursive: true, force: true });
      dir = await gitopsTree(R, 'layouts/helm-values');
      await updateGitOps(options({ images: ['collector=v2.1.0'], helmValues }), testLog());
      assert.match(await read('environments/devtest/charts/heuristic/values.yaml'), /tag: "v1.4.1"/);
    });
  });

  describe('a Flux HelmRelease whose values live in a shared base', () => {
    beforeEach(async () => {
      dir = await gitopsTree(R, 'layouts/flux-base');
    });
    const helmValues = ['heuristic=repository:image.repository,tag:image.tag'];

    it('without helmValues, fails naming the base file and the input', async () => {
      await refuses(dir, options({ images: ['heuristic=v1.4.2'] }), 'bases/heuristic/helmrelease.yaml', 14, /bases\/heuristic\/helmrelease.yaml:14 \(image.repository: .*Nothing was written.*'heuristic=repository:image.repository,tag:image.tag'/);
    });

    it("pins the values with a patch file listed in the overlay's patches; the base and qa are untouched; a second run edits the patch", async () => {
      const before = await snapshot(dir);
      const qa = await render('qa');
      assert.deepEqual(await render('devtest'), [`HelmRelease/heuristic values={"image":{"repository":"${R}/heuristic","tag":"v1.4.1"},"replicaCount":"1"}`]);
      const result = await updateGitOps(options({ images: ['heuristic=v1.4.2'], helmValues }), testLog());
      assert.deepEqual(changed(before, await snapshot(dir)), ['environments/devtest/helmrelease-heuristic-image.yaml', 'environments/devtest/kustomization.yaml', 'versions.yaml']);
      assert.equal(
        await read('environments/devtest/helmrelease-heuristic-image.yaml'),
        "# heuristic's image in this environment (written by UpdateGitOpsVersions): the HelmRelease is in bases/heuristic/helmrelease.yaml, shared with other environments.\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: heuristic\n  namespace: flux-system\nspec:\n  values:\n    image:\n      tag: v1.4.2\n",
      );
      assert.ok((await read('environments/devtest/kustomization.yaml')).endsWith('resources:\n  - ../../bases/heuristic\npatches:\n  - path: helmrelease-heuristic-image.yaml\n'));
      assert.deepEqual(result.changes[0].files, ['versions.yaml', 'environments/devtest/kustomization.yaml', 'environments/devtest/helmrelease-heuristic-image.yaml']);
      assert.match(result.changes[0].notes![0], /values are in bases\/heuristic\/helmrelease.yaml:15, outside environments\/devtest: pinned with the patch environments\/devtest\/helmrelease-heuristic-image.yaml/);
      {
        assert.deepEqual(await render('devtest'), [`HelmRelease/heuristic values={"image":{"repository":"${R}/heuristic","tag":"v1.4.2"},"replicaCount":"1"}`]);
        assert.deepEqual(await render('qa'), qa);
      }
      const second = await updateGitOps(options({ images: ['heuristic=v1.4.3'], helmValues }), testLog());
      assert.deepEqual(second.changes[0].files, ['versions.yaml', 'environments/devtest/helmrelease-heuristic-image.yaml']);
      assert.ok((await read('environments/devtest/helmrelease-heuristic-image.yaml')).endsWith('\n      tag: v1.4.3\n'));
      assert.match((await render('devtest'))[0], /"tag":"v1.4.3"/);
    });
  });

  describe('components', () => {
    it("edits the component the overlay uses and leaves an unused component's placeholders alone", async () => {
      dir = await gitopsTree(R, 'layouts/components');
      const before = await snapshot(dir);
      assert.deepEqual(await render('devtest'), [`Deployment/heuristic/spec.template.spec.containers[heuristic]=${R}/heuristic:v1.4.1`]);
      const result = await updateGitOps(options({ images: ['heuristic=v1.4.2'], allowedRegistries: [R] }), testLog());
      assert.deepEqual(changed(before, await snapshot(dir)), ['environments/devtest/components/registry/kustomization.yaml', 'versions.yaml']);
      assert.deepEqual(result.changes[0].files, ['versions.yaml', 'environments/devtest/components/registry/kustomization.yaml']);
      assert.deepEqual(await render('devtest'), [`Deployment/heuristic/spec.template.spec.containers[heuristic]=${R}/heuristic:v1.4.2`]);
    });
  });

  describe('patches', () => {
    it('edits values where the environment writes them (patch files, JSON 6902 values) and pins what an inline patch or a base sets', async () => {
      dir = await gitopsTree(R, 'layouts/patches');
      const before = await snapshot(dir);
      const images = async () => (await render('devtest')).filter((line) => /heuristic|collector/.test(line));
      assert.deepEqual(await images(), [
        `Deployment/app-web/spec.template.spec.containers[sidecar]=${R}/collector:v2.0.1`,
        `Deployment/app-web/spec.template.spec.containers[web]=${R}/heuristic:v1.4.1`,
        `Deployment/app-web/spec.template.spec.initContainers[migrate]=${R}/heuristic:v1.4.1`,
        `Job/nightly/spec.template.spec.containers[nightly]=${R}/heuristic:v1.4.1`,
        `Job/nightly/spec.template.spec.containers[report]=${R}/collector:v2.0.0`,
        `StatefulSet/app-store/spec.template.spec.containers[store]=${R}/collector:v2.0.1`,
      ]);
      const result = await updateGitOps(options({ images: ['heuristic=v1.4.2', 'collector=v2.1.0'] }), testLog());
      assert.deepEqual(changed(before, await snapshot(dir)), [
        'environments/devtest/job.yaml',
        'environments/devtest/kustomization.yaml',
        'environments/devtest/sidecar-patch.yaml',
        'environments/devtest/store-ops.yaml',
        'versions.yaml',
      ]);
      assert.equal(await read('environments/devtest/store-ops.yaml'), `- op: replace\n  path: /spec/template/spec/containers/0/image\n  value: ${R}/collector:v2.1.0   # devtest's store\n`);
      assert.match(result.changes[0].notes![0], /collector: its image is written in environments\/devtest\/kustomization.yaml:21 \(an inline patch\): pinned with an images: entry/);
      const after = await images();
      assert.equal(after.length, 6);
      for (const line of after) assert.match(line, /=myacr.azurecr.io\/(heuristic:v1.4.2|collector:v2.1.0)$/);
      const again = await updateGitOps(options({ images: ['heuristic=v1.4.2', 'collector=v2.1.0'] }), testLog());
      assert.equal(again.changed, false);
    });
  });

  describe('tags that are not SemVer', () => {
    beforeEach(async () => {
      dir = await gitopsTree(R);
      for (const [file, from, to] of [
        ['versions.yaml', 'tag: v1.4.1', 'tag: "5.6"'],
        ['environments/devtest/kustomization.yaml', 'newTag: v1.4.1', 'newTag: "5.6"'],
        ['environments/devtest/jobs.yaml', 'heuristic:v1.4.1', 'heuristic:5.6'],
      ]) {
        await fs.writeFile(path.join(dir, file), (await read(file)).replace(from, to));
      }
    });

    it('moves with a warning in the log and the summary when policies cannot be checked', async () => {
      const log = testLog();
      const result = await updateGitOps(options({ images: ['heuristic=4.8-apache'], maxBump: 'minor' }), log);
      const warning = "heuristic: 5.6 -> 4.8-apache in 'devtest': 5.6 is not a SemVer version, so no downgrade and maxBump 'minor' cannot be checked; set requireSemVer: true to refuse such moves.";
      assert.deepEqual(result.warnings, [warning]);
      assert.ok(log.warnings.includes(warning));
      assert.ok(gitopsSummary(result).includes(`- **Warning:** ${warning}`));
      assert.equal(result.changes[0].bump, 'none');
      assert.match(await read('environments/devtest/kustomization.yaml'), /newTag: "4.8-apache"/);
    });

    it('warns about nothing when no policy needs versions, and fails with requireSemVer before writing', async () => {
      const quiet = await updateGitOps(options({ images: ['heuristic=v5'], allowDowngrade: true, dryRun: true }), testLog());
      assert.deepEqual(quiet.warnings, []);
      await refuses(dir, options({ images: ['heuristic=v5'], requireSemVer: true }), 'versions.yaml', 5, /heuristic would move from 5.6 to v5 in 'devtest', and 5.6 is not a SemVer version, which requireSemVer asks for/);
    });
  });

  it('warns that an overlay it cannot follow is not checked, and updates it as before', async () => {
    dir = await gitopsTree(R);
    await fs.appendFile(path.join(dir, 'environments/devtest/kustomization.yaml'), 'helmCharts:\n  - name: dashboard\n    repo: https://charts.example.com\n');
    const log = testLog();
    const result = await updateGitOps(options({ images: ['heuristic=v1.4.2'] }), log);
    assert.deepEqual(result.changes[0].files, ['versions.yaml', 'environments/devtest/jobs.yaml', 'environments/devtest/kustomization.yaml']);
    assert.ok(log.warnings.some((w) => /environments\/devtest\/kustomization.yaml uses 'helmCharts', which this task's kustomize resolver does not follow\. Its render is not checked: run kubectl kustomize environments\/devtest/.test(w)), log.warnings.join('\n'));
  });
});
