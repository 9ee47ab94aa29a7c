import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AdoServer } from '../../stand-ins/azure-devops';
import { edgeAiApp, edgeAiService, type FixtureRepo } from '../helpers/edge-ai';
import { runTask, type TaskRun } from '../helpers/run-task';

// Issue 13, items 3 and 4, on the app repository shaped like microsoft/edge-ai: what changed is known from
// the folder-name tags its script wrote (`broker/0.1.0`), or from this pipeline's last successful run.

const explain = (result: TaskRun) => `${result.message}\n${result.errors.join('\n')}\n${result.stdout.slice(-3000)}`;
const ALL = ['ai-edge-mqtt-publisher', 'http-connector', 'receiver', 'sender', 'subscriber'];

/** BuildRustContainers in plan mode without a registry: which components would be built, and the run. */
async function plan(app: FixtureRepo, inputs: Record<string, string | boolean>, more: Partial<Parameters<typeof runTask>[1]> = {}) {
  const result = await runTask('BuildRustContainers', {
    inputs: { componentsPath: app.dir, registry: 'edgeacr.azurecr.io', mode: 'plan', push: false, changedOnly: true, ...inputs },
    cwd: app.dir,
    ...more,
  });
  const matrix = result.outputs.matrix ? (JSON.parse(result.outputs.matrix) as Record<string, { component: string }>) : {};
  return { result, planned: Object.values(matrix).map((leg) => leg.component).sort() };
}

const touch = (app: FixtureRepo, folder: string) =>
  app.commit({ [path.join(edgeAiService(folder).path, 'src', 'main.rs')]: `fn main() {\n    println!("${folder} changed");\n}\n` }, `Change ${folder}`);

describe('Tags the original wrote: {dir} and legacyTagFormats (issue 13, item 3)', function () {
  this.timeout(120_000);
  let app: FixtureRepo;

  before(async () => {
    app = await edgeAiApp();
  });
  after(async () => {
    if (app) await fs.rm(app.dir, { recursive: true, force: true });
  });

  it("TagComponents with tagFormat '{dir}/{version}' makes exactly the script's tags: those it made are already there", async () => {
    const result = await runTask('TagComponents', { inputs: { componentsPath: app.dir, tagFormat: '{dir}/{version}', message: 'Tag {dir} {version}', push: false, dryRun: true }, cwd: app.dir });
    assert.equal(result.result, 'Succeeded', explain(result));
    const components = JSON.parse(result.outputs.components) as Array<{ name: string; tag: string; status: string }>;
    assert.deepEqual(components.map((c) => [c.name, c.tag, c.status]), [
      ['ai-edge-inference-crate', 'ai-edge-inference-crate/0.2.0', 'exists'],
      ['ai-edge-mqtt-publisher', 'ai-edge-inference/0.2.0', 'exists'],
      ['http-connector', 'broker/0.1.0', 'exists'],
      ['receiver', 'receiver/0.1.0', 'exists'],
      ['sender', 'sender/0.1.0', 'exists'],
      ['subscriber', 'subscriber/0.1.0', 'exists'],
    ]);
    // {path} is not a placeholder; the message names {dir} among those that are.
    const refused = await runTask('TagComponents', { inputs: { componentsPath: app.dir, tagFormat: '{path}/{version}', push: false, dryRun: true }, cwd: app.dir });
    assert.equal(refused.result, 'Failed');
    assert.match(refused.message, /tagFormat '\{path\}\/\{version\}' uses \{path\}, which is not known: use \{name\}, \{version\}, \{dir\}\./);
  });

  it('changedOnly finds the folder-name tags through legacyTagFormats, and builds only what changed since them', async () => {
    await touch(app, 'broker');
    const before = await plan(app, {});
    assert.equal(before.result.result, 'Succeeded', explain(before.result));
    // sender's folder is its package's name, so its tag reads as the task's own; the renamed packages have none.
    assert.deepEqual(before.planned, ['ai-edge-mqtt-publisher', 'http-connector'], 'without them every renamed package is rebuilt, changed or not');
    assert.match(before.result.stdout, /ai-edge-mqtt-publisher: affected \(no earlier component tag\)/);

    const after = await plan(app, { legacyTagFormats: '{dir}/{version}' });
    assert.equal(after.result.result, 'Succeeded', explain(after.result));
    assert.deepEqual(after.planned, ['http-connector']);
    assert.match(after.result.stdout, /http-connector: affected \(src\/500-application\/502-rust-http-connector\/services\/broker\/src\/main\.rs changed since broker\/0\.1\.0\)/);
    assert.match(after.result.stdout, /ai-edge-mqtt-publisher: unchanged \(nothing it uses changed since ai-edge-inference\/0\.2\.0\)/);

    // The same tags as the current tagFormat; the newest version among all formats wins: once TagComponents
    // tags the next release in its own form, that tag is where changes are counted from.
    assert.deepEqual((await plan(app, { tagFormat: '{dir}/{version}' })).planned, ['http-connector']);
    const manifest = path.join(edgeAiService('broker').path, 'Cargo.toml');
    await app.commit({ [manifest]: (await fs.readFile(path.join(app.dir, manifest), 'utf8')).replace('version = "0.1.0"', 'version = "0.1.1"') }, 'http-connector 0.1.1');
    await app.git('tag', '-a', 'http-connector/0.1.1', '-m', 'http-connector 0.1.1');
    await app.commit({ 'README.md': 'Edge services\n' }, 'Docs');
    const released = await plan(app, { legacyTagFormats: '{dir}/{version}' });
    assert.deepEqual(released.planned, []);
    assert.match(released.result.stdout, /http-connector: unchanged \(nothing it uses changed since http-connector\/0\.1\.1\)/);

    const noVersion = await plan(app, { legacyTagFormats: '{dir}/latest' });
    assert.equal(noVersion.result.result, 'Failed');
    assert.match(noVersion.result.message, /legacyTagFormats '\{dir\}\/latest' has no \{version\}/);
  });
});

describe('changedSince: lastSuccessfulBuild, against the Azure DevOps stand-in (issue 13, item 4)', function () {
  this.timeout(120_000);
  const token = 'job-token-builds-7d1e';
  let ado: AdoServer;
  let app: FixtureRepo;
  let commits: Record<string, string>;

  before(async () => {
    ado = await AdoServer.start(token);
    app = await edgeAiApp();
    commits = { tagged: await app.git('rev-parse', 'HEAD'), sender: await touch(app, 'sender'), broker: await touch(app, 'broker') };
    const hour = (n: number) => new Date(Date.UTC(2026, 0, 1, n));
    // The pipeline (7) on main: an older success, the last success (at the sender change), a newer failure.
    ado.addBuild('Edge', { definitionId: 7, sourceBranch: 'refs/heads/main', sourceVersion: commits.tagged, finishTime: hour(1) });
    ado.addBuild('Edge', { definitionId: 7, sourceBranch: 'refs/heads/main', sourceVersion: commits.sender, finishTime: hour(2) });
    ado.addBuild('Edge', { definitionId: 7, sourceBranch: 'refs/heads/main', sourceVersion: commits.broker, result: 'failed', finishTime: hour(3) });
    // Not this pipeline's, or not this branch's, or not finished: none counts.
    ado.addBuild('Edge', { definitionId: 8, sourceBranch: 'refs/heads/main', sourceVersion: commits.broker, finishTime: hour(4) });
    ado.addBuild('Edge', { definitionId: 7, sourceBranch: 'refs/heads/feature', sourceVersion: commits.broker, finishTime: hour(4) });
    ado.addBuild('Edge', { definitionId: 7, sourceBranch: 'refs/heads/main', sourceVersion: commits.broker, status: 'inProgress' });
    // The feature/shallow branch's last success built a commit no clone of this repository has.
    ado.addBuild('Edge', { definitionId: 7, sourceBranch: 'refs/heads/shallow', sourceVersion: 'f'.repeat(40), finishTime: hour(5) });
  });
  after(async () => {
    await ado?.stop();
    if (app) await fs.rm(app.dir, { recursive: true, force: true });
  });

  const pipeline = (branch: string, accessToken = token) => ({
    accessToken,
    collectionUrl: ado.collectionUrl,
    variables: { 'System.TeamProject': 'Edge', 'System.DefinitionId': '7', 'Build.SourceBranch': branch },
  });

  it("compares with the commit of the pipeline's last successful run on the branch (BuildApi.getBuilds, the job's token)", async () => {
    const seen = ado.requests.length;
    const { result, planned } = await plan(app, { changedSince: 'lastSuccessfulBuild' }, pipeline('refs/heads/main'));
    assert.equal(result.result, 'Succeeded', explain(result));
    assert.deepEqual(planned, ['http-connector'], 'sender changed before that run, broker after it');
    assert.match(result.stdout, /changedSince lastSuccessfulBuild: the last successful run 20260101\.2 \(\w{12}\) on refs\/heads\/main/);
    assert.match(result.stdout, /sender: unchanged \(nothing it uses changed since last successful run 20260101\.2/);
    const list = ado.requests.slice(seen).find((r) => r.method === 'GET' && r.url.includes('/_apis/build/builds'))!;
    const query = new URL(list.url, 'http://x').searchParams;
    assert.equal(new URL(list.url, 'http://x').pathname, '/edge/Edge/_apis/build/builds');
    assert.deepEqual(
      Object.fromEntries(['definitions', 'branchName', 'statusFilter', 'resultFilter', '$top', 'queryOrder'].map((k) => [k, query.get(k)])),
      { definitions: '7', branchName: 'refs/heads/main', statusFilter: '2', resultFilter: '2', $top: '1', queryOrder: '3' },
    );
  });

  it('builds everything, with a warning, when the branch has no successful run yet, or its commit is not in the clone', async () => {
    const none = await plan(app, { changedSince: 'lastSuccessfulBuild' }, pipeline('refs/heads/new-branch'));
    assert.equal(none.result.result, 'Succeeded', explain(none.result));
    assert.deepEqual(none.planned, ALL);
    assert.deepEqual(none.result.warnings, ['changedSince lastSuccessfulBuild: no successful run of this pipeline on refs/heads/new-branch yet, so every component is built.']);

    const shallow = await plan(app, { changedSince: 'lastSuccessfulBuild' }, pipeline('refs/heads/shallow'));
    assert.deepEqual(shallow.planned, ALL);
    assert.match(shallow.result.warnings.join('\n'), /the last successful run 20260101\.7 \(ffffffffffff\) built a commit this clone does not have \(a shallow checkout\? check out with fetchDepth: 0\), so every component is built\./);
  });

  it('fails clearly on a refused token, or outside a pipeline', async () => {
    const refused = await plan(app, { changedSince: 'lastSuccessfulBuild' }, pipeline('refs/heads/main', 'not-the-token'));
    assert.equal(refused.result.result, 'Failed');
    assert.match(refused.result.message, /The job's access token was refused by http:\/\/127\.0\.0\.1:\d+\/edge\/ while reading the last successful run of pipeline 7 on refs\/heads\/main \(HTTP 401\)/);
    const outside = await plan(app, { changedSince: 'lastSuccessfulBuild' });
    assert.equal(outside.result.result, 'Failed');
    assert.match(outside.result.message, /changedSince 'lastSuccessfulBuild' asks Azure Pipelines for this pipeline's last successful run, which needs .*System\.DefinitionId/);
  });
});
