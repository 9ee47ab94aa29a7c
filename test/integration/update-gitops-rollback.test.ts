import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../shared/errors';
import { updateGitOps, type UpdateGitOpsOptions } from '../../shared/flows/update-gitops';
import { readLock } from '../../shared/lock/lockfile';
import { lockDiff } from '../../shared/pr/changes';
import { run } from '../../shared/process';
import { gitopsSummary } from '../../shared/summaries';
import { gitopsTree, snapshot, testLog } from '../helpers/gitops-tree';

const R = 'myacr.azurecr.io';
const D = (c: string) => `sha256:${c.repeat(64)}`;
const REV_A = 'a'.repeat(40);
const REV_B = 'b'.repeat(40);

/** Runs git in `dir` as a pipeline would, with a fixed identity. */
async function git(dir: string, ...args: string[]): Promise<string> {
  const env = { GIT_AUTHOR_NAME: 'CI', GIT_AUTHOR_EMAIL: 'ci@example.com', GIT_COMMITTER_NAME: 'CI', GIT_COMMITTER_EMAIL: 'ci@example.com' };
  return (await run('git', args, { cwd: dir, env })).stdout.trim();
}

/** A BuildRustContainers images.json of one build: heuristic and collector at these tags and digests, built from `commit`. */
async function imagesJson(dir: string, commit: string, heuristic: [string, string], collector: [string, string]): Promise<string> {
  const file = path.join(dir, `images-${commit.slice(0, 4)}.json`);
  const image = (component: string, [tag, digest]: [string, string]) => ({ component, image: `${R}/${component}`, tags: [tag], digest, status: 'pushed' });
  await fs.writeFile(file, JSON.stringify({ schemaVersion: 1, buildId: '1', commit, images: [image('heuristic', heuristic), image('collector', collector)] }));
  return file;
}

const entry = async (dir: string, env: string, component: string) => readLock(await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8'), 'versions.yaml').environments.get(env)!.get(component)!;

describe('updateGitOps: rollback to a revision of the GitOps repository, holds and release', function () {
  let dir: string;
  let scratch: string;
  let good: string;
  before(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'rollback-builds-'));
  });
  after(() => fs.rm(scratch, { recursive: true, force: true }));

  /** devtest gets build A (tagged `good` in the GitOps repository), then build B: heuristic v1.5.0, collector unchanged. */
  beforeEach(async () => {
    dir = await gitopsTree(R);
    await git(dir, 'init', '--quiet', '--initial-branch=main');
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '--quiet', '-m', 'initial');
    const a = await imagesJson(scratch, REV_A, ['v1.4.2', D('a')], ['v2.1.0', D('c')]);
    await updateGitOps({ gitopsPath: dir, environment: 'devtest', imagesFile: a }, testLog());
    await git(dir, 'commit', '--quiet', '-am', 'devtest: build A');
    await git(dir, 'tag', 'good');
    good = await git(dir, 'rev-parse', 'HEAD');
    const b = await imagesJson(scratch, REV_B, ['v1.5.0', D('b')], ['v2.1.0', D('c')]);
    await updateGitOps({ gitopsPath: dir, environment: 'devtest', imagesFile: b }, testLog());
    await git(dir, 'commit', '--quiet', '-am', 'devtest: build B');
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const rollback = (extra: Partial<UpdateGitOpsOptions> = {}): UpdateGitOpsOptions => ({
    gitopsPath: dir,
    environment: 'devtest',
    source: 'revision',
    revision: 'good',
    requestedFor: 'Jane Doe',
    buildNumber: '20261204.3',
    ...extra,
  });

  it('records the revision each image was built from, as images.json gives it', async () => {
    assert.deepEqual(await entry(dir, 'devtest', 'heuristic'), { image: `${R}/heuristic`, tag: 'v1.5.0', digest: D('b'), revision: REV_B, line: 5 });
    // collector did not change with build B: it keeps the revision of the build that made it
    assert.equal((await entry(dir, 'devtest', 'collector')).revision, REV_A);
  });

  it('sets the environment back to the exact tag, digest and revision of the lock at a tag, holds it, and says rollback', async () => {
    const log = testLog();
    const result = await updateGitOps(rollback(), log);
    const hold = `rollback to good (${good.slice(0, 12)}) by Jane Doe in run 20261204.3`;
    assert.deepEqual(result.rollback, { revision: `good (${good.slice(0, 12)})`, commit: good });
    assert.deepEqual(
      result.changes.map(({ component, from, to, bump, rollback, hold, revision }) => ({ component, from, to, bump, rollback, hold, revision })),
      [{ component: 'heuristic', from: `${R}/heuristic:v1.5.0@${D('b')}`, to: `${R}/heuristic:v1.4.2@${D('a')}`, bump: 'minor', rollback: true, hold, revision: REV_A }],
    );
    // a downgrade, allowed for this run without allowDowngrade; collector ran the same image then: nothing to roll back, no hold
    assert.deepEqual(await entry(dir, 'devtest', 'heuristic'), { image: `${R}/heuristic`, tag: 'v1.4.2', digest: D('a'), revision: REV_A, hold, line: 5 });
    assert.equal((await entry(dir, 'devtest', 'collector')).hold, undefined);
    const kustomization = await fs.readFile(path.join(dir, 'environments/devtest/kustomization.yaml'), 'utf8');
    assert.match(kustomization, new RegExp(`newTag: v1\\.4\\.2\\n    digest: ${D('a')}`));
    const lock = await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8');
    assert.ok(lock.includes(`      tag: v1.4.2\n      digest: ${D('a')}\n      revision: ${REV_A}\n      hold: "${hold}"\n    collector:`), lock);
    const summary = gitopsSummary(result);
    assert.match(summary, new RegExp(`^### devtest: 1 component\\(s\\) rolled back to \`good \\(${good.slice(0, 12)}\\)\``));
    assert.match(summary, /\| heuristic \| .* \| minor \(rollback\) \|/);
    assert.match(summary, /- \*\*Hold set:\*\* heuristic: rollback to good/);
    // the lock's own diff says rollback too (for CreateEnvPR without the changes JSON)
    const before = await git(dir, 'show', 'HEAD:versions.yaml');
    assert.deepEqual(lockDiff(before, lock, 'devtest').map((c) => [c.component, c.rollback, c.hold]), [['heuristic', true, hold]]);
  });

  it('leaves a held component alone in later runs, with a warning naming the lock line, until a run releases it', async () => {
    await updateGitOps(rollback(), testLog());
    const hold = (await entry(dir, 'devtest', 'heuristic')).hold!;
    const next = { gitopsPath: dir, environment: 'devtest', images: [`heuristic=v1.6.0@${D('d')}`, `collector=v2.2.0@${D('e')}`] };
    const log = testLog();
    const held = await updateGitOps(next, log);
    assert.deepEqual(held.changes.map((c) => c.component), ['collector']);
    assert.deepEqual(held.held, [{ component: 'heuristic', hold, image: `${R}/heuristic:v1.4.2@${D('a')}`, wanted: `${R}/heuristic:v1.6.0@${D('d')}`, line: 5 }]);
    assert.ok(log.warnings.some((w) => w.startsWith(`heuristic in 'devtest' is held (${hold}): left at v1.4.2, not moved to v1.6.0. Run with release: heuristic`)), log.warnings.join('\n'));
    assert.equal((await entry(dir, 'devtest', 'heuristic')).tag, 'v1.4.2');
    assert.match(gitopsSummary(held), /- \*\*Held:\*\* heuristic stays at `myacr\.azurecr\.io\/heuristic:v1\.4\.2@sha256:a+` \(rollback to good/);
    // all held: nothing to do, nothing written
    const quiet = await snapshot(dir);
    const none = await updateGitOps({ ...next, components: 'heuristic' }, testLog());
    assert.equal(none.changed, false);
    assert.deepEqual(await snapshot(dir), quiet);

    const released = await updateGitOps({ ...next, release: ['heuristic'] }, testLog());
    assert.deepEqual(released.changes.map((c) => [c.component, c.to, c.released]), [['heuristic', `${R}/heuristic:v1.6.0@${D('d')}`, true]]);
    assert.deepEqual(released.released, ['heuristic']);
    const after = await entry(dir, 'devtest', 'heuristic');
    assert.deepEqual([after.tag, after.hold, after.revision], ['v1.6.0', undefined, undefined]);
  });

  it('release: true frees every selected held component, even one whose image does not change', async () => {
    await updateGitOps(rollback(), testLog());
    const result = await updateGitOps({ gitopsPath: dir, environment: 'devtest', images: [`heuristic=v1.4.2@${D('a')}`], release: true }, testLog());
    assert.equal(result.changed, true);
    assert.deepEqual(result.changes, []);
    assert.deepEqual(result.released, ['heuristic']);
    assert.deepEqual(await entry(dir, 'devtest', 'heuristic'), { image: `${R}/heuristic`, tag: 'v1.4.2', digest: D('a'), revision: REV_A, line: 5 });
    assert.match(gitopsSummary(result), /^### devtest: 1 hold\(s\) released/);
  });

  it('a hand edit that removes the hold lets the next run move the component', async () => {
    await updateGitOps(rollback(), testLog());
    const file = path.join(dir, 'versions.yaml');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace(/ {6}hold: .*\n/, ''));
    const result = await updateGitOps({ gitopsPath: dir, environment: 'devtest', images: [`heuristic=v1.6.0@${D('d')}`] }, testLog());
    assert.deepEqual(result.held, []);
    assert.equal((await entry(dir, 'devtest', 'heuristic')).tag, 'v1.6.0');
  });

  it('rolls back only the selected components, to a commit, without a hold when holdOnRollback is off', async () => {
    const result = await updateGitOps(rollback({ revision: 'HEAD~2', components: 'collector', holdOnRollback: false }), testLog());
    assert.deepEqual(result.changes.map((c) => [c.component, c.to, c.rollback, c.hold]), [['collector', `${R}/collector:v2.0.0`, true, undefined]]);
    assert.equal((await entry(dir, 'devtest', 'heuristic')).tag, 'v1.5.0');
    const collector = await entry(dir, 'devtest', 'collector');
    assert.deepEqual([collector.tag, collector.digest, collector.revision, collector.hold], ['v2.0.0', undefined, undefined, undefined]);
  });

  it('promotion copies the revision with tag and digest; a held target component stays', async () => {
    const promote = { gitopsPath: dir, environment: 'qa', source: 'environment' as const, sourceEnvironment: 'devtest' };
    const file = path.join(dir, 'versions.yaml');
    const lock = await fs.readFile(file, 'utf8');
    // held by hand in qa (any reason): the promotion leaves it
    await fs.writeFile(file, lock.replace(/(\n {2}qa:\n {4}heuristic:\n(?: {6}.*\n)*)/, '$1      hold: waiting for the field test\n'));
    const held = await updateGitOps(promote, testLog());
    assert.deepEqual(held.changes.map((c) => [c.component, c.revision]), [['collector', REV_A]]);
    assert.deepEqual(held.held.map((h) => [h.component, h.hold]), [['heuristic', 'waiting for the field test']]);
    await fs.writeFile(file, lock);
    const promoted = await updateGitOps(promote, testLog());
    assert.deepEqual(promoted.changes.map((c) => [c.component, c.revision]), [['collector', REV_A], ['heuristic', REV_B]]);
    assert.equal((await entry(dir, 'qa', 'heuristic')).revision, REV_B);
  });

  it('refuses a revision the repository does not have, or one without the environment, naming the fix; writes nothing', async () => {
    const before = await snapshot(dir);
    const refused = async (options: UpdateGitOpsOptions, message: RegExp) =>
      assert.rejects(updateGitOps(options, testLog()), (error: unknown) => error instanceof UserError && message.test(error.message));
    await refused(rollback({ revision: 'no-such-tag' }), /revision 'no-such-tag' is not a commit of the GitOps repository .*fetchDepth: 0/);
    await refused(rollback({ revision: '--output=/tmp/x' }), /is not a commit of the GitOps repository/);
    await refused(rollback({ revision: '' }), /source 'revision' needs revision/);
    await refused(rollback({ components: 'nothing' }), /No component matches 'nothing'/);
    await refused({ gitopsPath: dir, environment: 'devtest', images: ['heuristic=v1.6.0'], release: ['nothing'] }, /No component of the environment \(release\) matches 'nothing'/);
    await refused(rollback({ environment: 'prod', manifestsPath: 'environments/devtest' }), /versions\.yaml at good \(\w+\) has no components for 'prod'/);
    const plain = await gitopsTree(R);
    try {
      await refused(rollback({ gitopsPath: plain }), /is not a commit of the GitOps repository/);
    } finally {
      await fs.rm(plain, { recursive: true, force: true });
    }
    assert.deepEqual(await snapshot(dir), before);
  });

  it('regenerates the inventory file when the run changes the lock, and writes nothing when it does not', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const result = await updateGitOps(rollback({ inventoryFile: 'INVENTORY.md' }), testLog());
    assert.ok(result.files.includes('INVENTORY.md'), result.files.join(', '));
    const inventory = await fs.readFile(path.join(dir, 'INVENTORY.md'), 'utf8');
    assert.match(inventory, /^# What runs where\n/);
    assert.match(inventory, new RegExp(`## devtest\n\n.*\n.*\n\\| collector \\| \`v2\\.1\\.0@sha256:c{12}\` \\| \`aaaaaaa\` \\| ${today} \\|  \\|\n\\| heuristic \\| \`v1\\.4\\.2@sha256:a{12}\` \\| \`aaaaaaa\` \\| ${today} \\| rollback to good \\(\\w{12}\\) by Jane Doe in run 20261204\\.3 \\|\n`));
    assert.match(inventory, new RegExp(`## qa\n\n.*\n.*\n\\| collector \\| \`v2\\.0\\.0\` \\|  \\| ${today} \\|  \\|\n`));
    await git(dir, 'commit', '--quiet', '-am', 'rollback');
    const quiet = await snapshot(dir);
    const again = await updateGitOps(rollback({ inventoryFile: 'INVENTORY.md' }), testLog());
    assert.equal(again.changed, false);
    assert.deepEqual(await snapshot(dir), quiet);
    await assert.rejects(updateGitOps(rollback({ inventoryFile: '../INVENTORY.md' }), testLog()), /leads outside/);
  });
});
