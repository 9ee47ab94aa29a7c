import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runTask } from '../helpers/run-task';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';
import { gitopsTree, snapshot } from '../helpers/gitops-tree';

/** Lines that would show `secret` on the agent, which masks a value from its ##vso[task.setsecret] line on. */
function leaks(stdout: string, secret: string): string[] {
  let masked = false;
  const out: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line === `##vso[task.setsecret]${secret}`) masked = true;
    else if (!masked && line.includes(secret)) out.push(line);
  }
  return out;
}

describe('UpdateGitOpsVersions task (bundled, run as the agent runs it)', function () {
  let dir: string;
  afterEach(async () => dir && fs.rm(dir, { recursive: true, force: true }));

  it('fails on a downgrade with the lock file and line, before any registry call, writing nothing', async () => {
    dir = await gitopsTree('myacr.azurecr.io');
    const before = await snapshot(dir);
    // pinDigest is on (the default) and myacr.azurecr.io is unreachable: policies are checked before any registry call
    const run = await runTask('UpdateGitOpsVersions', { inputs: { gitopsPath: dir, environment: 'devtest', images: 'heuristic=v1.0.0' } });
    assert.equal(run.result, 'Failed');
    assert.equal(run.errors.length, 1);
    assert.match(run.errors[0], /^versions.yaml:5: heuristic would move down from v1.4.1 to v1.0.0/);
    assert.match(run.stdout, /##vso\[task.logissue type=error;sourcepath=versions.yaml;linenumber=5;\]/);
    assert.deepEqual(await snapshot(dir), before);
  });

  it('a dry run reports the changes and writes nothing', async () => {
    dir = await gitopsTree('myacr.azurecr.io');
    const before = await snapshot(dir);
    const run = await runTask('UpdateGitOpsVersions', {
      inputs: { gitopsPath: dir, environment: 'devtest', images: 'heuristic=v1.4.2\ncollector=v2.0.1', pinDigest: false, dryRun: true },
    });
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.equal(run.outputs.changed, 'true');
    assert.deepEqual(JSON.parse(run.outputs.changes).map((c: { component: string }) => c.component), ['collector', 'heuristic']);
    assert.deepEqual(await snapshot(dir), before);
  });

  describe('with a real registry', function () {
    let registry: TestRegistry;
    const digests: Record<string, string> = {};
    before(async function () {
      await requireTool(this, ...REGISTRY_TOOLS);
      registry = await TestRegistry.start();
      for (const tag of ['v1.4.1', 'v1.4.2', 'v1.5.0']) digests[`heuristic:${tag}`] = await registry.pushImage('heuristic', tag);
      for (const tag of ['v2.0.0', 'v2.0.1']) digests[`collector:${tag}`] = await registry.pushImage('collector', tag);
    });
    after(async () => registry?.stop());

    it('updates and pins digests with registry credentials, sets outputs and the summary, masks the password; a re-run is a no-op', async () => {
      dir = await gitopsTree(registry.host);
      const inputs = {
        gitopsPath: dir,
        environment: 'devtest',
        images: 'heuristic=v1.4.2',
        registry: registry.host,
        registryUsername: registry.username,
        registryPassword: registry.password,
      };
      const run = await runTask('UpdateGitOpsVersions', { inputs });
      assert.equal(run.result, 'Succeeded', run.stdout + run.stderr);
      assert.equal(run.outputs.changed, 'true');
      assert.deepEqual(JSON.parse(run.outputs.changes), [
        {
          component: 'heuristic',
          from: `${registry.host}/heuristic:v1.4.1`,
          to: `${registry.host}/heuristic:v1.4.2@${digests['heuristic:v1.4.2']}`,
          bump: 'patch',
          files: ['versions.yaml', 'environments/devtest/jobs.yaml', 'environments/devtest/kustomization.yaml'],
        },
      ]);
      assert.ok(existsSync(run.outputs.summary));
      assert.ok(path.relative(dir, run.outputs.summary).startsWith('..'), 'the summary is written outside the GitOps repository');
      assert.match(await fs.readFile(run.outputs.summary, 'utf8'), /\| heuristic \|/);
      assert.equal(run.summaries.length, 1);
      assert.match(run.summaries[0], new RegExp(`heuristic:v1.4.2@${digests['heuristic:v1.4.2']}`));
      assert.deepEqual(leaks(run.stdout, registry.password), [], 'the password is registered as a secret before any line shows it');
      assert.ok(!run.stderr.includes(registry.password));
      assert.ok((await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8')).includes(`      tag: v1.4.2\n      digest: ${digests['heuristic:v1.4.2']}\n`));

      const before = await snapshot(dir);
      const again = await runTask('UpdateGitOpsVersions', { inputs });
      assert.equal(again.result, 'Succeeded');
      assert.equal(again.outputs.changed, 'false');
      assert.equal(again.outputs.changes, '[]');
      assert.deepEqual(await snapshot(dir), before);
    });

    it('takes the newest registry tag through a docker registry service connection', async () => {
      dir = await gitopsTree(registry.host);
      const run = await runTask('UpdateGitOpsVersions', {
        inputs: { gitopsPath: dir, environment: 'devtest', source: 'registry', containerRegistry: 'acr', maxBump: 'minor' },
        endpoints: { acr: { url: `https://${registry.host}/`, parameters: { username: registry.username, password: registry.password, registry: `https://${registry.host}/` } } },
      });
      assert.equal(run.result, 'Succeeded', run.stdout + run.stderr);
      assert.deepEqual(leaks(run.stdout, registry.password), []);
      // the agent's progress bar, a component at a time
      assert.deepEqual(run.stdout.split('\n').filter((l) => l.startsWith('##vso[task.setprogress')), [
        '##vso[task.setprogress value=50;]Resolved 1 of 2 component(s) in the registry',
        '##vso[task.setprogress value=100;]Resolved 2 of 2 component(s) in the registry',
      ]);
      assert.deepEqual(
        JSON.parse(run.outputs.changes).map((c: { component: string; to: string }) => [c.component, c.to]),
        [
          ['collector', `${registry.host}/collector:v2.0.1@${digests['collector:v2.0.1']}`],
          ['heuristic', `${registry.host}/heuristic:v1.5.0@${digests['heuristic:v1.5.0']}`],
        ],
      );
    });
  });
});
