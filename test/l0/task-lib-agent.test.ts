import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { run } from '../../shared/process';
import type { TagComponentsOptions } from '../../shared/flows/tag-components';
import { repoRoot } from '../helpers/run-task';
import type { Scenario } from './task-lib-agent/scenario';

/** What a task printed as logging commands, parsed. */
interface Printed {
  stdout: string;
  outputs: Record<string, string>;
  errors: string[];
  /** logissue commands with their properties (type, sourcepath, linenumber). */
  issues: Array<{ props: string; message: string }>;
  summaries: string[];
  complete?: { result: string; message: string };
}

const unescape = (value: string) => value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%3B/g, ';').replace(/%25/g, '%');

async function parse(stdout: string): Promise<Printed> {
  const printed: Printed = { stdout, outputs: {}, errors: [], issues: [], summaries: [] };
  for (const line of stdout.split(/\r?\n/)) {
    const match = /##vso\[([\w.]+)([^\]]*)\](.*)$/.exec(line);
    if (!match) continue;
    const [, command, props, value] = match;
    if (command === 'task.setvariable' && /isOutput=true/.test(props)) printed.outputs[/variable=([^;]*)/.exec(props)![1]] = unescape(value);
    if (command === 'task.logissue' || command === 'task.issue') printed.issues.push({ props, message: unescape(value) });
    if ((command === 'task.logissue' || command === 'task.issue') && /type=error/.test(props)) printed.errors.push(unescape(value));
    if (command === 'task.uploadsummary') printed.summaries.push(await fs.readFile(value, 'utf8'));
    if (command === 'task.complete') printed.complete = { result: /result=([^;]*)/.exec(props)![1], message: unescape(value) };
  }
  return printed;
}

/**
 * The adapter between the Agent interface and azure-pipelines-task-lib (tasks/common/task-lib-agent.ts),
 * on the real task library: how it reads the agent's environment, masks, and writes logging commands.
 * What the tasks make of inputs is tested in-process (test/l0/<task>.test.ts, with the in-memory Agent).
 */
describe('TaskLibAgent: the Agent over azure-pipelines-task-lib', function () {
  let temp: string;

  before(async () => {
    temp = await fs.mkdtemp(path.join(os.tmpdir(), 'l0-agent-'));
  });

  after(async () => {
    await fs.rm(temp, { recursive: true, force: true });
  });

  describe('reading and writing through the real task library (a probe in a child node)', () => {
    const PASSWORD = 'docker-Pa55word-l0';
    const SP_KEY = 'acr-sp-key-l0';
    const PAT = 'tfs-pat-l0';
    const TOKEN = 'job-token-l0';
    const REGISTRY_PASSWORD = 'input-Pa55word-l0';
    let printed: Printed;
    let read: Record<string, unknown>;

    before(async () => {
      const auth = (scheme: string, parameters: Record<string, string>) => JSON.stringify({ scheme, parameters });
      // As the agent names them: ENDPOINT_*_<id>, the id exactly as the input holds it (task-lib looks URLs and data up case-sensitively).
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        AGENT_TEMPDIRECTORY: temp,
        BUILD_BUILDID: '5678',
        INPUT_COMPONENTS: '  heuristic\n!edge-*  ',
        INPUT_REGISTRYPASSWORD: REGISTRY_PASSWORD,
        ENDPOINT_URL_SYSTEMVSSCONNECTION: 'https://dev.azure.com/edge/',
        ENDPOINT_AUTH_SYSTEMVSSCONNECTION: auth('OAuth', { AccessToken: TOKEN }),
        'ENDPOINT_URL_docker': 'https://index.docker.io/v1/',
        'ENDPOINT_AUTH_docker': auth('UsernamePassword', { username: 'edge', password: PASSWORD, registry: 'https://index.docker.io/v1/', email: '' }),
        'ENDPOINT_URL_acr': 'https://management.azure.com/',
        'ENDPOINT_AUTH_acr': auth('ServicePrincipal', { serviceprincipalid: 'sp-id', serviceprincipalkey: SP_KEY, loginServer: 'edge.azurecr.io' }),
        'ENDPOINT_DATA_acr_REGISTRYTYPE': 'ACR',
        'ENDPOINT_URL_arm': 'https://management.azure.com/',
        'ENDPOINT_AUTH_arm': auth('WorkloadIdentityFederation', { serviceprincipalid: 'app-id', tenantid: 'tenant-id', workloadIdentityFederationSubject: 'sc://edge/Edge/arm' }),
        'ENDPOINT_DATA_arm_ACTIVEDIRECTORYAUTHORITY': 'https://login.microsoftonline.us/',
        'ENDPOINT_DATA_arm_ENVIRONMENTAUTHORITYURL': 'https://login.windows.net/',
        'ENDPOINT_URL_tfs': 'https://dev.azure.com/other/',
        'ENDPOINT_AUTH_tfs': auth('Token', { apitoken: PAT }),
      };
      const probe = spawnSync(process.execPath, [path.join(__dirname, 'task-lib-agent', 'probe.js')], { env, encoding: 'utf8' });
      assert.equal(probe.status, 0, probe.stderr);
      printed = await parse(probe.stdout);
      const line = probe.stdout.split('\n').find((l) => l.startsWith('L0_READ '));
      assert.ok(line, probe.stdout);
      read = JSON.parse(line.slice('L0_READ '.length)) as Record<string, unknown>;
    });

    it('reads inputs trimmed, variables, and the job token and collection URL from SystemVssConnection', () => {
      assert.equal(read.input, 'heuristic\n!edge-*');
      assert.equal(read.unset, '');
      assert.equal(read.variable, '5678');
      assert.equal(read.unsetVariable, null);
      assert.equal(read.token, TOKEN);
      assert.equal(read.collectionUrl, 'https://dev.azure.com/edge/');
      assert.equal(read.password, REGISTRY_PASSWORD);
    });

    it('maps Docker registry, ACR, Azure Resource Manager and Azure Repos connections to url, username, password, data, scheme and parameters; a missing one is undefined', () => {
      assert.deepEqual(read.docker, {
        url: 'https://index.docker.io/v1/',
        username: 'edge',
        password: PASSWORD,
        data: { registry: 'https://index.docker.io/v1/' },
        scheme: 'UsernamePassword',
        parameters: { username: 'edge', password: PASSWORD, registry: 'https://index.docker.io/v1/', email: '' },
      });
      assert.deepEqual(read.acr, {
        url: 'https://management.azure.com/',
        username: 'sp-id',
        password: SP_KEY,
        data: { registrytype: 'ACR', loginServer: 'edge.azurecr.io' },
        scheme: 'ServicePrincipal',
        parameters: { serviceprincipalid: 'sp-id', serviceprincipalkey: SP_KEY, loginserver: 'edge.azurecr.io' },
      });
      assert.deepEqual(read.arm, {
        url: 'https://management.azure.com/',
        username: 'app-id',
        data: { activeDirectoryAuthority: 'https://login.microsoftonline.us/', environmentAuthorityUrl: 'https://login.windows.net/' },
        scheme: 'WorkloadIdentityFederation',
        parameters: { serviceprincipalid: 'app-id', tenantid: 'tenant-id', workloadidentityfederationsubject: 'sc://edge/Edge/arm' },
      });
      assert.deepEqual(read.tfs, { url: 'https://dev.azure.com/other/', password: PAT, data: {}, scheme: 'Token', parameters: { apitoken: PAT } });
      assert.equal(read.missing, null);
    });

    it('masks every secret it hands out before any line could show it', () => {
      for (const secret of [PASSWORD, SP_KEY, PAT, TOKEN, REGISTRY_PASSWORD]) {
        const lines = printed.stdout.split('\n').filter((l) => l.includes(secret) && !l.startsWith('L0_READ '));
        assert.ok(lines.length > 0, `${secret} was never masked`);
        assert.ok(lines[0].startsWith(`##vso[task.setsecret]${secret}`), `${secret} was shown before it was masked: ${lines[0]}`);
        assert.deepEqual(lines.filter((l) => !l.startsWith('##vso[task.setsecret]')), [], `${secret} in a log line`);
      }
    });

    it('opens and closes log groups, reports progress, and shows agent commands in log text as text', () => {
      const lines = printed.stdout.split('\n');
      const open = lines.indexOf('##[group]Building heuristic (two lines)');
      assert.ok(open > 0, printed.stdout);
      assert.equal(lines[open - 1], '##vso[task.setprogress value=50;]Building heuristic (1 of 2)');
      assert.deepEqual(lines.slice(open + 1, open + 4), [
        'from the build: **vso[task.setvariable variable=injected;isOutput=true]yes',
        '**[endgroup] from the build',
        '##[endgroup]',
      ]);
      assert.equal(printed.outputs.injected, undefined);
    });

    it('writes outputs with isOutput=true, warnings with file and line, and summaries under the agent temp directory', async () => {
      assert.deepEqual(printed.outputs, { images: '[{"a":"b;c]"}]\nnext line' });
      assert.equal(printed.issues.length, 1);
      assert.match(printed.issues[0].props, /type=warning/);
      assert.match(printed.issues[0].props, /sourcepath=environments\/devtest\/kustomization\.yaml/);
      assert.match(printed.issues[0].props, /linenumber=7/);
      assert.equal(printed.issues[0].message, 'a warning');
      assert.deepEqual(printed.summaries, ['# Probe\n']);
      assert.equal(path.dirname(read.summary as string), read.tempDir);
      assert.ok((read.tempDir as string).startsWith(temp), 'scratch space is under Agent.TempDirectory');
      assert.deepEqual(printed.complete, { result: 'Succeeded', message: 'probed' });
    });
  });

  describe('a task run by the mock runner (the unbundled TagComponents task)', () => {
    let repo: string;
    let bare: string;
    const saved = { ...process.env };

    before(async () => {
      // A Rust app repository with a local (file) remote: everything stays offline.
      bare = path.join(temp, 'app.git');
      repo = path.join(temp, 'app');
      const env = { HOME: temp, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' };
      await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', bare], { env });
      await run('git', ['clone', '--quiet', bare, repo], { env });
      await fs.mkdir(path.join(repo, 'src'));
      await fs.writeFile(path.join(repo, 'Cargo.toml'), '[package]\nname = "telemetry"\nversion = "0.9.0"\n');
      await fs.writeFile(path.join(repo, 'src', 'lib.rs'), '\n');
      await run('git', ['add', '-A'], { cwd: repo, env });
      await run('git', ['commit', '--quiet', '-m', 'crate'], { cwd: repo, env });
      await run('git', ['push', '--quiet', 'origin', 'main'], { cwd: repo, env });
    });

    beforeEach(async () => {
      // A bare agent: no git identity; the agent's temp directory for summaries.
      process.env.HOME = temp;
      process.env.GIT_CONFIG_NOSYSTEM = '1';
      process.env.AGENT_TEMPDIRECTORY = await fs.mkdtemp(path.join(temp, 'agent-'));
      delete process.env.GIT_COMMITTER_NAME;
      delete process.env.GIT_COMMITTER_EMAIL;
    });

    after(() => {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    });

    async function l0(script: 'core-mocked' | 'real-task-lib', scenario: Scenario): Promise<Printed & { succeeded: boolean; options?: TagComponentsOptions }> {
      process.env.L0_SCENARIO = JSON.stringify(scenario);
      const tr = new MockTestRunner(path.join(__dirname, 'task-lib-agent', `${script}.js`));
      tr.nodePath = process.execPath; // never download a Node binary
      await tr.runAsync();
      assert.ok(!/Running test failed/.test(tr.stderr), tr.stderr);
      const options = tr.stdout.split(/\r?\n/).find((line) => line.startsWith('L0_OPTIONS '));
      return { ...(await parse(tr.stdout)), succeeded: tr.succeeded, options: options ? (JSON.parse(options.slice('L0_OPTIONS '.length)) as TagComponentsOptions) : undefined };
    }

    it('hands the inputs, variables and job token to the flow, and its result to outputs, summary and result', async () => {
      const r = await l0('core-mocked', {
        inputs: { componentsPath: '/agent/_work/1/s/services', components: ' heuristic ', onExisting: 'move' },
        variables: { 'Build.RequestedFor': 'Ada Lovelace', 'Build.RequestedForEmail': 'ada@example.com' },
        token: 'l0-token',
      });
      assert.ok(r.succeeded, r.stdout);
      assert.equal(r.options?.componentsPath, '/agent/_work/1/s/services');
      assert.equal(r.options?.components, 'heuristic');
      assert.equal(r.options?.onExisting, 'move');
      assert.equal(r.options?.token, 'l0-token');
      assert.deepEqual(r.options?.identity, { name: 'Ada Lovelace', email: 'ada@example.com' });
      assert.equal(r.outputs.tags, 'heuristic/1.4.2');
      assert.equal(r.summaries.length, 1);
      assert.match(r.summaries[0], /\| heuristic \| 1\.4\.2 \| workspace \| services\/heuristic \| `heuristic\/1\.4\.2` \| created \|/);
      assert.deepEqual(r.complete, { result: 'Succeeded', message: '1 created, 0 moved, 0 already there, 0 skipped' });
    });

    it('fails with one error issue and no flow call on an input it cannot read', async () => {
      const r = await l0('core-mocked', { inputs: { componentsPath: repo, push: 'yes' } });
      assert.ok(!r.succeeded);
      assert.equal(r.options, undefined);
      assert.deepEqual(r.errors, ["Input 'push' must be true or false, not 'yes'."]);
      assert.deepEqual(r.complete, { result: 'Failed', message: "Input 'push' must be true or false, not 'yes'." });
    });

    it('runs unbundled on the real task library, finding its task.json in the sources', async () => {
      const r = await l0('real-task-lib', { inputs: { componentsPath: repo, push: 'false' } });
      assert.ok(r.succeeded, r.stdout);
      assert.doesNotMatch(r.stdout, /Not found resource file path/);
      assert.ok(r.stdout.includes(`adding resource file: ${path.join(repoRoot, 'tasks', 'TagComponents', 'task.json')}`), r.stdout);
      assert.equal(r.outputs.tags, 'telemetry/0.9.0');
      const tag = (await run('git', ['cat-file', 'tag', 'telemetry/0.9.0'], { cwd: repo })).stdout;
      assert.match(tag, /^tagger Azure Pipelines <pipeline@dev\.azure\.com> /m);
      await run('git', ['tag', '-d', 'telemetry/0.9.0'], { cwd: repo });
    });
  });
});
