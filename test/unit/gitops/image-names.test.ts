import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../../shared/errors';
import { updateGitOps } from '../../../shared/flows/update-gitops';
import { fromImages } from '../../../shared/gitops/sources';
import { parseImagesJson } from '../../../shared/images/reference';
import { lockDiff } from '../../../shared/pr/changes';
import { edgeAiGitops, type FixtureRepo } from '../../helpers/edge-ai';
import { testLog } from '../../helpers/gitops-tree';

// Issue 13: UpdateGitOpsVersions and CreateEnvPR agree with BuildRustContainers on a component's image
// (imageNames, item 1), and read the primary tag images.json names (item 5), on the edge-ai GitOps fixture.
describe('imageNames and primaryTag on the GitOps side', () => {
  const LOCK = 'schemaVersion: 1\nenvironments:\n  devtest:\n    broker:\n      image: edgeacr.azurecr.io/broker\n      tag: "0.1.0"\n';
  let gitops: FixtureRepo;

  beforeEach(async () => {
    gitops = await edgeAiGitops();
    await gitops.commit({ 'versions.yaml': LOCK }, 'lock keyed by folder names');
  });
  afterEach(async () => {
    await fs.rm(gitops.dir, { recursive: true, force: true });
  });

  const update = (images: string[], imageNames: string[]) =>
    updateGitOps({ gitopsPath: gitops.dir, environment: 'devtest', images, imageNames, pinDigest: false }, testLog());

  it('updates the lock entry kept under the image’s name, and the overlay, as the component', async () => {
    const result = await update(['http-connector=0.1.1'], ['http-connector=broker']);
    assert.deepEqual(result.changes.map((c) => [c.component, c.from, c.to]), [['http-connector', 'edgeacr.azurecr.io/broker:0.1.0', 'edgeacr.azurecr.io/broker:0.1.1']]);
    assert.equal(await fs.readFile(path.join(gitops.dir, 'versions.yaml'), 'utf8'), LOCK.replace('"0.1.0"', '"0.1.1"'));
    assert.match(await fs.readFile(path.join(gitops.dir, 'environments/devtest/kustomization.yaml'), 'utf8'), /- name: broker\n {4}newName: edgeacr\.azurecr\.io\/broker\n {4}newTag: "0\.1\.1"\n/);
    // Without the mapping the component is unknown to the lock: its repository cannot be guessed.
    await assert.rejects(update(['http-connector=0.1.2'], []), /http-connector is not in versions\.yaml for this environment/);
  });

  it('refuses an image for the component from another repository than imageNames gives it, writing nothing', async () => {
    await assert.rejects(
      update(['http-connector=edgeacr.azurecr.io/http-connector:0.1.1'], ['http-connector=broker']),
      (e: unknown) => e instanceof UserError && /gives http-connector the image edgeacr\.azurecr\.io\/http-connector, but imageNames says its image is broker/.test(e.message),
    );
    assert.equal(await gitops.git('status', '--porcelain'), '');
  });

  it('CreateEnvPR’s lock diff names the entry kept under the image’s name as the component', () => {
    const after = LOCK.replace('"0.1.0"', '"0.1.1"');
    assert.deepEqual(lockDiff(LOCK, after, 'devtest', 'versions.yaml', ['http-connector=broker']), [
      { component: 'http-connector', from: 'edgeacr.azurecr.io/broker:0.1.0', to: 'edgeacr.azurecr.io/broker:0.1.1', bump: 'patch' },
    ]);
    assert.equal(lockDiff(LOCK, after, 'devtest')[0].component, 'broker');
  });

  it('takes the primary tag images.json names, not a moving one that reads as a version', async () => {
    const file = path.join(gitops.dir, '..', `${path.basename(gitops.dir)}-images.json`);
    const image = { component: 'http-connector', version: '0.1.1', image: 'edgeacr.azurecr.io/broker', tags: ['0.1.1', 'latest', '0.1.1-rc5680'], primaryTag: '0.1.1-rc5680', status: 'pushed' };
    await fs.writeFile(file, JSON.stringify({ schemaVersion: 1, buildId: '5680', commit: '', images: [image] }));
    try {
      const desired = await fromImages([], file, new Map(), 'versions.yaml', testLog());
      assert.equal(desired.get('http-connector')?.tag, '0.1.1-rc5680');
      assert.throws(() => parseImagesJson(JSON.stringify({ schemaVersion: 1, images: [{ ...image, primaryTag: '0.1.2' }] }), 'images.json'), /'primaryTag' must be one of its 'tags'/);
      // Files written before primaryTag existed still read: the first version-like tag.
      const { primaryTag: _, ...old } = image;
      assert.deepEqual(parseImagesJson(JSON.stringify({ schemaVersion: 1, images: [old] }), 'images.json')[0].primaryTag, undefined);
    } finally {
      await fs.rm(file, { force: true });
    }
  });
});
