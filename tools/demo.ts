import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { Git } from '../shared/git/git';
import { remoteEnv } from '../shared/git/remote';
import { run } from '../shared/process';
import { AdoServer } from '../stand-ins/azure-devops';
import { REGISTRY_TOOLS, TestRegistry } from '../stand-ins/registry';
import { missingTools } from '../test/helpers/requires';
import { repoRoot, runTask, type TaskRun, type TaskRunOptions } from './local-agent';

/**
 * The whole release flow on this machine: an app repo of Rust services and a GitOps repo in a local
 * Azure DevOps stand-in, a real registry and builder when the machine has them, and the four bundled
 * tasks run exactly as the agent runs them: TagComponents -> BuildRustContainers -> UpdateGitOpsVersions
 * -> CreateEnvPR for devtest, then the promotion devtest -> qa by digest. Then a rollback: qa's heuristic
 * goes back to what the lock held before the promotion (held, so automated runs leave it), and the next
 * build's promotion to qa moves everything but the held component and says so.
 */

export interface DemoResult {
  workdir: string;
  built: boolean;
  devtest: { pullRequestId: number; digests: Record<string, string | undefined> };
  qa: { pullRequestId: number; digests: Record<string, string | undefined> };
  /** The rollback of qa's heuristic: its pull request and the hold it puts in the lock. */
  rollback: { pullRequestId: number; hold: string };
  /** The next build's promotion to qa: its pull request, what it warned, and qa's lock on its branch. */
  next: { pullRequestId: number; warnings: string[]; description: string; qa: Record<string, { image: string; tag: string; digest?: string; hold?: string }>; devtest: Record<string, string | undefined> };
}

const TOKEN = 'demo-job-token-0b7e41c9';
const BUILD_ID = '1042';
const NEXT_BUILD_ID = '1043';
const INVENTORY = 'INVENTORY.md';

const app: Record<string, string> = {
  'Cargo.toml': '[workspace]\nmembers = ["components/*"]\nresolver = "2"\n\n[workspace.package]\nversion = "1.4.2"\nedition = "2021"\n',
  'components/heuristic/Cargo.toml': '[package]\nname = "heuristic"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\ncommon = { path = "../common" }\n',
  'components/heuristic/src/main.rs': 'fn main() { println!("heuristic {}", common::NAME); }\n',
  'components/heuristic/Dockerfile': 'FROM scratch\nCOPY Cargo.toml /app/Cargo.toml\n',
  'components/http-connector/Cargo.toml': '[package]\nname = "http-connector"\nversion = "0.9.0"\nedition = "2021"\n',
  'components/http-connector/src/main.rs': 'fn main() {}\n',
  'components/http-connector/Dockerfile': 'FROM scratch\nCOPY Cargo.toml /app/Cargo.toml\n',
  'components/common/Cargo.toml': '[package]\nname = "common"\nversion.workspace = true\nedition.workspace = true\n',
  'components/common/src/lib.rs': 'pub const NAME: &str = "common";\n',
};

function gitops(registry: string): Record<string, string> {
  const deployment = (name: string) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  selector:\n    matchLabels: {app: ${name}}\n  template:\n    metadata:\n      labels: {app: ${name}}\n    spec:\n      containers:\n        - name: ${name}\n          image: ${name}\n`;
  const overlay = (env: string, tags: [string, string]) =>
    `# ${env}: what the edge clusters of ${env} pull\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${env}\nresources:\n  - ../../base\nimages:\n  - name: heuristic\n    newName: ${registry}/edge/heuristic\n    newTag: ${tags[0]}\n  - name: http-connector\n    newName: ${registry}/edge/http-connector\n    newTag: "${tags[1]}"\n`;
  const lockEnv = (env: string, tags: [string, string]) =>
    `  ${env}:\n    heuristic:\n      image: ${registry}/edge/heuristic\n      tag: ${tags[0]}\n    http-connector:\n      image: ${registry}/edge/http-connector   # the edge gateway's ingest\n      tag: ${tags[1]}\n`;
  const devtest: [string, string] = ['v1.4.1', 'v0.8.0'];
  const qa: [string, string] = ['v1.4.0', 'v0.8.0'];
  return {
    'versions.yaml': `# versions.yaml: what runs where. Change it through pull requests.\nschemaVersion: 1\nenvironments:\n${lockEnv('devtest', devtest)}${lockEnv('qa', qa)}${lockEnv('prod', qa)}`,
    'base/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - heuristic.yaml\n  - http-connector.yaml\n',
    'base/heuristic.yaml': deployment('heuristic'),
    'base/http-connector.yaml': deployment('http-connector'),
    'environments/devtest/kustomization.yaml': overlay('devtest', devtest),
    'environments/qa/kustomization.yaml': overlay('qa', qa),
    'environments/prod/kustomization.yaml': overlay('prod', qa),
  };
}

export interface DemoOptions {
  workdir: string;
  /** Progress lines. */
  say: (line: string) => void;
  /** Each line a task logs. */
  taskLine?: (line: string) => void;
}

export async function runDemo({ workdir, say, taskLine }: DemoOptions): Promise<DemoResult> {
  await fs.mkdir(workdir, { recursive: true });
  const ado = await AdoServer.start(TOKEN);
  const canBuild = (await missingTools(REGISTRY_TOOLS)).length === 0 && (await hasBuilder());
  const registry = canBuild ? await TestRegistry.start() : undefined;
  const registryHost = registry?.host ?? 'registry.example.com';
  const started = Date.now();
  let step = 0;
  const task = async (name: string, what: string, options: TaskRunOptions): Promise<TaskRun> => {
    step++;
    say(`\n[${step}] ${name}: ${what}`);
    const result = await runTask(name, {
      ...options,
      accessToken: TOKEN,
      collectionUrl: ado.collectionUrl,
      variables: { 'System.TeamProject': 'Edge', 'Build.BuildId': BUILD_ID, 'Build.Repository.Uri': ado.remoteUrl('Edge', 'app'), ...options.variables },
      env: { STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot', ...options.env },
      onLine: (line) => {
        if (!line.startsWith('##vso[')) taskLine?.(line);
      },
    });
    for (const warning of result.warnings) say(`    warning: ${warning}`);
    if (result.result !== 'Succeeded') throw new Error(`${name} failed: ${result.errors.join('; ') || result.message || result.stderr}`);
    say(`    ${result.message}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  };
  try {
    say(`Work folder: ${workdir}`);
    say(`Azure DevOps stand-in: ${ado.collectionUrl} (project Edge, repositories app and gitops)`);
    say(canBuild ? `Container registry: ${registryHost} (docker-registry, htpasswd)` : 'No container registry or builder on this machine: BuildRustContainers runs in plan mode, and the GitOps steps use tags without digests.');
    await ado.createRepo('Edge', 'app', app);
    await ado.createRepo('Edge', 'gitops', gitops(registryHost));

    const appDir = path.join(workdir, 'app');
    await clone(ado.remoteUrl('Edge', 'app'), appDir);
    const tagged = await task('TagComponents', 'tag every component name/version', { cwd: appDir, inputs: { componentsPath: appDir } });
    say(`    tags: ${tagged.outputs.tags}`);

    /** A build of the app: images pushed and recorded in images-<id>.json (or planned); what UpdateGitOpsVersions takes from it. */
    const build = async (buildId: string) => {
      const imagesFile = path.join(workdir, `images-${buildId}.json`);
      const commit = await new Git(appDir).text(['rev-parse', 'HEAD']);
      const built = await task('BuildRustContainers', canBuild ? `build ${buildId}: build and push each image, record its digest` : `build ${buildId}: plan the builds (no builder here)`, {
        cwd: appDir,
        variables: { 'Build.BuildId': buildId, 'Build.SourceVersion': commit },
        inputs: {
          componentsPath: appDir,
          registry: registryHost,
          registryUsername: registry?.username,
          registryPassword: registry?.password,
          repositoryPrefix: 'edge/',
          preRelease: `rc.${buildId}`,
          mode: canBuild ? 'build' : 'plan',
          manifestPath: imagesFile,
        },
      });
      const images = JSON.parse(built.outputs.images || '[]') as Array<{ component: string; tags: string[]; digest?: string; status: string }>;
      for (const image of images) say(`    ${image.component}: ${image.tags.join(', ')} ${image.digest ?? ''} (${image.status})`);
      return canBuild ? { imagesFile } : { images: images.map((i) => `${i.component}=${registryHost}/edge/${i.component}:${i.tags[0]}`).join('\n'), pinDigest: false };
    };
    /** UpdateGitOpsVersions then CreateEnvPR for one environment, in a fresh checkout of main; the pull request shown. */
    const update = async (environment: string, what: string, inputs: TaskRunOptions['inputs'], variables: Record<string, string> = {}) => {
      const dir = path.join(workdir, `gitops-${environment}-${++checkouts}`);
      await clone(ado.remoteUrl('Edge', 'gitops'), dir);
      const updated = await task('UpdateGitOpsVersions', what, { cwd: dir, variables, inputs: { gitopsPath: dir, environment, inventoryFile: INVENTORY, ...inputs } });
      const opened = await task('CreateEnvPR', `commit, push gitops/${environment}, open the pull request`, {
        cwd: dir,
        variables,
        inputs: { gitopsPath: dir, environment, changes: updated.outputs.changes, inventoryFile: INVENTORY },
      });
      const id = Number(opened.outputs.pullRequestId);
      showPullRequest(say, ado, id);
      return { id, updated };
    };
    const merge = async (environment: string, id: number) => {
      say(`\n    A reviewer approves and merges the ${environment} pull request (squash).`);
      await ado.completePullRequest('gitops', id);
    };
    let checkouts = 0;

    const first = await build(BUILD_ID);
    const devtest = await update('devtest', 'move devtest to the new images (lock and overlay)', { allowedRegistries: registryHost, ...first });
    await merge('devtest', devtest.id);
    const qa = await update('qa', 'promote devtest -> qa: copy tag and digest exactly', { source: 'environment', sourceEnvironment: 'devtest', maxBump: 'minor' });

    const devtestDigests = digestsOf(await ado.readFile('Edge', 'gitops', 'main', 'versions.yaml'), 'devtest');
    const qaDigests = digestsOf(await ado.readFile('Edge', 'gitops', 'gitops/qa', 'versions.yaml'), 'qa');
    say('\nPromotion check (versions.yaml): devtest on main vs. qa on gitops/qa');
    for (const [component, digest] of Object.entries(devtestDigests)) {
      say(`    ${component}: ${digest ?? '(no digest)'} ${digest === qaDigests[component] ? '= qa' : `!= qa ${qaDigests[component]}`}`);
    }
    await merge('qa', qa.id);

    say('\nqa reports a fault in heuristic: roll it back to what qa ran before the promotion, and hold it there.');
    const rollback = await update(
      'qa',
      "roll qa's heuristic back to the lock before the promotion (HEAD~1): exact tag and digest, held",
      { source: 'revision', revision: 'HEAD~1', components: 'heuristic' },
      { 'Build.BuildId': '1047', 'Build.RequestedFor': 'Dana Ops', 'Build.BuildNumber': '20261204.7' },
    );
    const hold = (JSON.parse(rollback.updated.outputs.changes) as Array<{ hold?: string }>)[0]?.hold ?? '';
    await merge('qa', rollback.id);

    say('\nA fix lands in the app; the next build goes the usual way, and its promotion to qa leaves the held heuristic alone.');
    await fs.writeFile(path.join(appDir, 'components/heuristic/src/main.rs'), 'fn main() { println!("heuristic {} (fixed)", common::NAME); }\n');
    await new Git(appDir).run(['commit', '--quiet', '-am', 'heuristic: fix the fault qa found']);
    const second = await build(NEXT_BUILD_ID);
    const nextBuild = { 'Build.BuildId': NEXT_BUILD_ID };
    const nextDevtest = await update('devtest', `move devtest to build ${NEXT_BUILD_ID}`, { allowedRegistries: registryHost, ...second }, nextBuild);
    await merge('devtest', nextDevtest.id);
    const nextQa = await update('qa', 'promote devtest -> qa: the held component stays', { source: 'environment', sourceEnvironment: 'devtest', maxBump: 'minor' }, nextBuild);
    const summary = nextQa.updated.summaries[0] ?? '';
    say('\n    UpdateGitOpsVersions summary, what runs where:');
    for (const line of summary.slice(summary.indexOf('#### What runs where')).trim().split('\n')) say(`      | ${line}`);

    await saveRemotes(ado, workdir);
    say(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Inspect: ${workdir}`);
    say("    app/ (tagged checkout), gitops-<environment>-<n>/ (each run's working copy), remotes/ (the stand-in's repositories, INVENTORY.md on main), images-<build>.json");
    const qaLock = parse((await ado.readFile('Edge', 'gitops', 'gitops/qa', 'versions.yaml')) ?? '') as { environments: Record<string, DemoResult['next']['qa']> };
    return {
      workdir,
      built: canBuild,
      devtest: { pullRequestId: devtest.id, digests: devtestDigests },
      qa: { pullRequestId: qa.id, digests: qaDigests },
      rollback: { pullRequestId: rollback.id, hold },
      next: {
        pullRequestId: nextQa.id,
        warnings: nextQa.updated.warnings,
        description: ado.pullRequests('gitops').find((p) => p.pullRequestId === nextQa.id)?.description ?? '',
        qa: qaLock.environments.qa,
        devtest: digestsOf(await ado.readFile('Edge', 'gitops', 'main', 'versions.yaml'), 'devtest'),
      },
    };
  } finally {
    await registry?.stop();
    await ado.stop();
  }
}

async function hasBuilder(): Promise<boolean> {
  for (const builder of ['buildah', 'podman']) {
    if ((await run('sh', ['-c', `command -v ${builder}`], { allowFailure: true })).code === 0) return true;
  }
  return false;
}

/** Clones as the agent's checkout does: the token in the environment only, never in .git/config. */
async function clone(url: string, dir: string): Promise<void> {
  await new Git(path.dirname(dir)).run(['clone', '--quiet', url, dir], { env: remoteEnv({ token: TOKEN }).env });
  const git = new Git(dir);
  await git.run(['config', 'user.name', 'Demo Pipeline']);
  await git.run(['config', 'user.email', 'pipeline@example.com']);
}

function showPullRequest(say: (line: string) => void, ado: AdoServer, id: number): void {
  const pr = ado.pullRequests('gitops').find((p) => p.pullRequestId === id);
  if (!pr) throw new Error(`pull request ${id} is not in the stand-in`);
  say(`    Pull request !${id}: ${pr.title}`);
  say(`    ${pr.sourceRefName} -> ${pr.targetRefName}, ${pr.status}`);
  for (const line of (pr.description ?? '').split('\n')) say(`      | ${line}`);
}

function digestsOf(lock: string | undefined, environment: string): Record<string, string | undefined> {
  const doc = parse(lock ?? '') as { environments?: Record<string, Record<string, { digest?: string }>> };
  return Object.fromEntries(Object.entries(doc.environments?.[environment] ?? {}).map(([name, entry]) => [name, entry.digest]));
}

async function saveRemotes(ado: AdoServer, workdir: string): Promise<void> {
  const remotes = path.join(workdir, 'remotes');
  for (const name of ['app', 'gitops']) {
    await new Git(workdir).run(['clone', '--quiet', '--mirror', ado.remoteUrl('Edge', name), path.join(remotes, `${name}.git`)], { env: remoteEnv({ token: TOKEN }).env });
  }
}

if (require.main === module) {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const workdir = path.resolve(process.argv[2] ?? path.join(repoRoot, '.demo', stamp));
  runDemo({ workdir, say: (line) => console.log(line), taskLine: (line) => console.log(`      ${line}`) }).then(
    (result) => {
      const same = Object.entries(result.devtest.digests).every(([c, d]) => result.qa.digests[c] === d);
      if (!same) {
        console.error('qa does not hold the digests devtest runs');
        process.exit(1);
      }
      if (result.next.qa.heuristic?.hold !== result.rollback.hold) {
        console.error("the next build's promotion did not leave the held heuristic alone");
        process.exit(1);
      }
    },
    (error: Error) => {
      console.error(`\ndemo failed: ${error.message}`);
      process.exit(1);
    },
  );
}
