import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDemo } from '../../tools/demo';
import { run } from '../../shared/process';
import { REGISTRY_TOOLS } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';

describe('npm run demo: the whole flow on this machine', function () {
  it('tags, builds, promotes devtest -> qa by digest, rolls qa back with a hold, and the next build leaves the held component alone', async function () {
    // The demo builds and pushes real images when the registry and a builder are installed.
    await requireTool(this, ...REGISTRY_TOOLS, 'buildah');
    const workdir = await fs.mkdtemp(path.join(os.tmpdir(), 'demo-'));
    const lines: string[] = [];
    try {
      const result = await runDemo({ workdir, say: (line) => lines.push(line) });
      assert.equal(result.devtest.pullRequestId, 1);
      assert.equal(result.qa.pullRequestId, 2);
      assert.deepEqual(Object.keys(result.devtest.digests).sort(), ['heuristic', 'http-connector']);
      assert.equal(result.built, true, 'images built and pushed');
      for (const digest of Object.values(result.devtest.digests)) assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual(result.qa.digests, result.devtest.digests);
      const out = lines.join('\n');
      assert.match(out, /Pull request !1: chore\(devtest\): update 2 component\(s\)/);
      assert.match(out, /Pull request !2: chore\(qa\): update 2 component\(s\)/);

      // The rollback: qa's heuristic back to what the lock held before the promotion, held, in a pull request that says so.
      assert.equal(result.rollback.pullRequestId, 3);
      assert.match(result.rollback.hold, /^rollback to HEAD~1 \([0-9a-f]{12}\) by Dana Ops in run 20261204\.7$/);
      assert.match(out, /Pull request !3: chore\(qa\): roll back 1 component\(s\)\n.*\n {6}\| \*\*Rollback\*\*: sets 1 component\(s\) of \*\*qa\*\* back/);
      assert.match(out, /\| heuristic \| v1\.4\.2-rc\.1042@sha256:\w{12} \| v1\.4\.0 \| patch \(rollback\) \|/);

      // The next build: devtest moves on; its promotion to qa moves http-connector by digest and leaves the held heuristic.
      assert.equal(result.next.pullRequestId, 5);
      assert.ok(result.next.warnings.some((w) => w.startsWith(`heuristic in 'qa' is held (${result.rollback.hold}): left at v1.4.0, not moved to v1.4.2-rc.1043.`)), result.next.warnings.join('\n'));
      assert.deepEqual(result.next.qa.heuristic, { image: result.next.qa.heuristic.image, tag: 'v1.4.0', hold: result.rollback.hold });
      assert.equal(result.next.qa['http-connector'].tag, 'v0.9.0-rc.1043');
      assert.equal(result.next.qa['http-connector'].digest, result.next.devtest['http-connector']);
      assert.match(result.next.description, /^Promotes 1 component\(s\) to \*\*qa\*\*/);
      assert.ok(result.next.description.includes(`- **Held**: heuristic at v1.4.0 (${result.rollback.hold}): automated runs leave it alone`), result.next.description);
      // The inventory: in the summary, and INVENTORY.md on main, with the app commit each image was built from.
      assert.match(out, /#### What runs where \(versions\.yaml\)/);
      const inventory = (await run('git', ['show', 'main:INVENTORY.md'], { cwd: path.join(workdir, 'remotes', 'gitops.git') })).stdout;
      assert.match(inventory, /## qa\n\n.*\n.*\n\| heuristic \| `v1\.4\.0` \| {2}\| \d{4}-\d\d-\d\d \| rollback to HEAD~1 /);
      assert.match(inventory, /## devtest\n\n.*\n.*\n\| heuristic \| `v1\.4\.2-rc\.1043@sha256:\w{12}` \| `[0-9a-f]{7}` \|/);
      // what it leaves for the user to inspect
      const tags = (await run('git', ['tag', '--list'], { cwd: path.join(workdir, 'app') })).stdout.trim().split('\n');
      assert.deepEqual(tags, ['common/1.4.2', 'heuristic/1.4.2', 'http-connector/0.9.0']);
      const branches = (await run('git', ['branch', '--list'], { cwd: path.join(workdir, 'remotes', 'gitops.git') })).stdout;
      assert.match(branches, /gitops\/qa/);
      const config = await fs.readFile(path.join(workdir, 'gitops-qa-2', '.git', 'config'), 'utf8');
      assert.ok(!config.includes('demo-job-token'), 'the token is not in .git/config');
    } finally {
      await fs.rm(workdir, { recursive: true, force: true });
    }
  });
});
