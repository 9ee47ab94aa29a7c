import { strict as assert } from 'node:assert';
import type { Log } from '../../../shared/agent';
import { AzureRepos, identityHost } from '../../../shared/repos/azure-repos';
import { AdoServer } from '../../../stand-ins/azure-devops';

/** The Azure Repos client (real azure-devops-node-api GitApi) against the stand-in. */
describe('AzureRepos client against the Azure DevOps stand-in', function () {
  this.timeout(60_000);
  const token = 'client-token-8a7b6c5d';
  const lines: string[] = [];
  const log: Log = { debug: () => undefined, info: (m) => lines.push(m), warn: (m) => lines.push(m), setSecret: () => undefined };
  let ado: AdoServer;
  const spec = { sourceBranch: 'gitops/devtest', targetBranch: 'main', title: 'chore(devtest): update 1 component(s)', description: 'table' };

  before(async () => {
    ado = await AdoServer.start(token);
  });
  after(() => ado.stop());

  async function repoWithBranch(name: string) {
    const repo = await ado.createRepo('Edge', name);
    await ado.commitFiles(repo, 'gitops/devtest', { 'versions.yaml': 'schemaVersion: 1\n' }, 'change');
    return repo;
  }
  const open = (repository: string, project = 'Edge') => AzureRepos.open({ collectionUrl: ado.collectionUrl, token, project, repository, log });

  it('resolves the repository by name or id, and the project by name or id', async () => {
    const repo = await repoWithBranch('by-id');
    const byName = await open('by-id');
    const byId = await open(repo.id, repo.project.id);
    assert.equal(byName.repository.id, repo.id);
    assert.equal(byId.repository.name, 'by-id');
    assert.equal(byId.repository.projectName, 'Edge');
  });

  it('two clients racing to open the same pull request end with one (409 TF401179 becomes an update)', async () => {
    await repoWithBranch('race409');
    const [a, b] = await Promise.all([open('race409'), open('race409')]);
    const results = await Promise.all([a.createOrUpdate({ ...spec, title: 'A' }, null), b.createOrUpdate({ ...spec, title: 'B' }, null)]);
    assert.equal(ado.pullRequests('race409').length, 1);
    assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
    assert.equal(results[0].id, results[1].id);
    assert.ok(ado.requests.some((r) => r.status === 409), 'the service answered 409');
    const loser = results.find((r) => !r.created)!;
    assert.equal(ado.pullRequests('race409')[0].title, loser.title, 'the later write is the one kept');
  });

  it('retries dropped connections on reads and writes without opening a second pull request', async () => {
    await repoWithBranch('dropped');
    ado.faults = { dropRate: 0.4, seed: 7 };
    try {
      const client = await open('dropped');
      const first = await client.createOrUpdate(spec);
      const second = await client.createOrUpdate({ ...spec, description: 'table 2' });
      assert.equal(first.id, second.id);
      assert.equal(second.created, false);
    } finally {
      ado.faults = undefined;
    }
    assert.equal(ado.pullRequests('dropped').length, 1);
    assert.equal(ado.pullRequests('dropped')[0].description, 'table 2');
    assert.ok(ado.requests.some((r) => r.fault === 'drop'));
    assert.ok(lines.some((l) => /connection failed/.test(l)));
  });

  it('links work items to an open pull request once, even when the answer to a link is lost after it was made', async () => {
    await repoWithBranch('linked');
    ado.linkWorkItems('9100', ['51', '52', '53']);
    const client = await open('linked');
    const first = await client.createOrUpdate({ ...spec, workItems: ['51'] });
    // Every link is made, then its answer cut mid-body: the client must look before linking again.
    ado.faults = { truncateRate: 1, match: (method, path) => method === 'PATCH' && /\/_apis\/wit\/workitems\//i.test(path) };
    lines.length = 0;
    try {
      await client.createOrUpdate({ ...spec, workItems: ['51', '52', '53'] });
    } finally {
      ado.faults = undefined;
    }
    assert.deepEqual(ado.pullRequests('linked')[0].workItems, ['51', '52', '53']);
    assert.equal(ado.pullRequests('linked')[0].pullRequestId, first.id);
    assert.ok(ado.requests.some((r) => r.fault === 'truncate'), 'answers were cut');
    assert.ok(!lines.some((line) => /Could not link/.test(line)), lines.join('\n'));
  });

  it('refuses a description over 4,000 characters with the service message, and an ambiguous reviewer', async () => {
    await repoWithBranch('limits');
    const client = await open('limits');
    await assert.rejects(client.createOrUpdate({ ...spec, description: 'x'.repeat(4001) }), /HTTP 400\): Invalid argument value.*cannot be longer than 4000 characters/s);
    ado.addIdentity({ displayName: 'Sam Doe', uniqueName: 'sam.doe@example.com', mail: 'sam.doe@example.com' });
    ado.addIdentity({ displayName: 'Sam Doe', uniqueName: 'sam.doe@contoso.com', mail: 'sam.doe@contoso.com' });
    await assert.rejects(client.createOrUpdate({ ...spec, reviewers: ['Sam Doe'] }), /'Sam Doe' matches 2 identities .*give the e-mail address/);
    assert.equal(ado.pullRequests('limits').length, 0);
  });

  it('the list cuts descriptions to 400 characters, as the service does; a single read does not', async () => {
    await repoWithBranch('cut400');
    const client = await open('cut400');
    const pr = await client.createOrUpdate({ ...spec, description: 'd'.repeat(1000) });
    const get = async (url: string) => (await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).json() as Promise<Record<string, unknown>>;
    const base = `${ado.collectionUrl}Edge/_apis/git/repositories/cut400/pullRequests`;
    const listed = (await get(`${base}?searchCriteria.status=active`)).value as Array<{ description: string }>;
    assert.equal(listed[0].description.length, 400);
    assert.equal(((await get(`${base}/${pr.id}`)).description as string).length, 1000);
  });

  it('asks the identity service where Azure DevOps Services keeps it', () => {
    assert.equal(identityHost('https://dev.azure.com/edge/'), 'https://vssps.dev.azure.com/edge/');
    assert.equal(identityHost('https://edge.visualstudio.com/'), 'https://edge.vssps.visualstudio.com/');
    assert.equal(identityHost('https://tfs.example.com/DefaultCollection'), 'https://tfs.example.com/DefaultCollection/');
  });
});
