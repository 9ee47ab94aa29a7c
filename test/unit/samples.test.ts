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

  it('the check fails on a job that runs changedOnly without tags, leaves a GitOps change without its pull request, or downloads from no pipeline resource', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'samples-'));
    try {
      const job = [
        'resources:',
        '  pipelines:',
        '    - pipeline: app',
        '      source: app-ci',
        'steps:',
        '  - checkout: self',
        '    fetchDepth: 0',
        '  - task: BuildRustContainers@1',
        '    inputs: { registry: myacr.azurecr.io, changedOnly: true }',
        '  - download: ci',
        '  - download: app',
        '  - task: UpdateGitOpsVersions@1',
        '    inputs: { gitopsPath: ., environment: devtest, images: a=v1 }',
      ];
      writeFileSync(path.join(dir, 'job.yml'), job.join('\n'));
      assert.deepEqual(checkSamples(dir, tasks), [
        `${path.basename(dir)}/job.yml:8: changedOnly compares with tags: the job needs '- checkout: self' with fetchDepth: 0 and fetchTags: true`,
        `${path.basename(dir)}/job.yml:10: download: ci names no pipeline resource of this file (resources: pipelines: - pipeline: ci)`,
        `${path.basename(dir)}/job.yml:12: UpdateGitOpsVersions is not followed by CreateEnvPR in its job: the change would stay in the working copy`,
      ]);
      // Fixed as the samples do it: no problem left.
      const fixed = [...job.slice(0, 7), '    fetchTags: true', ...job.slice(7).filter((line) => line !== '  - download: ci'), '  - task: CreateEnvPR@1', '    inputs: { gitopsPath: ., environment: devtest }'];
      writeFileSync(path.join(dir, 'job.yml'), fixed.join('\n'));
      assert.deepEqual(checkSamples(dir, tasks), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
