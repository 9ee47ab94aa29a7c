import { strict as assert } from 'node:assert';
import { promises as fs, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateGitOps, type ValidateGitOpsOptions } from '../../../shared/flows/validate-gitops';
import { gitopsTree, snapshot, testLog } from '../../helpers/gitops-tree';
import { requireTool } from '../../helpers/requires';
import { brief, VALIDATION_FINDINGS } from '../../helpers/validation';
import { repoRoot } from '../../helpers/run-task';

const R = 'myacr.azurecr.io';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const VALUES = { HEURISTIC: digest('1'), COLLECTOR: digest('2'), STALE: digest('3') };
const FIXTURES = ['tree', ...readdirSync(path.join(repoRoot, 'test/fixtures/gitops/layouts')).map((l) => `layouts/${l}`), 'validation'];


describe('ValidateGitOps: every kind of finding, at its file and line', () => {
  let dir: string;
  before(async () => {
    dir = await gitopsTree(R, 'validation', VALUES);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  const validate = (options: Partial<ValidateGitOpsOptions> = {}) =>
    validateGitOps({ gitopsPath: dir, render: 'never', allowedRegistries: [R], protectedEnvironments: ['prod*'], ...options }, testLog());

  it('finds each problem of the fixture once, where it is written, and changes nothing', async () => {
    const before = await snapshot(dir);
    const result = await validate();
    assert.equal(result.valid, false);
    assert.deepEqual(result.findings.map(brief), VALIDATION_FINDINGS);
    assert.deepEqual(await snapshot(dir), before, 'nothing in the repository changed');
    const message = (rule: string) => result.findings.find((f) => f.rule === rule)!.message;
    assert.match(message('tag-mismatch'), /heuristic: this reference names myacr\.azurecr\.io\/edge\/heuristic:v1\.4\.0@sha256:1{64}, but versions\.yaml:5 has the tag v1\.4\.1 for 'devtest'/);
    assert.match(message('digest-mismatch'), /collector: this reference names myacr\.azurecr\.io\/edge\/collector:v2\.0\.0@sha256:3{64}, but versions\.yaml:9 pins sha256:2{64} for 'devtest'/);
    assert.match(message('unknown-component'), /edge\/mystery:v1\.0\.0.*no component of 'devtest' in the lock is myacr\.azurecr\.io\/edge\/mystery: add it to the lock, or list it in ignoreImages/);
    assert.match(message('render-failed'), /environments\/broken does not render: resource 'canary\.yaml' does not exist/);
    assert.match(message('registry-not-allowed'), /ghcr\.io\/acme\/debug-tools:1\.2\.3.*outside allowedRegistries \(myacr\.azurecr\.io\)/);
    assert.match(message('mutable-tag'), /whose tag 'latest' can move, and 'prod' is protected/);
    assert.match(message('image-mismatch'), /this marked repository is myacr\.azurecr\.io\/edge\/collector-old, but versions\.yaml:9 has myacr\.azurecr\.io\/edge\/collector/);
    assert.deepEqual(
      result.environments.map((e) => [e.name, e.findings, e.render]),
      [['devtest', 5, 'resolver'], ['prod', 4, 'resolver'], ['broken', 2, 'none']],
    );
  });

  it('policies come from the inputs: without them only the lock and the references are compared', async () => {
    const result = await validate({ allowedRegistries: [], protectedEnvironments: [], ignoreImages: [`${R}/edge/mystery`], environments: ['devtest'] });
    assert.deepEqual(result.findings.map(brief), [
      'devtest image-mismatch collector environments/devtest/dashboard.yaml:12',
      'devtest tag-mismatch heuristic environments/devtest/jobs.yaml:14',
      'devtest digest-mismatch collector environments/devtest/kustomization.yaml:14',
    ]);
  });

  it('environments selects by name or glob, and a name that matches none fails naming the known ones', async () => {
    assert.deepEqual((await validate({ environments: ['*', '!broken', '!devtest'] })).environments.map((e) => e.name), ['prod']);
    await assert.rejects(validate({ environments: ['staging'] }), /No environment matches 'staging' in the environments input\. Known: broken, devtest, prod\./);
  });

  it('what only the render shows (an image a shared base holds) is reported at the base file that writes it', async () => {
    const copy = await gitopsTree(R, 'validation', VALUES);
    try {
      const base = path.join(copy, 'bases/app/deployment.yaml');
      await fs.writeFile(base, (await fs.readFile(base, 'utf8')).replace('image: collector', `image: ${R}/edge/collector:v1.9.0`));
      const overlay = path.join(copy, 'environments/devtest/kustomization.yaml');
      await fs.writeFile(overlay, (await fs.readFile(overlay, 'utf8')).replace(/ {2}- name: collector\n( {4}.*\n)+/, ''));
      const result = await validateGitOps({ gitopsPath: copy, render: 'never', environments: ['devtest'] }, testLog());
      const finding = result.findings.find((f) => f.file === 'bases/app/deployment.yaml')!;
      assert.equal(brief(finding), 'devtest tag-mismatch collector bases/app/deployment.yaml:16');
      assert.match(finding.message, /environments\/devtest renders Deployment\/app \(namespace devtest\) container 'collector' as myacr\.azurecr\.io\/edge\/collector:v1\.9\.0, but versions\.yaml:9 has the tag v2\.0\.0/);
    } finally {
      await fs.rm(copy, { recursive: true, force: true });
    }
  });

  it('a lock that does not parse is the one finding, at its line', async () => {
    const broken = await gitopsTree(R, 'validation', VALUES);
    try {
      await fs.writeFile(path.join(broken, 'versions.yaml'), 'schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic: {image: x, tag: v1+build}\n');
      const result = await validateGitOps({ gitopsPath: broken, render: 'never' }, testLog());
      assert.deepEqual(result.findings.map(brief), [' invalid-file - versions.yaml:4']);
      assert.equal(result.valid, false);
    } finally {
      await fs.rm(broken, { recursive: true, force: true });
    }
  });

  it('an overlay the resolver does not follow (helmCharts) is a warning that its images are not checked, not a finding', async () => {
    const copy = await gitopsTree(R, 'validation', VALUES);
    try {
      await fs.writeFile(path.join(copy, 'environments/broken/kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nhelmCharts:\n  - name: redis\n    repo: https://charts.example.com\n    version: 17.0.0\n');
      const log = testLog();
      const result = await validateGitOps({ gitopsPath: copy, render: 'never', environments: ['broken'] }, log);
      assert.deepEqual(result.findings.map(brief), ['broken invalid-file - environments/broken/notes.yaml:3']);
      assert.ok(log.warnings.some((w) => /environments\/broken\/kustomization\.yaml uses 'helmCharts'.*use render: auto or always on an agent with kubectl\. Its images are not checked\./.test(w)), log.warnings.join('\n'));
    } finally {
      await fs.rm(copy, { recursive: true, force: true });
    }
  });

  it('checkRegistry with an Azure connection and no registry signs in to none when the environments lock no image', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'validate-empty-'));
    try {
      await fs.writeFile(path.join(empty, 'versions.yaml'), 'schemaVersion: 1\nenvironments:\n  edge: {}\n');
      await fs.mkdir(path.join(empty, 'environments/edge'), { recursive: true });
      await fs.writeFile(path.join(empty, 'environments/edge/kustomization.yaml'), 'resources: []\n');
      const signIn = async (registry: string) => assert.fail(`signed in to ${registry}`);
      const result = await validateGitOps({ gitopsPath: empty, render: 'never', checkRegistry: true, signIn }, testLog());
      assert.deepEqual(result.findings.map(brief), []);
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  });

  it('render: always without kubectl fails saying so; auto falls back to the resolver', async () => {
    await assert.rejects(validate({ render: 'always', kubectl: 'no-such-kubectl' }), /render: always needs kubectl on the agent, and 'no-such-kubectl' is not on PATH/);
    const auto = await validate({ render: 'auto', kubectl: 'no-such-kubectl' });
    assert.deepEqual(auto.environments.map((e) => e.render), ['resolver', 'resolver', 'none']);
  });
});

describe('ValidateGitOps: kubectl kustomize and the resolver find the same', () => {
  for (const fixture of FIXTURES) {
    it(`${fixture}: the same findings with render always (kubectl) as with never (the resolver)`, async function () {
      await requireTool(this, 'kubectl');
      const dir = await gitopsTree(R, fixture, VALUES);
      try {
        const options = { gitopsPath: dir, protectedEnvironments: ['prod'], allowedRegistries: [R, 'docker.io/library'] };
        const resolver = await validateGitOps({ ...options, render: 'never' }, testLog());
        const kubectl = await validateGitOps({ ...options, render: 'always' }, testLog());
        assert.deepEqual(kubectl.findings.map(brief), resolver.findings.map(brief));
        assert.ok(kubectl.environments.every((e) => e.render !== 'resolver'), 'kubectl rendered');
        assert.deepEqual(kubectl.environments.map((e) => e.references), resolver.environments.map((e) => e.references));
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('the fixtures UpdateGitOpsVersions keeps are valid (but the stale inline patch left for it to fix)', async () => {
    for (const fixture of FIXTURES.filter((f) => f !== 'validation')) {
      const dir = await gitopsTree(R, fixture);
      try {
        const result = await validateGitOps({ gitopsPath: dir, render: 'never' }, testLog());
        assert.deepEqual(result.findings.map(brief), fixture === 'layouts/patches' ? ['devtest tag-mismatch collector environments/devtest/kustomization.yaml:21'] : [], fixture);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    }
  });
});
