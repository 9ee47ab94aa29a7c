import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkSamples } from '../../tools/check-samples';
import { repoRoot } from '../helpers/run-task';

describe('samples/ pipelines', () => {
  const samples = path.join(repoRoot, 'samples');
  const tasks = path.join(repoRoot, 'tasks');

  it('use only tasks and inputs that exist, with every required input', function () {
    assert.ok(readdirSync(samples).some((f) => f.endsWith('.yml')), `no sample pipelines in ${samples}`);
    assert.deepEqual(checkSamples(samples, tasks), []);
  });

  it('the check fails on a sample naming an input its task does not have', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'samples-'));
    try {
      if (existsSync(samples)) cpSync(samples, path.join(dir, 'samples'), { recursive: true });
      else mkdirSync(path.join(dir, 'samples'));
      const broken = path.join(dir, 'samples', 'broken.yml');
      writeFileSync(
        broken,
        ['steps:', '  - task: TagComponents@1', '    inputs:', '      componentsPath: .', '      tagFromat: oops', '  - task: TagComponents@7', '  - task: NoSuchTask@1'].join('\n'),
      );
      const problems = checkSamples(path.join(dir, 'samples'), tasks).filter((p) => p.includes('broken.yml'));
      assert.deepEqual(problems, [
        "samples/broken.yml:5: TagComponents has no input 'tagFromat'",
        "samples/broken.yml:6: TagComponents has major version 1, not '7'",
        "samples/broken.yml:7: unknown task 'NoSuchTask@1'",
      ]);
      assert.ok(readFileSync(broken, 'utf8').includes('tagFromat'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
