import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Git } from '../../shared/git/git';
import { remoteEnv } from '../../shared/git/remote';
import { AdoServer } from '../../stand-ins/azure-devops';
import { gitopsTree } from '../helpers/gitops-tree';
import { repoRoot } from '../helpers/run-task';

const TOKEN = 'runner-token-5a1f0e';

/** `npm run task -- --yaml -` with a step pasted on stdin; the token only in the environment. */
function runner(yaml: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'build', 'tools', 'run.js'), '--yaml', '-', ...args], {
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
    assert.match(result.out, /Unknown task 'TagComponent': tasks are BuildRustContainers, CreateEnvPR, TagComponents, UpdateGitOpsVersions/);
  });
});
