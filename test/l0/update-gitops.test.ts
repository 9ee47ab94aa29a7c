import * as assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runWithAgent } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import { DEFAULT_TAG_FILTER, updateGitOps } from '../../shared/flows/update-gitops';
import { readOptions, report } from '../../tasks/UpdateGitOpsVersions/task';
import { gitopsTree, snapshot } from '../helpers/gitops-tree';
import { memoryAgents } from '../helpers/memory-agent';

const REGISTRY = 'myacr.azurecr.io';
const PASSWORD = 'gitops-Pa55word-l0';

describe('UpdateGitOpsVersions@1 in-process: readOptions and report on the in-memory agent', () => {
  const agent = memoryAgents();

  describe('readOptions', () => {
    it('reads every input empty as its default', async () => {
      assert.deepEqual(await readOptions(agent({ inputs: { gitopsPath: '/gitops', environment: 'devtest' } })), {
        network: {},
        gitopsPath: '/gitops',
        environment: 'devtest',
        lockFile: 'versions.yaml',
        manifestsPath: 'environments/{environment}',
        source: 'images',
        images: [],
        imagesFile: undefined,
        sourceEnvironment: undefined,
        revision: undefined,
        holdOnRollback: true,
        requestedFor: undefined,
        buildNumber: undefined,
        release: [],
        inventoryFile: undefined,
        registry: '',
        credentials: { username: undefined, password: undefined },
        signIn: undefined,
        tagFilter: DEFAULT_TAG_FILTER,
        components: '',
        pinDigest: true,
        allowDowngrade: false,
        maxBump: 'major',
        allowedRegistries: [],
        helmValues: [],
        requireSemVer: false,
        imageNames: [],
        dryRun: false,
      });
    });

    it('parses every input: paths resolved, lists split, the registry reduced to its host', async () => {
      const a = agent({
        variables: { 'Build.RequestedFor': 'Jane Doe', 'Build.BuildNumber': '20261204.3' },
        inputs: {
          gitopsPath: 'gitops',
          environment: 'qa',
          lockFile: 'locks/edge.yaml',
          manifestsPath: 'clusters/{environment}',
          source: 'registry',
          images: 'heuristic=v1.4.2\ncollector=v2.1.0, edge/agent:v1',
          imagesFile: 'drop/images.json',
          sourceEnvironment: 'devtest',
          revision: 'gitops-2026-11',
          holdOnRollback: 'false',
          release: 'heuristic, edge-*',
          inventoryFile: 'INVENTORY.md',
          components: 'heuristic\n!collector',
          tagFilter: '^v1\\.',
          registry: `https://${REGISTRY}/`,
          registryUsername: 'ci',
          registryPassword: PASSWORD,
          pinDigest: 'false',
          allowDowngrade: 'true',
          maxBump: 'minor',
          allowedRegistries: `${REGISTRY}\n*.azurecr.io/edge`,
          helmValues: 'collector=repository:image.repository,tag:image.tag\n\nheuristic=image.tag\r\n',
          requireSemVer: 'true',
          imageNames: 'http-connector=broker\nai-edge-mqtt-publisher=ai-edge-inference',
          dryRun: 'true',
        },
      });
      assert.deepEqual(await readOptions(a), {
        network: {},
        gitopsPath: path.resolve('gitops'),
        environment: 'qa',
        lockFile: 'locks/edge.yaml',
        manifestsPath: 'clusters/{environment}',
        source: 'registry',
        images: ['heuristic=v1.4.2', 'collector=v2.1.0', 'edge/agent:v1'],
        imagesFile: path.resolve('drop/images.json'),
        sourceEnvironment: 'devtest',
        revision: 'gitops-2026-11',
        holdOnRollback: false,
        requestedFor: 'Jane Doe',
        buildNumber: '20261204.3',
        release: ['heuristic', 'edge-*'],
        inventoryFile: 'INVENTORY.md',
        registry: REGISTRY,
        credentials: { username: 'ci', password: PASSWORD },
        signIn: undefined,
        tagFilter: '^v1\\.',
        components: 'heuristic\n!collector',
        pinDigest: false,
        allowDowngrade: true,
        maxBump: 'minor',
        allowedRegistries: [REGISTRY, '*.azurecr.io/edge'],
        helmValues: ['collector=repository:image.repository,tag:image.tag', 'heuristic=image.tag'],
        requireSemVer: true,
        imageNames: ['http-connector=broker', 'ai-edge-mqtt-publisher=ai-edge-inference'],
        dryRun: true,
      });
      assert.deepEqual(a.secrets, [PASSWORD]);
    });

    it('takes the registry host and credentials from the containerRegistry service connection', async () => {
      const options = await readOptions(
        agent({
          inputs: { gitopsPath: '/gitops', environment: 'devtest', containerRegistry: 'acr' },
          endpoints: { acr: { url: `https://${REGISTRY}/`, username: 'edge-pull', password: PASSWORD, data: { registry: `https://${REGISTRY}/` } } },
        }),
      );
      assert.equal(options.registry, REGISTRY);
      assert.deepEqual(options.credentials, { username: 'edge-pull', password: PASSWORD });
    });

    it('requires gitopsPath and environment, naming the missing one', async () => {
      await assert.rejects(readOptions(agent({ inputs: { environment: 'devtest' } })), new UserError("Input 'gitopsPath' is required: set it in the task's inputs."));
      await assert.rejects(readOptions(agent({ inputs: { gitopsPath: '/gitops' } })), new UserError("Input 'environment' is required: set it in the task's inputs."));
    });
  });

  describe('with the real flow, on the fixture GitOps tree (dry runs and a no-op: nothing written)', () => {
    let dir: string;
    before(async () => {
      dir = await gitopsTree(REGISTRY);
    });
    after(() => fs.rm(dir, { recursive: true, force: true }));

    const run = async (inputs: Record<string, string>) => {
      const a = agent({ inputs: { gitopsPath: dir, environment: 'devtest', pinDigest: 'false', ...inputs } });
      await runWithAgent(a, async (x) => report(x, await updateGitOps(await readOptions(x), x)));
      return a;
    };

    it('sets changed, changes and summary as the contract names them; the summary file is outside the repository, also on the summary tab', async () => {
      const before = await snapshot(dir);
      const a = await run({ images: 'heuristic=v1.4.2', dryRun: 'true' });
      assert.equal(a.result?.succeeded, true, a.errors.map((e) => e.message).join('\n'));
      assert.match(a.result?.message ?? '', /^Dry run: would update 1 component\(s\) in devtest: .* \(nothing written\)$/);
      assert.deepEqual(Object.keys(a.outputs).sort(), ['changed', 'changes', 'summary']);
      assert.equal(a.outputs.changed, 'true');
      const changes = JSON.parse(a.outputs.changes) as Array<{ component: string; from: string; to: string; bump: string; files: string[] }>;
      assert.deepEqual(
        changes.map((c) => [c.component, c.from, c.to, c.bump, c.files[0]]),
        [['heuristic', `${REGISTRY}/heuristic:v1.4.1`, `${REGISTRY}/heuristic:v1.4.2`, 'patch', 'versions.yaml']],
      );
      assert.equal(a.summaries.length, 1);
      assert.equal(a.summaries[0].title, 'UpdateGitOpsVersions devtest');
      assert.equal(a.outputs.summary, a.summaries[0].file);
      assert.ok(path.relative(dir, a.outputs.summary).startsWith('..'), 'the summary is written outside the GitOps repository');
      const markdown = readFileSync(a.outputs.summary, 'utf8');
      assert.equal(markdown, a.summaries[0].markdown);
      assert.match(markdown, /^### devtest: Dry run: would update 1 component\(s\) \(nothing written\)\n/);
      assert.match(markdown, new RegExp(`\\| heuristic \\| \`${REGISTRY}/heuristic:v1\\.4\\.1\` \\| \`${REGISTRY}/heuristic:v1\\.4\\.2\` \\| patch \\| versions\\.yaml<br>`));
      assert.deepEqual(await snapshot(dir), before);
    });

    it('already up to date: changed is false, the summary says so, and nothing is written', async () => {
      const before = await snapshot(dir);
      const a = await run({ images: 'heuristic=v1.4.1\ncollector=v2.0.0' });
      assert.deepEqual(a.result, { succeeded: true, message: 'devtest is up to date: nothing written.' });
      assert.equal(a.outputs.changed, 'false');
      assert.equal(a.outputs.changes, '[]');
      assert.equal(
        a.summaries[0].markdown,
        [
          '### devtest: up to date',
          '',
          '2 component(s) checked; every one already runs the requested image.',
          '',
          '#### What runs where (versions.yaml)',
          '',
          '| Component | devtest | qa |',
          '|---|---|---|',
          '| collector | `v2.0.0` | `v2.0.0`<br>= devtest |',
          '| heuristic | `v1.4.1` | `v1.3.0`<br>minor behind devtest |',
          '',
        ].join('\n'),
      );
      assert.deepEqual(await snapshot(dir), before);
    });

    it('a policy the change breaks fails the task with one error pointing at the lock line', async () => {
      const a = await run({ images: 'heuristic=v2.0.0', maxBump: 'minor', dryRun: 'true' });
      assert.equal(a.result?.succeeded, false);
      assert.equal(a.errors.length, 1);
      assert.match(a.errors[0].message, /heuristic would take a major step from v1\.4\.1 to v2\.0\.0/);
      assert.deepEqual(a.errors[0].where, { file: 'versions.yaml', line: 5 });
      assert.deepEqual(a.outputs, {});
    });
  });
});
