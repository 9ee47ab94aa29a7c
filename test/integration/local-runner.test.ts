import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Git } from '../../shared/git/git';
import { remoteEnv } from '../../shared/git/remote';
import { AdoServer } from '../../stand-ins/azure-devops';
import { edgeAiApp, edgeAiGitops, edgeAiService } from '../helpers/edge-ai';
import { gitopsTree } from '../helpers/gitops-tree';
import { repoRoot } from '../helpers/run-task';

const TOKEN = 'runner-token-5a1f0e';

/** `npm run task -- --yaml -` with a step pasted on stdin (or `--yaml <file>` in args, yaml empty); the token only in the environment. */
function runner(yaml: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'build', 'tools', 'run.js'), ...(yaml ? ['--yaml', '-'] : []), ...args], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SYSTEM_ACCESSTOKEN: TOKEN },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
    child.stdin.end(yaml);
  });
}

describe('npm run task: the local runner, from a YAML step pasted from a pipeline', function () {
  let ado: AdoServer;
  let work: string;
  before(async () => {
    ado = await AdoServer.start(TOKEN);
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'runner-'));
  });
  after(async () => {
    await ado.stop();
    await fs.rm(work, { recursive: true, force: true });
  });

  it('runs TagComponents and BuildRustContainers (plan) on an app repo', async () => {
    await ado.createRepo('Edge', 'app', {
      'Cargo.toml': '[workspace]\nmembers = ["svc/*"]\n[workspace.package]\nversion = "2.0.1"\n',
      'svc/ingest/Cargo.toml': '[package]\nname = "ingest"\nversion.workspace = true\n',
      'svc/ingest/src/main.rs': 'fn main() {}\n',
      'svc/ingest/Dockerfile': 'FROM scratch\n',
    });
    const app = path.join(work, 'app');
    await new Git(work).run(['clone', '--quiet', ado.remoteUrl('Edge', 'app'), app], { env: remoteEnv({ token: TOKEN }).env });
    const tag = await runner('- task: TagComponents@1\n  displayName: Tag\n  inputs:\n    dryRun: true\n', ['--collection-url', ado.collectionUrl], app);
    assert.equal(tag.code, 0, tag.out);
    assert.match(tag.out, /=== TagComponents ===/);
    assert.match(tag.out, /^ {2}tags = ingest\/2\.0\.1$/m);
    assert.match(tag.out, /Result: Succeeded/);

    const plan = await runner(
      'steps:\n  - task: BuildRustContainers@1\n    inputs:\n      mode: plan\n      push: false\n      registry: myacr.azurecr.io\n      preRelease: rc.$(Build.BuildId)\n',
      ['--var', 'Build.BuildId=77'],
      app,
    );
    assert.equal(plan.code, 0, plan.out);
    const matrix = JSON.parse(/^ {2}matrix = (.*)$/m.exec(plan.out)![1]) as Record<string, Record<string, string>>;
    assert.equal(matrix.ingest.component, 'ingest');
    assert.match(JSON.stringify(matrix), /v2\.0\.1-rc\.77/);
    assert.ok(!tag.out.includes(TOKEN) && !plan.out.includes(TOKEN));
  });

  it('runs UpdateGitOpsVersions then CreateEnvPR on a GitOps working copy', async () => {
    const seed = await gitopsTree('myacr.azurecr.io');
    const files: Record<string, string> = {};
    for (const file of await fs.readdir(seed, { recursive: true, encoding: 'utf8' })) {
      const full = path.join(seed, file);
      if ((await fs.stat(full)).isFile()) files[file] = await fs.readFile(full, 'utf8');
    }
    await fs.rm(seed, { recursive: true, force: true });
    await ado.createRepo('Edge', 'gitops', files);
    const gitops = path.join(work, 'gitops');
    await new Git(work).run(['clone', '--quiet', ado.remoteUrl('Edge', 'gitops'), gitops], { env: remoteEnv({ token: TOKEN }).env });
    const update = await runner(
      '- task: UpdateGitOpsVersions@1\n  name: update\n  inputs:\n    gitopsPath: .\n    environment: devtest\n    images: heuristic=v1.4.2\n    pinDigest: false\n',
      [],
      gitops,
    );
    assert.equal(update.code, 0, update.out);
    assert.match(update.out, /^ {2}changed = true$/m);
    const changes = /^ {2}changes = (.*)$/m.exec(update.out)![1];
    assert.equal((JSON.parse(changes) as Array<{ component: string }>)[0].component, 'heuristic');

    const pr = await runner(
      `- task: CreateEnvPR@1\n  inputs:\n    gitopsPath: .\n    environment: devtest\n    changes: '${changes}'\n`,
      ['--collection-url', ado.collectionUrl, '--var', 'System.TeamProject=Edge'],
      gitops,
    );
    assert.equal(pr.code, 0, pr.out);
    assert.match(pr.out, /^ {2}pullRequestId = 1$/m);
    assert.match(pr.out, /^ {2}created = true$/m);
    assert.equal(ado.pullRequests('gitops').length, 1);
    assert.ok(!pr.out.includes(TOKEN));
  });

  it('says which tasks exist when the step names an unknown one, and fails', async () => {
    const result = await runner('- task: TagComponent@1\n', [], work);
    assert.equal(result.code, 2);
    assert.match(result.out, /stdin: step 1: Unknown task 'TagComponent' \(did you mean TagComponents\?\): tasks are BuildRustContainers, CreateEnvPR, TagComponents, UpdateGitOpsVersions/);
  });

  it('runs a two-job pipeline file on the edge-ai fixtures: parameters (defaults and --param), an output variable across jobs, built-in steps skipped', async () => {
    const app = await edgeAiApp();
    const gitops = await edgeAiGitops();
    try {
      const sender = edgeAiService('sender');
      const manifest = path.join(sender.path, 'Cargo.toml');
      await app.commit({ [manifest]: (await fs.readFile(path.join(app.dir, manifest), 'utf8')).replace('version = "0.1.0"', 'version = "0.2.0"') }, 'sender 0.2.0');
      const pipeline = path.join(repoRoot, 'test', 'fixtures', 'local-runner', 'edge-ai-release.yml');
      const before = await app.git('status', '--porcelain');
      const { code, out } = await runner('', ['--yaml', pipeline, '--param', `app=${app.dir}`, '--param', `gitops=${gitops.dir}`, '--param', 'service=sender', '--var', 'Build.BuildId=77'], work);
      assert.equal(code, 0, out);
      // Built-in steps: a notice each, in both jobs.
      assert.match(out, /^NOTICE: skipped: checkout: self does not run locally$/m);
      assert.match(out, /^NOTICE: skipped: built-in task AzureCLI@2 \('Log in to the registry'\) does not run locally$/m);
      assert.match(out, /^NOTICE: skipped: checkout: gitops does not run locally$/m);
      // Job build, with --param service=sender over the default (receiver) and the registry's default.
      const build = out.slice(out.indexOf('##### Job build'), out.indexOf('##### Job release'));
      assert.match(build, /=== build: TagComponents \(tag\) ===/);
      assert.match(build, /^ {2}tags = sender\/0\.2\.0$/m);
      const matrix = JSON.parse(/^ {2}matrix = (.*)$/m.exec(build)![1]) as Record<string, Record<string, string>>;
      assert.deepEqual(Object.values(matrix).map((leg) => `${leg.image}:${leg.tag}`), ['edgeacr.azurecr.io/sender:0.2.0-rc.77']);
      // Job release reads build's tag.tags through $[ dependencies.build.outputs['tag.tags'] ], and update.changes in the job.
      const release = out.slice(out.indexOf('##### Job release'));
      assert.match(release, /^ {2}changed = true$/m);
      assert.match(release, /^Commit message: release sender 0\.2\.0 \(tags sender\/0\.2\.0\)$/m);
      assert.match(release, /Result: Succeeded: Dry run: would commit 2 changed file\(s\) \(sender 0\.2\.0\) to gitops\/devtest of Edge\/gitops/);
      assert.match(out, /^Ran 4 task step\(s\) in 2 job\(s\); skipped 3 step\(s\) that do not run locally\.$/m);
      // The dry runs wrote nothing; UpdateGitOpsVersions (not a dry run) moved devtest.
      assert.equal(await app.git('tag', '-l', 'sender/0.2.0'), '');
      assert.equal(await app.git('status', '--porcelain'), before);
      assert.match(await fs.readFile(path.join(gitops.dir, 'environments', 'devtest', 'kustomization.yaml'), 'utf8'), /newName: edgeacr\.azurecr\.io\/sender\n {4}newTag: "0\.2\.0"/);

      // As a pull request build: TagComponents only plans, saying why, and the release job's condition skips it.
      const pr = await runner('', ['--yaml', pipeline, '--param', `app=${app.dir}`, '--param', `gitops=${gitops.dir}`, '--param', 'service=sender', '--var', 'Build.Reason=PullRequest'], work);
      assert.equal(pr.code, 0, pr.out);
      assert.match(pr.out, /Result: Succeeded: Dry run \(pull request build: the commit may never merge; set onPullRequest: tag to tag anyway\): would create 1, move 0; 0 already there, 0 skipped/);
      assert.match(pr.out, /^NOTICE: skipped: job release: its condition is false$/m);
      assert.doesNotMatch(pr.out, /##### Job release|=== release/);
      assert.match(pr.out, /^Ran 2 task step\(s\) in 1 job\(s\); skipped 2 step\(s\) that do not run locally\.$/m);
    } finally {
      await fs.rm(app.dir, { recursive: true, force: true });
      await fs.rm(gitops.dir, { recursive: true, force: true });
    }
  });

  it('refuses what it cannot run faithfully before running anything, saying what and where', async () => {
    const refused = async (yaml: string, args: string[] = []) => {
      const result = await runner(yaml, args, work);
      assert.equal(result.code, 2, result.out);
      assert.doesNotMatch(result.out, /===/, 'no step ran');
      return result.out;
    };
    const tag = '      - task: TagComponents@1\n        inputs: { dryRun: true }\n';
    assert.match(await refused(`jobs:\n  - job: a\n    strategy:\n      matrix: { x: { component: a } }\n    steps:\n${tag}`), /job 'a' has a strategy \(matrix\), which the local runner does not fan out/);
    assert.match(await refused(`jobs:\n  - job: a\n    condition: eq(dependencies.b.result, 'Succeeded')\n    steps:\n${tag}`), /job 'a' has a condition the local runner does not evaluate: 'dependencies\.b\.result' is not something the local runner can read .* Remove or simplify it/);
    assert.match(await refused(`steps:\n  - template: steps/tag.yml\n${tag.replace(/^ {4}/gm, '')}`), /stdin:2: 'template:' is not supported by the local runner/);
    assert.match(await refused(`parameters:\n  - name: names\n    type: object\n    default: [a]\nsteps:\n  - \${{ each n in parameters.names }}:\n    - task: TagComponents@1\n`), /stdin:6: .* is a conditional insertion or each loop/);
    assert.match(await refused(`steps:\n  - task: TagComponents@1\n    inputs: { tagFormat: '\${{ variables.format }}' }\n`), /stdin:3: '\$\{\{ variables\.format \}\}' is not supported: the local runner expands only/);
    assert.match(await refused(`jobs:\n  - job: a\n    steps:\n${tag}  - job: b\n    variables:\n      x: $[ dependencies.a.outputs['tag.tags'] ]\n    steps:\n${tag}`), /job 'b' reads dependencies\.a, but does not list 'a' in dependsOn/);
    assert.match(await refused(`parameters:\n  - name: env\n    default: devtest\nsteps:\n${tag.replace(/^ {4}/gm, '')}`, ['--param', 'environment=qa']), /--param environment: stdin declares no parameter 'environment' \(it has: env\)/);
  });
});
