import { strict as assert } from 'node:assert';
import { GitStatusState } from 'azure-devops-node-api/interfaces/GitInterfaces';
import type { Log } from '../../../shared/agent';
import { azureReposRepository, markMerged, marksFor, markPending } from '../../../shared/gitops/promotion-marks';
import { gitApi } from '../../../shared/repos/azure-repos';
import { StatusClient } from '../../../shared/repos/statuses';
import { AdoServer } from '../../../stand-ins/azure-devops';

/** Pull request and commit statuses: the stand-in's endpoints through the real azure-devops-node-api client, and the promotion marks on them. */
describe('statuses (the Azure DevOps stand-in through azure-devops-node-api)', function () {
  this.timeout(60_000);
  const token = 'status-token-1a2b3c4d';
  const warnings: string[] = [];
  const log: Log = { debug: () => undefined, info: () => undefined, warn: (m) => warnings.push(m), setSecret: () => undefined };
  let ado: AdoServer;
  let client: StatusClient;
  let appCommit: string;

  before(async () => {
    ado = await AdoServer.start(token);
    await ado.createRepo('Edge', 'app', { 'Cargo.toml': '[workspace]\n' });
    appCommit = (await ado.branchTip('Edge', 'app', 'main'))!;
    client = new StatusClient({ collectionUrl: ado.collectionUrl, token, log });
  });
  after(() => ado.stop());
  beforeEach(() => {
    warnings.length = 0;
  });

  it('serves commit statuses as the service does: newest first, latestOnly per genre and name, 404 for an unknown commit, 400 without a name', async () => {
    const api = gitApi(ado.collectionUrl, token);
    const post = (name: string, state: GitStatusState, genre = 'ci') => api.createCommitStatus({ state, context: { name, genre }, description: `${name} ${state}` }, appCommit, 'app', 'Edge');
    const first = await post('build', GitStatusState.Pending);
    assert.deepEqual([first.id, first.state, first.context], [1, GitStatusState.Pending, { name: 'build', genre: 'ci' }]);
    assert.equal(first.createdBy?.id, ado.buildService.id);
    await post('build', GitStatusState.Succeeded);
    await post('lint', GitStatusState.Failed);
    const all = await api.getStatuses(appCommit, 'app', 'Edge');
    assert.deepEqual(all.map((s) => [s.id, s.context?.name, s.state]), [[3, 'lint', GitStatusState.Failed], [2, 'build', GitStatusState.Succeeded], [1, 'build', GitStatusState.Pending]]);
    const latest = await api.getStatuses(appCommit, 'app', 'Edge', undefined, undefined, true);
    assert.deepEqual(latest.map((s) => s.id), [3, 2]);
    assert.deepEqual((await api.getStatuses(appCommit, 'app', 'Edge', 1, 1)).map((s) => s.id), [2]);
    // the client answers a 404 with null (as it answers a cut answer): the status client tells them apart
    assert.equal(await api.createCommitStatus({ state: GitStatusState.Pending, context: { name: 'x' } }, 'f'.repeat(40), 'app', 'Edge'), null);
    await assert.rejects(client.onCommit('Edge', 'app', 'f'.repeat(40), { name: 'x', state: 'pending', description: '' }), /posting the status 'x' on commit ffffffffffff: not found \(HTTP 404\)/);
    await assert.rejects(api.createCommitStatus({ state: GitStatusState.Pending, context: { genre: 'ci' } }, appCommit, 'app', 'Edge'), (e: { statusCode?: number; message: string }) => e.statusCode === 400 && /context name cannot be null or empty/.test(e.message));
    assert.deepEqual(ado.commitStatuses('app', appCommit).map((s) => s.id), [1, 2, 3]);
  });

  it('serves pull request statuses, each a new one (the newest of a genre and name is what the pull request shows)', async () => {
    const gitops = await ado.createRepo('Edge', 'gitops-pr', { 'versions.yaml': 'schemaVersion: 1\n' });
    await ado.commitFiles(gitops, 'gitops/devtest', { 'versions.yaml': 'schemaVersion: 1\nenvironments: {}\n' }, 'change');
    const api = gitApi(ado.collectionUrl, token);
    const pr = await api.createPullRequest({ sourceRefName: 'refs/heads/gitops/devtest', targetRefName: 'refs/heads/main', title: 't' }, gitops.id, 'Edge');
    await client.onPullRequest('Edge', gitops.id, pr.pullRequestId!, { name: 'validate-gitops', state: 'failed', description: '1 finding(s) in devtest', targetUrl: 'https://run/1' });
    await client.onPullRequest('Edge', 'gitops-pr', pr.pullRequestId!, { name: 'validate-gitops', state: 'succeeded', description: '1 environment(s) valid' });
    const listed = await api.getPullRequestStatuses(gitops.id, pr.pullRequestId!, 'Edge');
    assert.deepEqual(listed.map((s) => [s.id, s.state, s.context?.genre, s.context?.name, s.description, s.targetUrl]), [
      [1, GitStatusState.Failed, 'rust-gitops-release', 'validate-gitops', '1 finding(s) in devtest', 'https://run/1'],
      [2, GitStatusState.Succeeded, 'rust-gitops-release', 'validate-gitops', '1 environment(s) valid', undefined],
    ]);
    await assert.rejects(client.onPullRequest('Edge', gitops.id, 999, { name: 'validate-gitops', state: 'failed', description: '' }), /on pull request 999: not found \(HTTP 404\)/);
  });

  it('promotion marks: pending for a pull request, then succeeded after the merge, once', async () => {
    const marks = marksFor([{ component: 'heuristic', revision: appCommit, source: ado.remoteUrl('Edge', 'app') }, { component: 'collector' }], 'devtest', ado.collectionUrl);
    assert.deepEqual(marks, { marks: [{ environment: 'devtest', revision: appCommit, project: 'Edge', repository: 'app' }], skipped: [] });
    assert.equal(await markPending(client, marks.marks, { id: 12, url: 'https://pr/12', targetBranch: 'main' }, log), 1);
    const mark = ado.commitStatuses('app', appCommit).at(-1)!;
    assert.deepEqual([mark.context, mark.state, mark.description, mark.targetUrl], [{ genre: 'rust-gitops-release', name: 'gitops/devtest' }, 'pending', 'PR !12 into main', 'https://pr/12']);

    const app = azureReposRepository(ado.remoteUrl('Edge', 'app'))!;
    const revisions = [{ environment: 'devtest', revision: appCommit }, { environment: 'qa', revision: appCommit }];
    assert.equal(await markMerged(client, revisions, [app], { branch: 'main', commit: 'abcdef0123456789', url: 'https://run/2' }, log), 1, 'only the pending mark is turned');
    const merged = ado.commitStatuses('app', appCommit).at(-1)!;
    assert.deepEqual([merged.context.name, merged.state, merged.description], ['gitops/devtest', 'succeeded', 'merged into main (abcdef012345)']);
    assert.equal(await markMerged(client, revisions, [app], { branch: 'main', commit: 'abcdef0123456789' }, log), 0, 'a second run turns nothing');
    assert.deepEqual(warnings, []);
  });

  it('a refused mark is a warning that names the permission, never an error', async () => {
    ado.denyPermission(ado.buildService, 'GenericContribute');
    const posted = await markPending(client, [{ environment: 'prod', revision: appCommit, project: 'Edge', repository: 'app' }], { id: 13, url: 'https://pr/13', targetBranch: 'main' }, log);
    assert.equal(posted, 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^Could not mark commit \w{12} of Edge\/app gitops\/prod: pending: the build service may not \(HTTP 403: TF401027: You need the Git 'GenericContribute' permission.*grant it 'Contribute' on the app repository 'app'/);
  });

  it('reads the app repository of an image from its source URL (dev.azure.com, visualstudio.com, a server), and refuses others', () => {
    assert.deepEqual(azureReposRepository('https://edge@dev.azure.com/edge/Edge%20Apps/_git/app'), { collectionUrl: 'https://dev.azure.com/edge/', project: 'Edge Apps', repository: 'app' });
    assert.deepEqual(azureReposRepository('https://dev.azure.com/edge/_git/app'), { collectionUrl: 'https://dev.azure.com/edge/', project: 'app', repository: 'app' });
    assert.deepEqual(azureReposRepository('https://edge.visualstudio.com/Edge/_git/app'), { collectionUrl: 'https://edge.visualstudio.com/', project: 'Edge', repository: 'app' });
    assert.deepEqual(azureReposRepository('https://tfs.example.com/tfs/Main/Edge/_git/app'), { collectionUrl: 'https://tfs.example.com/tfs/Main/', project: 'Edge', repository: 'app' });
    for (const other of ['https://github.com/edge/app', 'git@ssh.dev.azure.com:v3/edge/Edge/app', '/work/app', undefined]) assert.equal(azureReposRepository(other), undefined, String(other));
    // marks go to the source's repository in this collection, else to the run's own; another organisation's are skipped
    const fallback = { project: 'Edge', repository: 'own-id' };
    assert.deepEqual(marksFor([{ component: 'a', revision: 'abc1234' }], 'qa', 'https://dev.azure.com/edge/', fallback).marks, [{ environment: 'qa', revision: 'abc1234', ...fallback }]);
    assert.deepEqual(marksFor([{ component: 'a', revision: 'abc1234', source: 'https://dev.azure.com/other/P/_git/app' }], 'qa', 'https://dev.azure.com/edge/', fallback), {
      marks: [],
      skipped: ['a (built in https://dev.azure.com/other/P/_git/app, outside https://dev.azure.com/edge/)'],
    });
  });
});
