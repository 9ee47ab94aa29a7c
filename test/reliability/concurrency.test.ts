import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { readLock } from '../../shared/lock/lockfile';
import { digestOf, gitopsFiles, REGISTRY, workingCopy, type Pins } from '../integration/create-env-pr/fixture';
import { runTask, type TaskRun } from '../helpers/run-task';
import { AdoServer } from '../../stand-ins/azure-devops';

/** Runs `work` over `items` with at most `limit` in flight, as a pool of agents would. */
export async function pool<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * 20 pipeline runs for the same environment at once, each on its own agent (a fresh shallow clone of the
 * GitOps repository), each running the bundled UpdateGitOpsVersions then CreateEnvPR for a different
 * component, against the Azure DevOps stand-in (real git pushes, real REST client). Nothing may be lost:
 * every bump ends up on gitops/<env>, in the lock and in the overlay, under exactly one pull request.
 */
describe('Concurrency: 20 runs update the same environment at once', function () {
  this.timeout(300_000);
  const token = 'job-token-c0ncurr3ncy-7a6b5c4d3e2f1a0b';
  const RUNS = 20;
  const IN_FLIGHT = 10; // two cores: 20 runs, at most 10 agents busy at a time
  const env = 'devtest';
  const components = Array.from({ length: RUNS }, (_, i) => `svc-${String(i + 1).padStart(2, '0')}`);
  const base: Pins = Object.fromEntries(components.map((c) => [c, 'v1.0.0']));
  const bumped = (i: number) => `v1.${i + 1}.0`;
  let ado: AdoServer;
  const copies: string[] = [];
  const runs: Array<{ component: string; update: TaskRun; pr: TaskRun }> = [];

  before(async () => {
    ado = await AdoServer.start(token);
    await ado.createRepo('Edge', 'fleet-gitops', gitopsFiles({ [env]: base, qa: base }));
    runs.push(
      ...(await pool(components, IN_FLIGHT, async (component, i) => {
        const dir = await workingCopy(ado, 'Edge', 'fleet-gitops', token);
        copies.push(dir);
        const update = await runTask('UpdateGitOpsVersions', {
          inputs: { gitopsPath: dir, environment: env, images: `${component}=${bumped(i)}@${digestOf(component, bumped(i))}`, pinDigest: false },
          variables: { 'Build.BuildId': String(9000 + i) },
        });
        const pr = await runTask('CreateEnvPR', {
          inputs: { gitopsPath: dir, environment: env, changes: update.outputs.changes },
          variables: { 'Build.BuildId': String(9000 + i), 'Build.BuildNumber': `20261123.${i + 1}` },
          accessToken: token,
          collectionUrl: ado.collectionUrl,
          env: { GIT_CONFIG_GLOBAL: '/dev/null' },
        });
        return { component, update, pr };
      })),
    );
  });
  after(async () => {
    await ado?.stop();
    for (const dir of copies) await fs.rm(dir, { recursive: true, force: true });
  });

  it('no run failed', () => {
    assert.equal(runs.length, RUNS);
    for (const { component, update, pr } of runs) {
      assert.equal(update.result, 'Succeeded', `UpdateGitOpsVersions for ${component}: ${update.errors.join('\n')}\n${update.stdout.slice(-2000)}`);
      assert.equal(update.outputs.changed, 'true', component);
      assert.deepEqual(JSON.parse(update.outputs.changes).map((c: { component: string }) => c.component), [component]);
      assert.equal(pr.result, 'Succeeded', `CreateEnvPR for ${component}: ${pr.errors.join('\n')}\n${pr.stdout.slice(-3000)}`);
    }
  });

  it('exactly one pull request is open, and every run reports it; exactly one run opened it', () => {
    const prs = ado.pullRequests('fleet-gitops');
    assert.equal(prs.length, 1, JSON.stringify(prs.map((p) => [p.pullRequestId, p.status, p.sourceRefName])));
    assert.equal(prs[0].status, 'active');
    assert.equal(prs[0].sourceRefName, `refs/heads/gitops/${env}`);
    assert.deepEqual(new Set(runs.map((r) => r.pr.outputs.pullRequestId)), new Set([String(prs[0].pullRequestId)]));
    assert.equal(runs.filter((r) => r.pr.outputs.created === 'true').length, 1);
  });

  it('every one of the 20 bumps is on gitops/<env>: lock (parses and validates) and overlay', async () => {
    const lockText = (await ado.readFile('Edge', 'fleet-gitops', `gitops/${env}`, 'versions.yaml'))!;
    const lock = readLock(lockText, 'versions.yaml');
    const pinned = lock.environments.get(env)!;
    assert.equal(pinned.size, RUNS);
    components.forEach((component, i) => {
      const entry = pinned.get(component)!;
      assert.deepEqual({ image: entry.image, tag: entry.tag, digest: entry.digest }, { image: `${REGISTRY}/${component}`, tag: bumped(i), digest: digestOf(component, bumped(i)) }, component);
    });
    // The other environment is untouched.
    for (const component of components) assert.equal(lock.environments.get('qa')!.get(component)!.tag, 'v1.0.0');
    const overlay = (await ado.readFile('Edge', 'fleet-gitops', `gitops/${env}`, `environments/${env}/kustomization.yaml`))!;
    components.forEach((component, i) => {
      assert.ok(overlay.includes(`- name: ${component}\n    newName: ${REGISTRY}/${component}\n    newTag: ${bumped(i)}\n    digest: ${digestOf(component, bumped(i))}\n`), `${component} in the overlay`);
    });
    // main is untouched until the pull request is merged.
    assert.equal(await ado.readFile('Edge', 'fleet-gitops', 'main', 'versions.yaml'), gitopsFiles({ [env]: base, qa: base })['versions.yaml']);
  });

  it("the pull request's title and description list all 20 components", () => {
    const [pr] = ado.pullRequests('fleet-gitops');
    assert.equal(pr.title, `chore(${env}): update ${RUNS} component(s)`);
    components.forEach((component, i) => {
      assert.match(pr.description, new RegExp(`\\| ${component} \\| v1\\.0\\.0@sha256:[0-9a-f]{12} \\| ${bumped(i).replace(/\./g, '\\.')}@sha256:[0-9a-f]{12} \\|`), component);
    });
  });
});
