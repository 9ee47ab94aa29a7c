import * as assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { runWithAgent } from '../../shared/agent';
import { discoverCargo } from '../../shared/cargo/discover';
import { buildRustContainers } from '../../shared/flows/build-containers';
import { createEnvPR } from '../../shared/flows/create-env-pr';
import { tagComponents } from '../../shared/flows/tag-components';
import { updateGitOps } from '../../shared/flows/update-gitops';
import { Git } from '../../shared/git/git';
import { remoteEnv } from '../../shared/git/remote';
import { RegistryClient } from '../../shared/registry/client';
import { AdoServer } from '../../stand-ins/azure-devops';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import * as BuildTask from '../../tasks/BuildRustContainers/task';
import * as PrTask from '../../tasks/CreateEnvPR/task';
import * as TagTask from '../../tasks/TagComponents/task';
import * as GitopsTask from '../../tasks/UpdateGitOpsVersions/task';
import { builderEnvironment } from '../helpers/containers';
import { EDGE_AI, edgeAiApp, edgeAiGitops, edgeAiService, type FixtureRepo } from '../helpers/edge-ai';
import { memoryAgents, type MemoryAgent } from '../helpers/memory-agent';
import { requireTool } from '../helpers/requires';
import { repoRoot, runTask } from '../helpers/run-task';

const PR_BUILD = { 'Build.Reason': 'PullRequest', 'System.PullRequest.PullRequestId': '12', 'Build.BuildId': '77' };
const WHY = 'pull request build: the commit may never merge; set onPullRequest: tag to tag anyway';

/** The app fixture pushed, with its folder-name tags, to a bare remote: what a team moving from the scripts has. */
async function appWithRemote(): Promise<FixtureRepo & { bare: string }> {
  const app = await edgeAiApp();
  const bare = `${app.dir}.git`;
  await new Git(os.tmpdir()).run(['init', '--bare', '--quiet', bare]);
  await app.git('remote', 'add', 'origin', bare);
  await app.git('push', '--quiet', 'origin', 'main', '--tags');
  return { ...app, bare };
}

const remove = (...dirs: string[]) => Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
const tagsOf = async (dir: string) => (await new Git(dir).text(['tag', '-l'])).split('\n').filter(Boolean).sort();

/**
 * Issue 13, items 7, 8 and 10: what a team moving from the edge-ai scripts and templates meets, on the fixtures
 * shaped like that repository (test/fixtures/edge-ai). Item 9 (the local runner) is in local-runner.test.ts.
 */
describe('Moving from the edge-ai scripts: pull request builds, commit messages and the words the tasks use', function () {
  this.timeout(300_000);
  const agent = memoryAgents();

  describe('7. pull request builds', () => {
    let app: FixtureRepo & { bare: string };
    before(async () => {
      app = await appWithRemote();
    });
    after(() => remove(app.dir, app.bare));

    const tag = async (a: MemoryAgent) => {
      await runWithAgent(a, async (x) => TagTask.report(x, await tagComponents(TagTask.readOptions(x), x).catch((error: unknown) => TagTask.reportFailure(x, error))));
      return a;
    };

    it('TagComponents on a pull request build plans only (as dryRun), says why in the log and the summary, and tags nothing', async () => {
      const before = { local: await tagsOf(app.dir), remote: await tagsOf(app.bare) };
      const a = await tag(agent({ variables: { ...PR_BUILD, 'Build.SourcesDirectory': app.dir } }));
      assert.deepEqual(a.errors, []);
      assert.equal(a.result?.message, `Dry run (${WHY}): would create 2, move 0; 4 already there, 0 skipped (nothing tagged or pushed)`);
      assert.ok(a.lines.includes(`Dry run: ${WHY}.`), a.lines.join('\n'));
      assert.match(a.summaries[0].markdown, new RegExp(`^\\*\\*Dry run \\(${WHY.replace(/[()]/g, '\\$&')}\\): would create 2`));
      // The folder-named tags (sender/0.1.0 ...) already name HEAD where package and folder agree; the others would be new.
      const statuses = Object.fromEntries((JSON.parse(a.outputs.components) as Array<{ name: string; status: string }>).map((c) => [c.name, c.status]));
      assert.deepEqual(statuses, {
        'ai-edge-inference-crate': 'exists',
        'ai-edge-mqtt-publisher': 'planned',
        'http-connector': 'planned',
        receiver: 'exists',
        sender: 'exists',
        subscriber: 'exists',
      });
      assert.equal(a.outputs.tags, 'ai-edge-mqtt-publisher/0.2.0,http-connector/0.1.0');
      assert.deepEqual({ local: await tagsOf(app.dir), remote: await tagsOf(app.bare) }, before);
    });

    it('TagComponents with onPullRequest: tag tags and pushes on a pull request build; another value is refused', async () => {
      const refused = await tag(agent({ inputs: { onPullRequest: 'sometimes' }, variables: { ...PR_BUILD, 'Build.SourcesDirectory': app.dir } }));
      assert.deepEqual(refused.result, { succeeded: false, message: "Input 'onPullRequest' must be plan or tag, not 'sometimes'." });
      const a = await tag(agent({ inputs: { onPullRequest: 'tag' }, variables: { ...PR_BUILD, 'Build.SourcesDirectory': app.dir } }));
      assert.equal(a.result?.message, '2 created, 0 moved, 4 already there, 0 skipped');
      assert.ok(!a.lines.some((line) => line.includes('pull request build')), a.lines.join('\n'));
      assert.ok((await tagsOf(app.bare)).includes('http-connector/0.1.0'));
    });

    it('BuildRustContainers on a pull request build refuses a release tag before anything is built, and builds with push: false', async () => {
      const service = edgeAiService('broker');
      const inputs = { componentsPath: path.join(app.dir, service.path), registry: '127.0.0.1:9', mode: 'plan' };
      const a = agent({ inputs, variables: PR_BUILD });
      await runWithAgent(a, async (x) => BuildTask.report(x, await buildRustContainers(await BuildTask.readOptions(x), x)));
      assert.equal(a.result?.succeeded, false);
      assert.match(a.result!.message!, /^This is a pull request build \(Build\.Reason PullRequest\): its commit may never merge, so BuildRustContainers pushes only pre-release tags from it\. Set preRelease, e\.g\. pr\.\$\(System\.PullRequest\.PullRequestId\)\.\$\(Build\.BuildId\)/);
      assert.deepEqual(a.outputs, {}, 'nothing planned');
      // Nothing is pushed: a release tag stays local, so the rule does not apply.
      const local = agent({ inputs: { ...inputs, push: 'false' }, variables: PR_BUILD });
      await runWithAgent(local, async (x) => BuildTask.report(x, await buildRustContainers(await BuildTask.readOptions(x), x)));
      assert.equal(local.result?.succeeded, true, local.result?.message);
      assert.deepEqual(Object.values(JSON.parse(local.outputs.matrix) as Record<string, { tag: string }>).map((leg) => leg.tag), ['v0.1.0']);
    });

    it('BuildRustContainers on a pull request build pushes only the pre-release tag, leaving additionalTags out with a notice (buildah, real registry)', async function () {
      await requireTool(this, ...REGISTRY_TOOLS, 'buildah');
      const registry = await TestRegistry.start();
      const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'edge-ai-pr-build-'));
      try {
        const result = await runTask('BuildRustContainers', {
          inputs: {
            componentsPath: app.dir,
            components: 'sender',
            registry: registry.host,
            registryUsername: registry.username,
            registryPassword: registry.password,
            imageTagFormat: '{version}',
            preRelease: 'pr.$(System.PullRequest.PullRequestId).$(Build.BuildId)',
            additionalTags: 'latest',
            builder: 'buildah',
          },
          variables: { ...PR_BUILD, 'Agent.TempDirectory': scratch },
          env: await builderEnvironment(path.join(scratch, 'storage')),
          cwd: app.dir,
        });
        assert.equal(result.result, 'Succeeded', `${result.message}\n${result.stdout.slice(-2000)}`);
        assert.match(result.stdout, /Pull request build: only the pre-release tag is pushed; additionalTags 'latest' are left out\./);
        const images = JSON.parse(result.outputs.images) as Array<{ component: string; image: string; tags: string[]; status: string }>;
        assert.deepEqual(images.map((i) => [i.component, i.image, i.tags, i.status]), [['sender', `${registry.host}/sender`, ['0.1.0-pr.12.77'], 'pushed']]);
        const client = new RegistryClient(registry.host, { username: registry.username, password: registry.password });
        assert.deepEqual(await client.listTags('sender'), ['0.1.0-pr.12.77']);
      } finally {
        await registry.stop();
        await remove(scratch);
      }
    });
  });

  describe('8. CreateEnvPR commitMessage', () => {
    const token = 'job-token-edge-ai-commit-message';
    let ado: AdoServer;
    const dirs: string[] = [];
    before(async () => {
      ado = await AdoServer.start(token);
      const seed = await edgeAiGitops();
      const files: Record<string, string> = {};
      for (const file of await fs.readdir(seed.dir, { recursive: true, encoding: 'utf8' })) {
        if (file.startsWith('.git')) continue;
        const full = path.join(seed.dir, file);
        if ((await fs.stat(full)).isFile()) files[file] = await fs.readFile(full, 'utf8');
      }
      await remove(seed.dir);
      await ado.createRepo('Edge', 'gitops', files);
    });
    after(async () => {
      await ado.stop();
      await remove(...dirs);
    });

    /** A checkout of the GitOps repository, moved by UpdateGitOpsVersions, then CreateEnvPR with `inputs`; returns the pushed commit's message. */
    async function release(environment: string, images: string, inputs: Record<string, string>) {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'edge-ai-gitops-wc-'));
      dirs.push(dir);
      const env = remoteEnv({ token }).env;
      await new Git(os.tmpdir()).run(['clone', '--quiet', ado.remoteUrl('Edge', 'gitops'), dir], { env });
      const update = agent({ inputs: { gitopsPath: dir, environment, images, pinDigest: 'false' } });
      await runWithAgent(update, async (x) => GitopsTask.report(x, await updateGitOps(await GitopsTask.readOptions(x), x)));
      assert.equal(update.result?.succeeded, true, update.result?.message);
      const pr = agent({
        inputs: { gitopsPath: dir, environment, changes: update.outputs.changes, ...inputs },
        variables: { 'System.TeamProject': 'Edge', 'Build.BuildId': '5678', 'Build.BuildNumber': '20260101.4' },
        accessToken: token,
        collectionUrl: ado.collectionUrl,
      });
      await runWithAgent(pr, async (x) => PrTask.report(x, await createEnvPR(PrTask.readOptions(x), x)));
      if (!pr.result?.succeeded) return { pr, message: '' };
      await new Git(dir).run(['fetch', '--quiet', 'origin', `gitops/${environment}`], { env });
      return { pr, message: await new Git(dir).text(['log', '-1', '--format=%B', 'FETCH_HEAD']) };
    }

    it("fills {environment}, {count}, {components} and the build's variables; the change lines and the build follow", async () => {
      const { pr, message } = await release('devtest', 'sender=edgeacr.azurecr.io/sender:0.2.0\nreceiver=edgeacr.azurecr.io/receiver:0.2.0', {
        commitMessage: 'chore({environment}): update {count} image tag(s) from ACR: {components} (build $(Build.BuildId))',
      });
      assert.equal(pr.result?.succeeded, true, pr.result?.message);
      assert.deepEqual(message.trim().split('\n'), [
        'chore(devtest): update 2 image tag(s) from ACR: receiver 0.2.0, sender 0.2.0 (build 5678)',
        '',
        'receiver: edgeacr.azurecr.io/receiver:0.1.0 -> edgeacr.azurecr.io/receiver:0.2.0 (minor)',
        'sender: edgeacr.azurecr.io/sender:0.1.0 -> edgeacr.azurecr.io/sender:0.2.0 (minor)',
        '',
        `Build: 20260101.4 (id 5678) ${ado.collectionUrl.replace(/\/?$/, '/')}Edge/_build/results?buildId=5678`,
      ]);
    });

    it('left empty, the message is as before; an unknown placeholder fails before anything is pushed', async () => {
      const { message } = await release('prod', 'ai-edge-inference=edgeacr.azurecr.io/ai-edge-inference:0.2.0', {});
      assert.match(message, /^chore\(prod\): ai-edge-inference 0\.2\.0\n\nai-edge-inference: edgeacr\.azurecr\.io\/ai-edge-inference:0\.1\.0 -> \S+:0\.2\.0 \(minor\)\n/);
      const pullRequests = ado.pullRequests('gitops').length;
      const { pr } = await release('devtest', 'subscriber=edgeacr.azurecr.io/subscriber:0.3.0', { commitMessage: 'chore: {component}', sourceBranch: 'gitops/{environment}-typo' });
      assert.equal(pr.result?.succeeded, false);
      assert.match(pr.result!.message!, /^commitMessage 'chore: \{component\}' uses \{component\}, which is not known: use \{environment\}, \{count\}, \{components\}\.$/);
      assert.equal(ado.pullRequests('gitops').length, pullRequests);
      assert.equal(await ado.branchTip('Edge', 'gitops', 'gitops/devtest-typo'), undefined);
    });
  });

  describe('10. correct words', () => {
    it('a dry run calls what it would tag `planned` in the flow itself, so the log, the summary and the outputs agree', async () => {
      const app = await edgeAiApp({ legacyTags: [] });
      try {
        const lines: string[] = [];
        const result = await tagComponents({ componentsPath: app.dir, components: 'sender,http-connector', push: false, dryRun: true }, { debug() {}, info: (m) => lines.push(m), warn() {}, setSecret() {} });
        assert.deepEqual(result.components.map((c) => [c.name, c.status]), [['http-connector', 'planned'], ['sender', 'planned']]);
        assert.deepEqual(result.tags, ['http-connector/0.1.0', 'sender/0.1.0']);
        assert.ok(lines.includes('[dry run] would create sender/0.1.0 (sender 0.1.0, src/500-application/501-rust-telemetry/services/sender)'), lines.join('\n'));
        assert.deepEqual(await tagsOf(app.dir), []);
      } finally {
        await remove(app.dir);
      }
    });

    it('every task says "Dry run" once, as "Dry run: would ...", in its summary and its closing message', async () => {
      const app = await edgeAiApp({ legacyTags: [] });
      const gitops = await edgeAiGitops();
      try {
        const said: Array<{ task: string; summary: string; message: string }> = [];
        const run = async (task: string, a: MemoryAgent, body: (x: MemoryAgent) => Promise<string>) => {
          await runWithAgent(a, body as (x: unknown) => Promise<string>);
          assert.equal(a.result?.succeeded, true, `${task}: ${a.result?.message}`);
          said.push({ task, summary: a.summaries.map((s) => s.markdown).join('\n'), message: a.result!.message! });
        };
        await run('TagComponents', agent({ inputs: { componentsPath: app.dir, push: 'false', dryRun: 'true' } }), async (x) => TagTask.report(x, await tagComponents(TagTask.readOptions(x), x)));
        await run('BuildRustContainers', agent({ inputs: { componentsPath: app.dir, registry: 'edgeacr.azurecr.io', push: 'false', dryRun: 'true' } }), async (x) =>
          BuildTask.report(x, await buildRustContainers(await BuildTask.readOptions(x), x)),
        );
        const update = agent({ inputs: { gitopsPath: gitops.dir, environment: 'devtest', images: 'sender=edgeacr.azurecr.io/sender:0.2.0', pinDigest: 'false', dryRun: 'true' } });
        await run('UpdateGitOpsVersions', update, async (x) => GitopsTask.report(x, await updateGitOps(await GitopsTask.readOptions(x), x)));
        // CreateEnvPR's dry run needs a change in the working copy: UpdateGitOpsVersions for real this time.
        const real = agent({ inputs: { gitopsPath: gitops.dir, environment: 'devtest', images: 'sender=edgeacr.azurecr.io/sender:0.2.0', pinDigest: 'false' } });
        await runWithAgent(real, async (x) => GitopsTask.report(x, await updateGitOps(await GitopsTask.readOptions(x), x)));
        await run('CreateEnvPR', agent({ inputs: { gitopsPath: gitops.dir, environment: 'devtest', repository: 'gitops', project: 'Edge', changes: real.outputs.changes, dryRun: 'true' } }), async (x) =>
          PrTask.report(x, await createEnvPR(PrTask.readOptions(x), x)),
        );
        for (const { task, summary, message } of said) {
          assert.equal(summary.match(/dry run/gi)?.length, 1, `${task} summary: ${summary}`);
          assert.equal(message.match(/dry run/gi)?.length, 1, `${task} closing message: ${message}`);
          assert.match(message, /^Dry run: would /, `${task} closing message`);
          assert.match(summary, /Dry run: would /, `${task} summary`);
          // Nothing claims what a dry run did not do.
          assert.doesNotMatch(`${summary}\n${message}`, /\d+ created|component\(s\) updated|Built \d|Opened pull request/, task);
        }
        assert.match(said.find((s) => s.task === 'UpdateGitOpsVersions')!.summary, /^### devtest: Dry run: would update 1 component\(s\) \(nothing written\)/);
      } finally {
        await remove(app.dir, gitops.dir);
      }
    });

    it('the warning about a reference no manifest uses keeps the registry port, and does not fire for a reference already at the target', async () => {
      const gitops = await edgeAiGitops('127.0.0.1:5000');
      try {
        const warnings: string[] = [];
        const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), setSecret() {} };
        // First run: broker is already at 0.1.0 (only the lock records it), sender moves, ghost is used by no manifest.
        const images = ['broker=127.0.0.1:5000/broker:0.1.0', 'sender=127.0.0.1:5000/sender:0.2.0', 'ghost=127.0.0.1:5000/edge/ghost:1.0.0'];
        const result = await updateGitOps({ gitopsPath: gitops.dir, environment: 'devtest', images, pinDigest: false }, log);
        assert.deepEqual(result.changes.map((c) => [c.component, c.files]), [
          ['broker', ['versions.yaml']],
          ['ghost', ['versions.yaml']],
          ['sender', ['versions.yaml', 'environments/devtest/kustomization.yaml']],
        ]);
        assert.deepEqual(warnings, ['ghost: no reference under environments/devtest uses 127.0.0.1:5000/edge/ghost; only versions.yaml records the new image.']);
      } finally {
        await remove(gitops.dir);
      }
    });

    it('componentsPath inside the root workspace with members = []: no warning, each service its own root, as cargo and TagComponents see it', async () => {
      const app = path.join(EDGE_AI, 'app');
      for (const folder of ['sender', 'broker', 'ai-edge-inference']) {
        const service = edgeAiService(folder);
        const warnings: string[] = [];
        const log = { warn: (m: string) => warnings.push(m), info() {}, debug() {}, setSecret() {} };
        const { components } = await discoverCargo(path.join(app, service.path), { log });
        assert.deepEqual(components.map((c) => `${c.name} ${c.version} ${c.path}`), [`${service.packageName} ${service.version} .`]);
        const plan = await buildRustContainers({ componentsPath: path.join(app, service.path), registry: 'edgeacr.azurecr.io', mode: 'plan', push: false }, log);
        assert.deepEqual(Object.values(plan.matrix).map((leg) => leg.component), [service.packageName]);
        assert.deepEqual(warnings, [], `${folder}: ${warnings.join('\n')}`);
      }
      // The application folder too: three services, all their own roots.
      const warnings: string[] = [];
      await discoverCargo(path.join(app, 'src/500-application/502-rust-http-connector'), { log: { warn: (m) => warnings.push(m) } });
      assert.deepEqual(warnings, []);
      // TagComponents agrees: from a service folder of the repository, its package and no warning.
      const repo = await edgeAiApp({ legacyTags: [] });
      try {
        const broker = edgeAiService('broker');
        const tagWarnings: string[] = [];
        const result = await tagComponents({ componentsPath: path.join(repo.dir, broker.path), push: false, dryRun: true }, { debug() {}, info() {}, warn: (m) => tagWarnings.push(m), setSecret() {} });
        assert.deepEqual(result.tags, ['http-connector/0.1.0']);
        assert.deepEqual(tagWarnings, []);
      } finally {
        await remove(repo.dir);
      }
    });

    it('a service without its own [workspace] table under that root still gets the warning: cargo would refuse it', async () => {
      const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'edge-ai-no-ws-'));
      try {
        await fs.cp(path.join(EDGE_AI, 'app'), copy, { recursive: true });
        const sender = path.join(copy, edgeAiService('sender').path);
        await fs.writeFile(path.join(sender, 'Cargo.toml'), (await fs.readFile(path.join(sender, 'Cargo.toml'), 'utf8')).replace(/^\[workspace\]\n/m, ''));
        const warnings: string[] = [];
        await discoverCargo(sender, { log: { warn: (m) => warnings.push(m) } });
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], /lies inside the Cargo workspace .*Cargo\.toml/);
      } finally {
        await remove(copy);
      }
    });

    it('the docs put a single `checkout: gitops` in $(Build.SourcesDirectory), never s/gitops', () => {
      const texts = ['README.md', 'overview.md', ...['CreateEnvPR', 'UpdateGitOpsVersions'].map((t) => `tasks/${t}/task.json`)].map((file) => [file, readFileSync(path.join(repoRoot, file), 'utf8')] as const);
      for (const [file, text] of texts) assert.doesNotMatch(text, /\$\(Pipeline\.Workspace\)\/s\/gitops/, file);
      for (const task of ['CreateEnvPR', 'UpdateGitOpsVersions']) {
        const help = (JSON.parse(texts.find(([file]) => file.includes(task))![1]) as { inputs: Array<{ name: string; helpMarkDown: string }> }).inputs.find((i) => i.name === 'gitopsPath')!.helpMarkDown;
        assert.match(help, /`\$\(Build\.SourcesDirectory\)` when `checkout: gitops` is the job's only checkout|after `checkout: gitops`, `\$\(Build\.SourcesDirectory\)` when it is the job's only checkout/, task);
      }
    });

    it('samples: app-ci fetches tags where changedOnly runs; update-gitops downloads what app-ci publishes and opens a pull request in every stage', () => {
      type Step = { checkout?: string; fetchTags?: boolean; task?: string; inputs?: Record<string, unknown>; download?: string; patterns?: string };
      type Pipeline = { resources?: { pipelines?: Array<{ pipeline: string; source: string }> }; stages: Array<{ stage: string; jobs: Array<{ steps: Step[]; strategy?: unknown }> }> };
      const sample = (name: string) => parse(readFileSync(path.join(repoRoot, 'samples', name), 'utf8')) as Pipeline;
      const appCi = sample('app-ci.yml');
      const jobs = appCi.stages.flatMap((s) => s.jobs);
      const changedOnly = jobs.filter((job) => job.steps.some((step) => step.inputs?.changedOnly === true));
      assert.ok(changedOnly.length > 0);
      for (const job of changedOnly) assert.equal(job.steps.find((step) => step.checkout === 'self')?.fetchTags, true);
      const published = jobs.flatMap((job) => job.steps.filter((step) => step.task === 'PublishPipelineArtifact@1').map((step) => String(step.inputs?.artifact)));
      assert.deepEqual(published, ['images-$(component)']);

      const update = sample('update-gitops.yml');
      const resource = update.resources?.pipelines?.[0];
      assert.equal(resource?.source, 'app-ci');
      for (const stage of update.stages) {
        const steps = stage.jobs.flatMap((job) => job.steps);
        const tasks = steps.flatMap((step) => (step.task ? [step.task] : []));
        assert.deepEqual(tasks, ['UpdateGitOpsVersions@1', 'CreateEnvPR@1'], stage.stage);
        for (const step of steps.filter((s) => s.task)) assert.equal(step.inputs?.gitopsPath, '$(Build.SourcesDirectory)', `${stage.stage}: one checkout lands in the sources directory`);
      }
      const download = update.stages[0].jobs[0].steps.find((step) => step.download);
      assert.equal(download?.download, resource?.pipeline);
      assert.equal(download?.patterns, 'images-*/*.json', 'the artifacts app-ci publishes (images-<component>)');
    });

    it("the overview's migration section names where the scripts come from, what changes for image names and tags, and a checklist", () => {
      const overview = readFileSync(path.join(repoRoot, 'overview.md'), 'utf8');
      const section = overview.slice(overview.indexOf('## Migrating from'), overview.indexOf('\n## ', overview.indexOf('## Migrating from') + 1));
      for (const source of ['microsoft/edge-ai', 'scripts/tag-rust-components.sh', 'scripts/update-versions-in-gitops.sh', '.azdo/templates/build-rust-images.yml', '.azdo/templates/create-gitops-env-pr.yml']) {
        assert.ok(section.includes(source), source);
      }
      for (const word of ['image name', '{dir}', 'legacyTagFormats', 'onPullRequest', 'preRelease', 'fetchTags']) assert.ok(section.includes(word), word);
      assert.ok((section.match(/^- \[ \] /gm) ?? []).length >= 6, 'a checklist a team can follow');
      // README: one page, the original pipeline in short, then the replacement with the four tasks, what changes, a checklist.
      const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
      const page = readme.slice(readme.indexOf('## Migrating from microsoft/edge-ai'), readme.indexOf('\n## ', readme.indexOf('## Migrating from microsoft/edge-ai') + 1));
      const after = page.slice(page.indexOf('**After**'), page.indexOf('What changes:'));
      assert.ok(page.indexOf('**Before.**') >= 0 && page.indexOf('**Before.**') < page.indexOf('**After**'));
      for (const task of ['TagComponents@1', 'BuildRustContainers@1', 'UpdateGitOpsVersions@1', 'CreateEnvPR@1']) assert.ok(after.includes(`task: ${task}`), task);
      for (const word of ['**Image names**', '**Tags**', '**Only what changed**', '**Pull request builds**', 'lastSuccessfulBuild', 'legacyTagFormats']) assert.ok(page.includes(word), word);
      assert.ok((page.match(/^- \[ \] /gm) ?? []).length >= 6, 'README checklist');
    });
  });
});
