import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../../shared/errors';
import { environmentHolds, lockDiff, parseChanges, shortImage } from '../../../shared/pr/changes';
import { gitopsSummary } from '../../../shared/summaries';
import { MAX_DESCRIPTION, renderDescription, renderTitle, ROLLBACK_TITLE } from '../../../shared/pr/description';
import { parseRemoteUrl } from '../../../shared/pr/repository';
import { updateGitOps } from '../../../shared/flows/update-gitops';
import { gitopsTree, testLog } from '../../helpers/gitops-tree';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, 'a')}`;
const change = (i: number) => ({
  component: `component-${String(i).padStart(3, '0')}`,
  from: `registry.example.com:5000/edge/component-${i}:v1.${i}.0@${digest(i)}`,
  to: `registry.example.com:5000/edge/component-${i}:v1.${i}.1@${digest(i + 1000)}`,
  bump: 'patch',
  build: { number: '20261123.7', id: '5678', url: 'https://dev.azure.com/edge/Edge/_build/results?buildId=5678' },
});

describe('pull request description', () => {
  it('is a table of component, from, to, bump and producing build', () => {
    const text = renderDescription({ environment: 'devtest', targetBranch: 'main', changes: [change(1)] });
    assert.match(text, /\*\*devtest\*\*/);
    assert.match(text, /\| Component \| From \| To \| Bump \| Build \|/);
    assert.match(text, /\| component-001 \| v1\.1\.0@sha256:aaaaaaaaaaaa \| v1\.1\.1@sha256:aaaaaaaaaaaa \| patch \| \[20261123\.7\]\(https:\/\/dev\.azure\.com\/edge\/Edge\/_build\/results\?buildId=5678\) \|/);
    assert.doesNotMatch(text, /more \(cut/);
  });

  it('is cut below the service limit with a note naming how many rows were left out', () => {
    const changes = Array.from({ length: 100 }, (_, i) => change(i));
    const text = renderDescription({ environment: 'devtest', targetBranch: 'main', changes });
    assert.ok(text.length <= MAX_DESCRIPTION, `${text.length}`);
    const rows = text.split('\n').filter((l) => l.startsWith('| component-')).length;
    assert.ok(rows > 5 && rows < 100);
    assert.match(text, new RegExp(`… and ${100 - rows} more \\(cut to the service's limit of 4,000 characters\\)`));
  });

  it('fills a custom template and refuses one over the limit', () => {
    const text = renderDescription({ environment: 'qa', targetBranch: 'main', changes: [change(2)] }, 'Release to {environment} ({count}):\n\n{table}');
    assert.match(text, /^Release to qa \(1\):\n\n\| Component/);
    assert.throws(() => renderDescription({ environment: 'qa', targetBranch: 'main', changes: [] }, 'x'.repeat(4001)), (e: Error) => e instanceof UserError && /at most 4000/.test(e.message));
  });

  const hold = 'rollback to good (31936d4e9ac5) by Jane Doe in run 20261204.3';
  const holds = { held: [{ component: 'heuristic', image: `r/heuristic:v1.4.2@${digest(1)}`, hold }], released: [{ component: 'collector', hold: 'investigating a leak' }] };

  it('says rollback in its head, its bump cells and (left at the default) its title; lists held and released components', () => {
    const rollback = { ...change(1), rollback: true, hold };
    const context = { environment: 'qa', targetBranch: 'main', changes: [rollback], holds };
    const text = renderDescription(context);
    assert.match(text, /^\*\*Rollback\*\*: sets 1 component\(s\) of \*\*qa\*\* back to an earlier version\. Merging this pull request into `main` is the rollback\./);
    assert.match(text, /\| component-001 \| .* \| patch \(rollback\) \|/);
    assert.match(text, /\n\n- \*\*Held\*\*: heuristic at v1\.4\.2@sha256:aaaaaaaaaaaa \(rollback to good \(31936d4e9ac5\) by Jane Doe in run 20261204\.3\): automated runs leave it alone until a run with `release` or an edit of the lock removes the hold\.\n- \*\*Released\*\*: collector is no longer held \(was: investigating a leak\)\.\n\n_Opened/);
    assert.equal(renderTitle('', context), 'chore(qa): roll back 1 component(s)');
    assert.equal(ROLLBACK_TITLE, 'chore({environment}): roll back {count} component(s)');
    // a title of the user's own is kept; a mix of rollback and promotion is not titled a rollback
    assert.equal(renderTitle('Release {environment}', context), 'Release qa');
    const mixed = { ...context, changes: [rollback, change(2)] };
    assert.equal(renderTitle('chore({environment}): update {count} component(s)', mixed), 'chore(qa): update 2 component(s)');
    assert.match(renderDescription(mixed), /^\*\*Rollback\*\*: sets 1 component\(s\) of \*\*qa\*\* back to an earlier version, and promotes 1 more\./);
    // a template places them with {holds}; the table and the holds stay below the limit together
    assert.match(renderDescription(context, '{table}\n\n{holds}'), /\| component-001 [^\n]*\n\n- \*\*Held\*\*: heuristic/);
    const many = { held: Array.from({ length: 200 }, (_, i) => ({ component: `c${i}`, image: `r/c:v${i}`, hold })), released: [] };
    const long = renderDescription({ ...context, changes: Array.from({ length: 100 }, (_, i) => change(i)), holds: many });
    assert.ok(long.length <= MAX_DESCRIPTION, `${long.length}`);
    assert.match(long, /- … and \d+ more hold line\(s\): see the lock\./);
  });

  it('a pull request that only releases holds says so in its default title and head, without an empty table', () => {
    const context = { environment: 'qa', targetBranch: 'main', changes: [], holds };
    assert.equal(renderTitle('', context), 'chore(qa): release 1 hold(s)');
    assert.equal(renderTitle('Release {environment} ({count})', context), 'Release qa (1)');
    const text = renderDescription(context);
    assert.match(text, /^Releases the hold on 1 component\(s\) of \*\*qa\*\*, moving no image: once this pull request is merged into `main`, automated runs move them again\.\n\n- \*\*Held\*\*: heuristic/);
    assert.match(text, /- \*\*Released\*\*: collector is no longer held \(was: investigating a leak\)\.\n\n_Opened/);
    assert.ok(!text.includes('| Component |'), text);
  });

  it('titles from a template with {environment} and {count}; unknown placeholders are refused', () => {
    const context = { environment: 'devtest', targetBranch: 'main', changes: [change(1), change(2)] };
    assert.equal(renderTitle('chore({environment}): update {count} component(s)', context), 'chore(devtest): update 2 component(s)');
    assert.throws(() => renderTitle('release {version}', context), /title 'release {version}' uses {version}, which is not known: use {environment}, {count}/);
  });
});

describe('changes', () => {
  it('labels image references by tag and short digest, a registry port not taken for a tag', () => {
    assert.equal(shortImage(`r/x:v1@${digest(7)}`), 'v1@sha256:aaaaaaaaaaaa');
    assert.equal(shortImage(`host:5000/edge/heuristic:v1.4.2@${digest(7)}`), 'v1.4.2@sha256:aaaaaaaaaaaa');
    assert.equal(shortImage('host:5000/edge/heuristic'), 'host:5000/edge/heuristic');
    assert.equal(shortImage('v1.4.2'), 'v1.4.2');
    assert.equal(shortImage(undefined), '');
  });

  it('reads the lock diff of one environment with bumps', () => {
    const lock = (tag: string, qa: string) =>
      `schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: r/heuristic\n      tag: ${tag}\n      digest: ${digest(1)}\n  qa:\n    heuristic:\n      image: r/heuristic\n      tag: ${qa}\n`;
    assert.deepEqual(lockDiff(lock('v1.4.1', 'v1.0.0'), lock('v1.5.0', 'v2.0.0'), 'devtest'), [
      { component: 'heuristic', from: `r/heuristic:v1.4.1@${digest(1)}`, to: `r/heuristic:v1.5.0@${digest(1)}`, bump: 'minor' },
    ]);
    assert.deepEqual(lockDiff(lock('v1.4.1', 'v1.0.0'), lock('v1.4.1', 'v2.0.0'), 'devtest'), []);
    assert.deepEqual(lockDiff(lock('v1.4.1', 'v1.0.0'), lock('v1.4.1', 'v1.0.0').replace(digest(1), digest(2)), 'devtest'), [
      { component: 'heuristic', from: `r/heuristic:v1.4.1@${digest(1)}`, to: `r/heuristic:v1.4.1@${digest(2)}`, bump: 'digest' },
    ]);
    assert.deepEqual(lockDiff(undefined, lock('v1.4.1', 'v1.0.0'), 'devtest'), [{ component: 'heuristic', to: `r/heuristic:v1.4.1@${digest(1)}`, bump: 'none' }]);
    assert.throws(() => lockDiff('a: [', lock('v1', 'v1'), 'devtest'), /versions\.yaml is not valid YAML/);
    assert.throws(() => lockDiff(lock('v1', 'v1'), `${lock('v1', 'v1')}  prod: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, 'devtest'), (e: unknown) => e instanceof UserError && /^versions\.yaml is nested too deeply/.test(e.message) && e.where?.line === 12);
    assert.throws(() => lockDiff(lock('v1', 'v1'), lock('v1', 'v1').replace(digest(1), 'sha256:1'), 'devtest', 'deploy/versions.yaml'), (e: unknown) => e instanceof UserError && e.where?.file === 'deploy/versions.yaml' && e.where.line === 7);
  });

  it('recognises a rollback in the lock diff (a rollback hold added, or a move down), a released hold, and the revision', () => {
    const lock = (tag: string, extra = '') => `schemaVersion: 1\nenvironments:\n  qa:\n    heuristic:\n      image: r/heuristic\n      tag: ${tag}\n${extra}    collector:\n      image: r/collector\n      tag: v2.0.0\n`;
    const held = `      revision: abcdef1\n      hold: "rollback to good by Jane"\n`;
    assert.deepEqual(lockDiff(lock('v1.5.0'), lock('v1.4.2', held), 'qa'), [
      { component: 'heuristic', from: 'r/heuristic:v1.5.0', to: 'r/heuristic:v1.4.2', bump: 'minor', rollback: true, hold: 'rollback to good by Jane', revision: 'abcdef1' },
    ]);
    assert.deepEqual(lockDiff(lock('v1.5.0'), lock('v1.4.2'), 'qa')[0].rollback, true, 'a downgrade is a rollback');
    assert.deepEqual(lockDiff(lock('v1.4.2', held), lock('v1.6.0'), 'qa'), [{ component: 'heuristic', from: 'r/heuristic:v1.4.2', to: 'r/heuristic:v1.6.0', bump: 'minor', released: true }]);
    assert.deepEqual(environmentHolds(lock('v1.5.0'), lock('v1.4.2', held), 'qa'), { held: [{ component: 'heuristic', image: 'r/heuristic:v1.4.2', hold: 'rollback to good by Jane' }], released: [] });
    assert.deepEqual(environmentHolds(lock('v1.4.2', held), lock('v1.6.0'), 'qa'), { held: [], released: [{ component: 'heuristic', hold: 'rollback to good by Jane' }] });
  });

  it('gives each change the bump UpdateGitOpsVersions gives it, a component new to the environment included', async () => {
    const dir = await gitopsTree('r.example.com');
    try {
      const before = await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8');
      const images = ['heuristic=v1.5.0', 'collector=v2.0.0@' + digest(3), 'telemetry=r.example.com/telemetry:v0.1.0'];
      const result = await updateGitOps({ gitopsPath: dir, environment: 'devtest', images, pinDigest: false }, testLog());
      const after = await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8');
      const fromRun = result.changes.map(({ component, from, to, bump }) => ({ component, ...(from ? { from } : {}), to, bump }));
      assert.deepEqual(lockDiff(before, after, 'devtest'), fromRun);
      assert.deepEqual(fromRun.map((c) => [c.component, c.bump]), [['collector', 'digest'], ['heuristic', 'minor'], ['telemetry', 'none']]);
      const table = renderDescription({ environment: 'devtest', targetBranch: 'main', changes: lockDiff(before, after, 'devtest') });
      assert.match(table, /\| telemetry \| \(new\) \| v0\.1\.0 \| none \| +\|/);
      assert.match(gitopsSummary(result), /\| telemetry \| \(new\) \| `r\.example\.com\/telemetry:v0\.1\.0` \| none \|/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('parses the changes JSON of UpdateGitOpsVersions and refuses anything else', () => {
    assert.deepEqual(parseChanges('[{"component":"a","from":"r/a:v1","to":"r/a:v2","bump":"major","files":["versions.yaml"]}]'), [
      { component: 'a', from: 'r/a:v1', to: 'r/a:v2', bump: 'major', files: ['versions.yaml'] },
    ]);
    assert.deepEqual(parseChanges('[{"component":"a","to":"r/a:v1","rollback":true,"hold":"rollback to x","released":false,"revision":"abcdef1"}]'), [
      { component: 'a', to: 'r/a:v1', rollback: true, hold: 'rollback to x', revision: 'abcdef1' },
    ]);
    assert.deepEqual(parseChanges('[{"component":"a","to":"r/a:v1","rollback":"yes","revision":"main"}]'), [{ component: 'a', to: 'r/a:v1' }]);
    assert.deepEqual(parseChanges('  '), []);
    assert.throws(() => parseChanges('{"component":"a"}'), /must be a JSON array/);
    assert.throws(() => parseChanges('[{"component":"a"}]'), /entry 1 needs a 'component' and a 'to'/);
    assert.throws(() => parseChanges('[nope'), /is not valid JSON/);
  });
});

describe('Azure Repos remote URLs', () => {
  it('name the project and repository over HTTPS, the legacy host and SSH', () => {
    assert.deepEqual(parseRemoteUrl('https://edge@dev.azure.com/edge/Platform%20Ops/_git/fleet-gitops'), { project: 'Platform Ops', repository: 'fleet-gitops' });
    assert.deepEqual(parseRemoteUrl('https://edge.visualstudio.com/DefaultCollection/Edge/_git/gitops'), { project: 'Edge', repository: 'gitops' });
    assert.deepEqual(parseRemoteUrl('git@ssh.dev.azure.com:v3/edge/Edge/gitops'), { project: 'Edge', repository: 'gitops' });
    assert.equal(parseRemoteUrl('https://github.com/edge/gitops.git'), undefined);
  });
});
