import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDemo } from '../../tools/demo';
import { run } from '../../shared/process';
import { REGISTRY_TOOLS } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';

describe('npm run demo: the whole flow on this machine', function () {
  it('tags, builds, opens a devtest PR, and a qa promotion PR holding the same digests', async function () {
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
      // what it leaves for the user to inspect
      const tags = (await run('git', ['tag', '--list'], { cwd: path.join(workdir, 'app') })).stdout.trim().split('\n');
      assert.deepEqual(tags, ['common/1.4.2', 'heuristic/1.4.2', 'http-connector/0.9.0']);
      const branches = (await run('git', ['branch', '--list'], { cwd: path.join(workdir, 'remotes', 'gitops.git') })).stdout;
      assert.match(branches, /gitops\/qa/);
      const config = await fs.readFile(path.join(workdir, 'gitops-qa', '.git', 'config'), 'utf8');
      assert.ok(!config.includes('demo-job-token'), 'the token is not in .git/config');
    } finally {
      await fs.rm(workdir, { recursive: true, force: true });
    }
  });
});
