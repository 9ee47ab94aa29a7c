import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAppRepo } from '../helpers/app-repo';
import { builderEnvironment, workspaceRepo } from '../helpers/containers';
import { runTask, type TaskRun, type TaskRunOptions } from '../helpers/run-task';
import { SecretScan, secretForms } from '../helpers/secrets';
import { AdoServer } from '../../stand-ins/azure-devops';
import { GitServer } from '../../stand-ins/git-server';
import { applyBump, BASE_PINS, gitopsFiles, workingCopy } from '../integration/create-env-pr/fixture';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTool } from '../helpers/requires';

const TOKEN = 'job-token-3c9e1f07a5d24b6e-secret';
const WRONG_TOKEN = 'stale-token-88a1c0de55f2-secret';
const REGISTRY_PASSWORD = 'reg-pw-9d1e4c77b2a0-secret';
const WRONG_PASSWORD = 'wrong-pw-51b7e2c9d3f4-secret';
const PAT = 'pat-7a1b2c3d4e5f60718293-secret';

/**
 * Every merged task run as the agent runs it, with a known job token or registry password; then every
 * captured stdout/stderr line, child argv, summary, file under the work dirs and the agent temp dir,
 * and .git/config of every repository touched is scanned for the secrets and their derived forms.
 */
describe('reliability: secrets never reach logs, argv, files or .git/config', function () {
  this.timeout(600_000);
  let scratch: string;

  before(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'secrets-'));
  });
  after(async () => fs.rm(scratch, { recursive: true, force: true }));

  /** runTask with an agent temp dir of our own (to scan what the task leaves there) and traced children. */
  async function agentRun(task: string, options: TaskRunOptions): Promise<{ run: TaskRun; temp: string }> {
    const temp = await fs.mkdtemp(path.join(scratch, 'agent-'));
    const run = await runTask(task, {
      ...options,
      variables: { 'Agent.TempDirectory': temp, ...options.variables },
      traceChildren: ['git', 'buildah', 'podman', 'docker'],
    });
    return { run, temp };
  }

  it('the scanner finds every derived form it promises (so a clean scan means something)', async () => {
    const secret = { value: 'p@ss w/rd:1', usernames: ['pipeline'] };
    const forms = secretForms(secret, 'pw');
    const scan = new SecretScan([secret]);
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    scan.text('raw', `x ${secret.value} y`);
    scan.text('basic', `Authorization: Basic ${b64(`pipeline:${secret.value}`)}`);
    scan.text('token-basic', `Authorization: Basic ${b64(`:${secret.value}`)}`);
    scan.text('url', `https://pipeline:${encodeURIComponent(secret.value)}@host/`);
    scan.stdout('stdout', `##vso[task.setsecret]${secret.value}\nclean line`);
    const dir = await fs.mkdtemp(path.join(scratch, 'scanner-'));
    await fs.mkdir(path.join(dir, '.git', 'objects'), { recursive: true });
    await fs.writeFile(path.join(dir, '.git', 'config'), `[http]\n\textraheader = AUTHORIZATION: basic ${b64(`pipeline:${secret.value}`)}\n`);
    await fs.writeFile(path.join(dir, 'auth.json'), JSON.stringify({ auths: { host: { auth: b64(`pipeline:${secret.value}`) } } }));
    await scan.tree('dir', dir);
    const where = new Set(scan.findings.map((f) => f.where.split(':')[0]));
    assert.deepEqual([...where].sort(), ['basic', 'dir', 'raw', 'token-basic', 'url']);
    assert.ok(scan.findings.some((f) => f.where === 'dir: .git/config'));
    assert.ok(scan.findings.some((f) => f.where === 'dir: auth.json'));
    assert.ok(forms.length >= 6, `${forms.length} forms`);
    assert.throws(() => scan.assertClean(), /secret occurrence/);
    for (const finding of scan.findings) assert.ok(!finding.context.includes(secret.value), 'a finding repeats the secret');
  });

  describe('TagComponents@1 with the job token', () => {
    let server: GitServer;
    before(async () => {
      server = await GitServer.start(TOKEN);
    });
    after(async () => server?.stop());

    it('no token in any form after a push, a re-run, a dry run, a conflict and a refused token', async () => {
      const app = await createAppRepo(server, 'secrets-app');
      const scan = new SecretScan([{ value: TOKEN }, { value: WRONG_TOKEN }]);
      const env = { HOME: app.home, GIT_CONFIG_NOSYSTEM: '1' };
      const tag = async (label: string, inputs: Record<string, string | boolean>, token = TOKEN) => {
        const { run, temp } = await agentRun('TagComponents', { inputs: { componentsPath: app.work, ...inputs }, accessToken: token, cwd: app.work, env });
        scan.taskRun(label, run);
        await scan.tree(`${label} agent temp`, temp);
        return run;
      };
      assert.equal((await tag('push', {})).result, 'Succeeded');
      assert.equal((await tag('re-run', {})).result, 'Succeeded');
      assert.equal((await tag('dry run', { dryRun: true, tagFormat: '{name}-v{version}' })).result, 'Succeeded');
      await app.commit({ 'README.md': '# app, changed\n' }, 'Change');
      const conflict = await tag('conflict', { onExisting: 'fail' });
      assert.equal(conflict.result, 'Failed');
      const refused = await tag('refused token', { tagFormat: '{name}-v{version}' }, WRONG_TOKEN);
      assert.equal(refused.result, 'Failed');
      assert.match(refused.errors[0], /refused \(HTTP 401\)/);

      // The traced git children really carried the work (so argv was scanned where it matters).
      const pushes = scan.scanned.texts;
      assert.ok(pushes > 20, `${pushes} texts scanned`);
      await scan.tree('working copy', app.work);
      await scan.gitConfig('working copy', app.work);
      await scan.gitConfig('remote (bare)', app.bare);
      await scan.tree('HOME', app.home);
      assert.ok(scan.scanned.files > 10, `${scan.scanned.files} files scanned`);
      scan.assertClean();
      await fs.rm(path.dirname(app.work), { recursive: true, force: true });
    });
  });

  describe('BuildRustContainers@1 with a registry password', function () {
    let registry: TestRegistry;
    let workspace: string;
    before(async function () {
      await requireTool(this, ...REGISTRY_TOOLS);
      registry = await TestRegistry.start('pipeline', REGISTRY_PASSWORD);
      workspace = await workspaceRepo();
    });
    after(async () => {
      await registry?.stop();
      if (workspace) await fs.rm(workspace, { recursive: true, force: true });
    });

    async function build(label: string, scan: SecretScan, inputs: Record<string, string | boolean>, env: Record<string, string> = {}) {
      const { run, temp } = await agentRun('BuildRustContainers', {
        inputs: { componentsPath: workspace, registry: registry.host, registryUsername: registry.username, registryPassword: REGISTRY_PASSWORD, ...inputs },
        cwd: workspace,
        env,
      });
      scan.taskRun(label, run);
      await scan.tree(`${label} agent temp`, temp);
      return run;
    }

    it('no password in any form: plan against the registry, a wrong password, and a real build and push with buildah', async function () {
      const scan = new SecretScan([
        { value: REGISTRY_PASSWORD, usernames: [registry.username] },
        { value: WRONG_PASSWORD, usernames: [registry.username] },
      ]);
      const plan = await build('plan', scan, { mode: 'plan' });
      assert.equal(plan.result, 'Succeeded', plan.stdout);
      const wrong = await build('wrong password', scan, { mode: 'plan', registryPassword: WRONG_PASSWORD });
      assert.equal(wrong.result, 'Failed');
      await requireTool(this, 'buildah');
      const storage = await builderEnvironment(path.join(scratch, 'storage'));
      const built = await build('build', scan, { builder: 'buildah', components: 'heuristic', repositoryPrefix: 'secrets/' }, storage);
      assert.equal(built.result, 'Succeeded', `${built.stdout.slice(-2000)}\n${built.stderr.slice(-1000)}`);
      assert.ok(built.childArgv.some((argv) => argv[0] === 'buildah' && argv.includes('push')), 'buildah pushed');
      await scan.tree('workspace', workspace);
      await scan.gitConfig('workspace', workspace);
      scan.assertClean();
    });
  });

  describe('UpdateGitOpsVersions@1 with a registry password', function () {
    let registry: TestRegistry;
    before(async function () {
      await requireTool(this, ...REGISTRY_TOOLS);
      registry = await TestRegistry.start('pipeline', REGISTRY_PASSWORD);
      await registry.pushImage('heuristic', 'v1.4.2');
      await registry.pushImage('heuristic', 'v1.4.3');
    });
    after(async () => registry?.stop());

    it('no password in any form: newest tag and digests read from the registry, and a wrong password', async () => {
      const scan = new SecretScan([
        { value: REGISTRY_PASSWORD, usernames: [registry.username] },
        { value: WRONG_PASSWORD, usernames: [registry.username] },
      ]);
      const gitops = await fs.mkdtemp(path.join(scratch, 'gitops-'));
      const files: Record<string, string> = {
        'versions.yaml': `schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: ${registry.host}/heuristic\n      tag: v1.4.2\n`,
        'environments/devtest/kustomization.yaml': `resources:\n  - deploy.yaml\nimages:\n  - name: ${registry.host}/heuristic\n    newTag: v1.4.2\n`,
        'environments/devtest/deploy.yaml': `kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: h\n          image: ${registry.host}/heuristic:v1.4.2\n`,
      };
      for (const [file, content] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(gitops, file)), { recursive: true });
        await fs.writeFile(path.join(gitops, file), content);
      }
      const update = async (label: string, password: string) => {
        const { run, temp } = await agentRun('UpdateGitOpsVersions', {
          inputs: { gitopsPath: gitops, environment: 'devtest', source: 'registry', registry: registry.host, registryUsername: registry.username, registryPassword: password },
          cwd: gitops,
        });
        scan.taskRun(label, run);
        await scan.tree(`${label} agent temp`, temp);
        return run;
      };
      const wrong = await update('wrong password', WRONG_PASSWORD);
      assert.equal(wrong.result, 'Failed');
      const right = await update('update', REGISTRY_PASSWORD);
      assert.equal(right.result, 'Succeeded', right.stdout);
      assert.equal(right.outputs.changed, 'true');
      assert.match(await fs.readFile(path.join(gitops, 'versions.yaml'), 'utf8'), /tag: v1\.4\.3\n\s+digest: sha256:/);
      await scan.tree('gitops', gitops);
      scan.assertClean();
    });
  });

  describe('CreateEnvPR@1 with the job token and with a personal access token', () => {
    let ado: AdoServer;
    before(async () => {
      ado = await AdoServer.start(TOKEN);
    });
    after(async () => ado?.stop());

    it('no token in any form: a pull request opened, updated, a dry run, a refused token, and a PAT connection', async () => {
      const scan = new SecretScan([{ value: TOKEN }, { value: WRONG_TOKEN }, { value: PAT, usernames: ['pat', ''] }]);
      const robot = ado.addIdentity({ displayName: 'GitOps Robot', uniqueName: 'gitops-robot@example.com' });
      ado.addToken(PAT, robot);
      await ado.createRepo('Edge', 'gitops', gitopsFiles({ devtest: BASE_PINS, qa: BASE_PINS }));
      const copies: string[] = [];
      const pr = async (label: string, inputs: Record<string, string | boolean>, bump: Record<string, string>, extra: Partial<TaskRunOptions> = {}) => {
        const dir = await workingCopy(ado, 'Edge', 'gitops', TOKEN);
        copies.push(dir);
        const changes = await applyBump(dir, String(inputs.environment ?? 'devtest'), bump);
        const { run, temp } = await agentRun('CreateEnvPR', {
          inputs: { gitopsPath: dir, environment: 'devtest', changes, ...inputs },
          accessToken: TOKEN,
          collectionUrl: ado.collectionUrl,
          cwd: dir,
          env: { GIT_CONFIG_GLOBAL: '/dev/null' },
          ...extra,
        });
        scan.taskRun(label, run);
        await scan.tree(`${label} agent temp`, temp);
        return run;
      };
      assert.equal((await pr('open', {}, { heuristic: 'v1.5.0' })).outputs.created, 'true');
      assert.equal((await pr('update', {}, { heuristic: 'v1.5.1' })).outputs.created, 'false');
      assert.equal((await pr('dry run', { dryRun: true }, { heuristic: 'v1.5.2' })).result, 'Succeeded');
      assert.equal((await pr('refused token', {}, { heuristic: 'v1.5.3' }, { accessToken: WRONG_TOKEN })).result, 'Failed');
      const viaPat = await pr('PAT connection', { environment: 'qa', connection: 'gitops-org' }, { heuristic: 'v1.6.0' }, {
        accessToken: undefined,
        endpoints: { 'gitops-org': { url: ado.collectionUrl, scheme: 'Token', parameters: { apitoken: PAT } } },
      });
      assert.equal(viaPat.result, 'Succeeded', viaPat.errors.join('\n'));
      for (const dir of copies) {
        await scan.tree('working copy', dir);
        await scan.gitConfig('working copy', dir);
      }
      scan.assertClean();
      for (const dir of copies) await fs.rm(dir, { recursive: true, force: true });
    });
  });
});
