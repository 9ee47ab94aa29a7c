import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../agent';
import { UserError } from '../errors';
import { insideRoot } from '../files';
import { Git } from '../git/git';
import { fillTemplate } from '../template';
import type { PullRequestInfo, TokenKind } from '../repos/azure-repos';
import { isMergeStrategy, MERGE_STRATEGY_NAMES } from '../repos/merge-strategy';
import type { RetryOptions } from '../retry';
import { lockDiff, parseChanges, shortImage, type BuildRef, type EnvChange } from '../pr/changes';
import { DEFAULT_TITLE, renderDescription, renderTitle } from '../pr/description';
import { reapplyChanges, type Reapply } from '../pr/reapply';

/**
 * CreateEnvPR's core: commits what UpdateGitOpsVersions changed in the GitOps working copy onto one
 * stable branch per environment (`gitops/<env>`), pushes it with the token in git's environment only,
 * and opens the pull request into the target branch, or updates the one already open.
 *
 * When the branch already exists (an open pull request), this run's change goes on top of it: the
 * semantic change (component -> image) is re-applied to the branch's current files, never replayed as
 * text over them. A push rejected because the branch moved is re-fetched, re-applied and retried.
 * Nothing is written to the working copy: commits are made with a private index or in a scratch worktree.
 */

export interface CreateEnvPROptions {
  /** The working copy UpdateGitOpsVersions edited. */
  gitopsPath: string;
  environment: string;
  lockFile?: string;
  /** Default `environments/{environment}`. */
  manifestsPath?: string;
  collectionUrl?: string;
  token?: string;
  /** 'bearer' (the job's token, default) or 'pat' (a personal access token from a service connection). */
  tokenKind?: TokenKind;
  /** Project name or id; default: the project in the working copy's origin URL, then `defaultProject`. */
  project?: string;
  /** System.TeamProject: the last resort for the project. */
  defaultProject?: string;
  /** Repository name or id; default: the working copy's origin. */
  repository?: string;
  targetBranch?: string;
  /** Default `gitops/{environment}`. */
  sourceBranch?: string;
  title?: string;
  /** A template (`{environment}`, `{count}`, `{table}`, `{targetBranch}`); empty means the default table. */
  description?: string;
  /** UpdateGitOpsVersions' `changes` JSON; empty means the lock file's diff. */
  changes?: string;
  reviewers?: string[];
  requiredReviewers?: string[];
  labels?: string[];
  /** Explicit work item ids; when empty and `linkRunWorkItems`, those the service links to `build.id`. */
  workItems?: string[];
  linkRunWorkItems?: boolean;
  /** This run: shown as the producing build of this run's changes. */
  build?: BuildRef;
  isDraft?: boolean;
  autoComplete?: boolean;
  mergeStrategy?: string;
  deleteSourceBranch?: boolean;
  dryRun?: boolean;
  /** How a change is applied again to a newer branch tip (default: the shared GitOps updater). */
  reapply?: Reapply;
  maxPushAttempts?: number;
  retry?: RetryOptions;
  /** Scratch space (the agent's temp directory); default the OS temp directory. */
  tempDir?: string;
}

export interface CreateEnvPRResult {
  /** False when there was nothing to propose: no commit, no pull request. */
  changed: boolean;
  dryRun: boolean;
  sourceBranch: string;
  targetBranch: string;
  /** Every change the pull request carries (this run's and earlier runs' still open). */
  changes: EnvChange[];
  title: string;
  description: string;
  commitId?: string;
  pullRequestId?: number;
  pullRequestUrl?: string;
  created?: boolean;
  pushAttempts: number;
  message: string;
}

const NO_BRANCH = '';
const COMMITTER = { name: 'Azure Pipelines', email: 'azure-pipelines@users.noreply.dev.azure.com' };

export async function createEnvPR(options: CreateEnvPROptions, log: Log): Promise<CreateEnvPRResult> {
  const environment = options.environment.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(environment))
    throw new UserError(`Input 'environment' '${environment}' is not an environment name: use letters, digits, '.', '_' and '-'.`);
  const targetBranch = branchName(options.targetBranch || 'main');
  const sourceBranch = branchName(fillTemplate('sourceBranch', options.sourceBranch || 'gitops/{environment}', { environment }));
  for (const [input, branch] of [['targetBranch', targetBranch], ['sourceBranch', sourceBranch]] as const) {
    if (!(await Git.isValidRef(`refs/heads/${branch}`))) throw new UserError(`Input '${input}' '${branch}' is not a valid branch name (git check-ref-format).`);
  }
  if (sourceBranch === targetBranch) throw new UserError(`Inputs 'sourceBranch' and 'targetBranch' are both '${targetBranch}': the pull request needs its own branch.`);
  const mergeStrategy = options.mergeStrategy || 'squash';
  if (!isMergeStrategy(mergeStrategy)) throw new UserError(`Input 'mergeStrategy' '${mergeStrategy}' is not one of ${MERGE_STRATEGY_NAMES.join(', ')}.`);

  const root = path.resolve(options.gitopsPath);
  const lockFile = options.lockFile || 'versions.yaml';
  const manifestsPath = fillTemplate('manifestsPath', options.manifestsPath || 'environments/{environment}', { environment });
  const git = new Git(root);
  const top = await git.run(['rev-parse', '--show-toplevel', '--show-prefix'], { allowFailure: true }).catch(() => undefined);
  if (!top || top.code !== 0) throw new UserError(`'gitopsPath' ${root} is not a git working copy: check out the GitOps repository there first (a 'checkout:' step).`, { file: root });
  // The second line: gitopsPath relative to the top of the working copy ('' at the top).
  const prefix = top.stdout.split('\n')[1]?.trim() ?? '';
  await insideRoot(root, lockFile);
  await insideRoot(root, manifestsPath);
  const paths = ['--', lockFile, manifestsPath];

  const head = await git.resolve('HEAD');
  if (!head) throw new UserError(`The working copy ${root} has no commit checked out: check out the target branch of the GitOps repository.`, { file: root });
  const status = (await git.text(['status', '--porcelain=v1', '--untracked-files=all', ...paths])).split('\n').filter(Boolean);
  const lockBefore = await showFile(git, head, lockFile);
  const lockAfter = await fs.readFile(path.join(root, lockFile), 'utf8').catch(() => undefined);
  let runChanges = parseChanges(options.changes ?? '');
  if (!runChanges.length && status.length) runChanges = lockDiff(lockBefore, lockAfter, environment, lockFile);
  const build = options.build && (options.build.id || options.build.number) ? options.build : undefined;
  runChanges = runChanges.map((c) => ({ ...c, ...(build ? { build } : {}) }));
  const base: CreateEnvPRResult = { changed: false, dryRun: options.dryRun === true, sourceBranch, targetBranch, changes: runChanges, title: '', description: '', pushAttempts: 0, message: '' };
  if (!status.length && !runChanges.length) {
    return { ...base, message: `No change in ${lockFile} or ${manifestsPath}: no commit and no pull request.` };
  }
  // Check the title and description now, so a bad template fails before anything is pushed.
  const context = { environment, targetBranch, changes: runChanges };
  renderTitle(options.title || DEFAULT_TITLE, context);
  renderDescription(context, options.description);

  const coordinates = await repositoryCoordinates(git, options);
  if (options.dryRun) {
    return {
      ...base,
      changed: true,
      title: renderTitle(options.title || DEFAULT_TITLE, context),
      description: renderDescription(context, options.description),
      message:
        `Dry run: would commit ${status.length} changed file(s) (${runChanges.map((c) => `${c.component} ${shortImage(c.to)}`).join(', ') || 'no lock change'}) ` +
        `to ${sourceBranch} of ${coordinates.project}/${coordinates.repository} and open or update its pull request into ${targetBranch}.`,
    };
  }
  if (!options.token) throw new UserError(`No access token: the task needs the job's access token (System.AccessToken) or a 'connection' to push and open the pull request.`);
  log.setSecret(options.token);
  const auth = gitAuth(options.token, options.tokenKind ?? 'bearer', log);
  if (!options.collectionUrl) throw new UserError(`No collection URL: the task reads it from System.CollectionUri; run it in Azure Pipelines or set the connection's URL.`);

  // Loaded only when a pull request is to be written: dry runs and runs without a change skip its load.
  const { AzureRepos } = await import('../repos/azure-repos');
  const repos = await AzureRepos.open({ collectionUrl: options.collectionUrl, token: options.token, tokenKind: options.tokenKind, project: coordinates.project, repository: coordinates.repository, log, retry: options.retry });
  const remote = repos.repository.remoteUrl;
  const scratch = await fs.mkdtemp(path.join(options.tempDir ?? os.tmpdir(), 'create-env-pr-'));
  try {
    const identity = await committerEnv(git);
    const message = commitMessage(environment, runChanges, build);
    const working = await commitWorkingTree(git, head, paths, message, identity, scratch);
    const reapply = options.reapply ?? reapplyChanges;
    // Every rejected push means another run's push to the branch landed: the runs as a whole make
    // progress, and a run only has to outlast its competitors. Twenty runs of a matrix for the same
    // environment at once lost a run with 6 attempts; 25 covers a pool of that size.
    const maxAttempts = options.maxPushAttempts ?? DEFAULT_PUSH_ATTEMPTS;
    let commit: string | undefined;
    let targetTip = '';
    let attempts = 0;
    let staleFor: string | undefined;
    let stale = false;
    let openPullRequest: PullRequestInfo | undefined;
    for (;;) {
      attempts++;
      const tips = await fetchTips(git, auth, remote, targetBranch, sourceBranch);
      targetTip = tips.target;
      let baseCommit = tips.target;
      openPullRequest = undefined;
      if (tips.source) {
        // The branch exists: stack on it, unless it is the leftover of a completed pull request.
        const open = await repos.findOpenPullRequest(sourceBranch, targetBranch);
        openPullRequest = open;
        if (!open && staleFor !== tips.source) {
          staleFor = tips.source;
          const sourceTip = tips.source;
          stale = (await repos.findPullRequests(sourceBranch, targetBranch)).some((pr) => pr.status !== 'Active' && pr.sourceCommit === sourceTip);
          if (stale) log.info(`${sourceBranch} is left over from a completed pull request: starting it again from ${targetBranch}.`);
        }
        baseCommit = open || !stale ? tips.source : tips.target;
      }
      commit = await changeOn(git, baseCommit, head, working, { environment, lockFile, manifestsPath, changes: runChanges, paths, message, identity, scratch, reapply, log, prefix });
      if (commit === baseCommit) {
        if (baseCommit === tips.target) {
          return { ...base, message: `${targetBranch} already holds this change: no commit and no pull request.` };
        }
        log.info(`${sourceBranch} already holds this change: nothing to push.`);
        break;
      }
      const pushed = await push(git, auth, remote, commit, sourceBranch, tips.source ?? NO_BRANCH);
      if (pushed === 'ok') {
        log.info(`Pushed ${commit.slice(0, 12)} to ${sourceBranch}${tips.source ? ` (on top of ${tips.source.slice(0, 12)})` : ''}.`);
        break;
      }
      if (attempts >= maxAttempts)
        throw new UserError(`${sourceBranch} kept moving while this run pushed (${attempts} attempts): run the task again; nothing was changed on the remote by this run.`);
      const wait = pushRetryWait(attempts);
      log.info(`The push to ${sourceBranch} was rejected because the branch moved; fetching it again and re-applying the change (retry in ${wait} ms).`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }

    // Describe everything the branch carries into the target, not just this run.
    const all = await branchChanges(git, targetTip, commit, environment, lockFile, runChanges);
    const fullContext = { environment, targetBranch, changes: all.length ? all : runChanges };
    const title = renderTitle(options.title || DEFAULT_TITLE, fullContext);
    const description = renderDescription(fullContext, options.description);
    // Work items go with the pull request when it is opened; an open one gets those it lacks, so the
    // promotion lists the work items of every run it carries.
    let workItems = options.workItems ?? [];
    if (!workItems.length && options.linkRunWorkItems && build?.id) {
      workItems = await repos.buildWorkItems(build.id).catch((error: Error) => {
        log.warn(`Could not read the work items linked to build ${build.id} (${error.message}); the pull request goes without them.`);
        return [] as string[];
      });
    }
    const spec = (title: string, description: string, all: EnvChange[]) => ({
      sourceBranch,
      targetBranch,
      title,
      description,
      reviewers: options.reviewers,
      requiredReviewers: options.requiredReviewers,
      labels: options.labels,
      workItems,
      isDraft: options.isDraft,
      autoComplete: options.autoComplete,
      mergeStrategy,
      deleteSourceBranch: options.deleteSourceBranch ?? true,
      mergeCommitMessage: `${title}\n\n${all.map((c) => `${c.component}: ${shortImage(c.from) || '(new)'} -> ${shortImage(c.to)}`).join('\n')}`.slice(0, 4000),
    });
    const outcome = await repos.createOrUpdate(spec(title, description, all), openPullRequest);
    // A run that pushed after this one may have written its (newer) title and description before this
    // run's write landed: the pull request would then describe fewer changes than its branch holds. Look
    // at the branch after writing; while it moved, describe what it holds now. The last writer always
    // checks after its write, so the description ends matching the branch.
    let described = commit;
    try {
      for (let round = 0; round < 10; round++) {
        const now = await remoteTip(git, auth, remote, sourceBranch);
        if (!now || now === described) break;
        const tips = await fetchTips(git, auth, remote, targetBranch, sourceBranch);
        if (!tips.source) break;
        const held = await branchChanges(git, tips.target, tips.source, environment, lockFile, runChanges);
        if (!held.length) break;
        const heldContext = { environment, targetBranch, changes: held };
        log.info(`${sourceBranch} moved to ${tips.source.slice(0, 12)} after this run's push: describing the ${held.length} change(s) it holds now.`);
        await repos.createOrUpdate(spec(renderTitle(options.title || DEFAULT_TITLE, heldContext), renderDescription(heldContext, options.description), held), { ...outcome });
        described = tips.source;
      }
    } catch (error) {
      // The pull request is open and holds this run's change; only its text may lag behind the branch.
      log.warn(`Could not check that pull request ${outcome.id} describes everything ${sourceBranch} holds (${(error as Error).message}); the next run for ${environment} brings it up to date.`);
    }
    return {
      ...base,
      changed: true,
      changes: fullContext.changes,
      title,
      description,
      commitId: commit,
      pullRequestId: outcome.id,
      pullRequestUrl: outcome.webUrl,
      created: outcome.created,
      pushAttempts: attempts,
      message: `${outcome.created ? 'Opened' : 'Updated'} pull request ${outcome.id} from ${sourceBranch} into ${targetBranch}: ${outcome.webUrl}`,
    };
  } finally {
    await git.run(['worktree', 'prune'], { allowFailure: true });
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/**
 * git's environment for the remote: the token reaches git only as an http.extraheader through
 * GIT_CONFIG_* variables, never argv or .git/config. A personal access token goes as Basic.
 */
function gitAuth(token: string, kind: TokenKind, log: Log): Record<string, string> {
  let header = `AUTHORIZATION: bearer ${token}`;
  if (kind === 'pat') {
    const basic = Buffer.from(`pat:${token}`).toString('base64');
    log.setSecret(basic);
    header = `AUTHORIZATION: basic ${basic}`;
  }
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraheader', GIT_CONFIG_VALUE_0: header };
}

const branchName = (value: string) => value.trim().replace(/^refs\/heads\//, '');

async function showFile(git: Git, commit: string, file: string): Promise<string | undefined> {
  const result = await git.run(['show', `${commit}:./${file}`], { allowFailure: true });
  return result.code === 0 ? result.stdout : undefined;
}

/**
 * Project and repository of the pull request: the inputs, else what the working copy's origin URL
 * names (`…/<project>/_git/<repo>`, or `v3/<org>/<project>/<repo>` over SSH), else System.TeamProject.
 * Reading the project from the URL is what puts the pull request where the GitOps repository lives.
 */
export async function repositoryCoordinates(git: Git, options: Pick<CreateEnvPROptions, 'project' | 'repository' | 'defaultProject'>): Promise<{ project: string; repository: string }> {
  const origin = await git.run(['remote', 'get-url', 'origin'], { allowFailure: true });
  const parsed = origin.code === 0 ? parseRemoteUrl(origin.stdout.trim()) : undefined;
  const repository = options.repository || parsed?.repository;
  // The origin's project counts only for the origin's repository.
  const originProject = parsed && (!options.repository || options.repository.toLowerCase() === parsed.repository.toLowerCase()) ? parsed.project : undefined;
  const project = options.project || originProject || options.defaultProject;
  if (!repository) throw new UserError(`Input 'repository' is empty and the working copy has no Azure Repos 'origin' to read it from: set 'repository' to the GitOps repository's name or id.`);
  if (!project) throw new UserError(`Input 'project' is empty and could not be read from the working copy's origin: set 'project'.`);
  return { project, repository };
}

export function parseRemoteUrl(url: string): { project: string; repository: string } | undefined {
  const ssh = /^(?:ssh:\/\/)?[^@]+@[^:/]+[:/]v3\/[^/]+\/([^/]+)\/([^/]+?)\/?$/.exec(url);
  if (ssh) return { project: decodeURIComponent(ssh[1]), repository: decodeURIComponent(ssh[2]) };
  try {
    const parts = new URL(url).pathname.split('/').filter(Boolean);
    const at = parts.indexOf('_git');
    if (at < 1 || !parts[at + 1]) return undefined;
    return { project: decodeURIComponent(parts[at - 1]), repository: decodeURIComponent(parts[at + 1]).replace(/\.git$/, '') };
  } catch {
    return undefined;
  }
}

/** The commit identity: the working copy's configured one, else "Azure Pipelines". */
async function committerEnv(git: Git): Promise<Record<string, string>> {
  const name = (await git.run(['config', 'user.name'], { allowFailure: true })).stdout.trim();
  const email = (await git.run(['config', 'user.email'], { allowFailure: true })).stdout.trim();
  if (name && email) return {};
  return {
    GIT_AUTHOR_NAME: name || COMMITTER.name,
    GIT_AUTHOR_EMAIL: email || COMMITTER.email,
    GIT_COMMITTER_NAME: name || COMMITTER.name,
    GIT_COMMITTER_EMAIL: email || COMMITTER.email,
  };
}

/** `chore(devtest): heuristic v1.4.2, …` with one line per change and the producing build as a trailer. */
export function commitMessage(environment: string, changes: EnvChange[], build?: BuildRef): string {
  const names = changes.map((c) => `${c.component} ${shortImage(c.to)}`);
  const subject = names.length === 0 ? `chore(${environment}): update manifests` : names.length <= 3 ? `chore(${environment}): ${names.join(', ')}` : `chore(${environment}): update ${names.length} components`;
  const body = changes.map((c) => `${c.component}: ${c.from ?? '(new)'} -> ${c.to}${c.bump ? ` (${c.bump})` : ''}`);
  const trailer = build ? [`Build: ${build.number ?? build.id}${build.id ? ` (id ${build.id})` : ''}${build.url ? ` ${build.url}` : ''}`] : [];
  return [subject, '', ...body, ...(trailer.length ? ['', ...trailer] : [])].join('\n') + '\n';
}

/** Commits the working tree's lock and manifests on top of HEAD, through a private index: the working copy is left as it is. */
async function commitWorkingTree(git: Git, head: string, paths: string[], message: string, identity: Record<string, string>, scratch: string): Promise<string> {
  const env = { ...identity, GIT_INDEX_FILE: path.join(scratch, 'index') };
  await git.run(['read-tree', head], { env });
  await addAll(git, paths, env);
  const tree = await git.text(['write-tree'], { env });
  if (tree === (await git.text(['rev-parse', `${head}^{tree}`]))) return head;
  return git.text(['commit-tree', tree, '-p', head, '-F', '-'], { env, input: message });
}

/** `git add --all` of the lock and manifests that exist on disk or in the index (a missing one is not an error). */
async function addAll(git: Git, paths: string[], env: Record<string, string>): Promise<void> {
  const present: string[] = [];
  for (const p of paths.slice(1)) {
    const onDisk = await fs.stat(path.join(git.dir, p)).then(() => true, () => false);
    if (onDisk || (await git.text(['ls-files', '--', p], { env }))) present.push(p);
  }
  if (present.length) await git.run(['add', '--all', '--', ...present], { env });
}

interface ChangeContext {
  /** gitopsPath relative to the repository's top ('' or 'sub/dir/'). */
  prefix: string;
  environment: string;
  lockFile: string;
  manifestsPath: string;
  changes: EnvChange[];
  paths: string[];
  message: string;
  identity: Record<string, string>;
  scratch: string;
  reapply: Reapply;
  log: Log;
}

/**
 * This run's change as a commit on `base`: the working-tree commit itself when it was made on `base`,
 * else the change applied again to `base`'s files in a scratch worktree. Returns `base` when `base`
 * already holds it.
 */
async function changeOn(git: Git, base: string, head: string, working: string, context: ChangeContext): Promise<string> {
  if (base === head) return working;
  const dir = path.join(context.scratch, `apply-${base.slice(0, 12)}-${Date.now()}`);
  await git.run(['worktree', 'add', '--detach', '--quiet', dir, base]);
  try {
    // The same folder of the repository as the working copy's gitopsPath (which may be a subfolder).
    const folder = path.join(dir, context.prefix);
    const tree = new Git(folder);
    await context.reapply({ dir: folder, git: tree, base, head, working, environment: context.environment, lockFile: context.lockFile, manifestsPath: context.manifestsPath, changes: context.changes, log: context.log });
    const env = context.identity;
    await addAll(tree, context.paths, env);
    const written = await tree.text(['write-tree'], { env });
    if (written === (await tree.text(['rev-parse', `${base}^{tree}`]))) return base;
    return await tree.text(['commit-tree', written, '-p', base, '-F', '-'], { env, input: context.message });
  } finally {
    await git.run(['worktree', 'remove', '--force', dir], { allowFailure: true });
  }
}

/** Fetches the target and (when it exists) the source branch into private refs; returns their tips. */
async function fetchTips(git: Git, auth: Record<string, string>, remote: string, target: string, source: string): Promise<{ target: string; source?: string }> {
  const targetRef = 'refs/create-env-pr/target';
  const sourceRef = `refs/create-env-pr/source/${source}`;
  await git.run(['update-ref', '-d', sourceRef], { allowFailure: true });
  // A pattern refspec fetches the source branch only when it exists, in the same round trip.
  const result = await git.run(
    ['fetch', '--quiet', '--no-tags', '--prune', '--no-write-fetch-head', remote, `+refs/heads/${target}:${targetRef}`, `+refs/heads/${source}*:refs/create-env-pr/source/${source}*`],
    { allowFailure: true, env: auth },
  );
  if (result.code !== 0) throw gitFailure(`fetching ${target} from ${remote}`, result.stderr, target);
  return { target: (await git.resolve(targetRef))!, source: await git.resolve(sourceRef) };
}

/** The commit `branch` points at on the remote, or undefined when it does not exist (git ls-remote). */
async function remoteTip(git: Git, auth: Record<string, string>, remote: string, branch: string): Promise<string | undefined> {
  const result = await git.run(['ls-remote', '--', remote, `refs/heads/${branch}`], { allowFailure: true, env: auth });
  if (result.code !== 0) throw gitFailure(`reading ${branch} from ${remote}`, result.stderr, branch);
  return result.stdout.split('\n').find((line) => line.endsWith(`\trefs/heads/${branch}`))?.split('\t')[0];
}

/** How many times a run pushes to a branch that other runs keep moving before it gives up. */
export const DEFAULT_PUSH_ATTEMPTS = 25;

/** Full-jitter backoff before pushing again after the `attempt`-th rejection: at most 2 s. */
export function pushRetryWait(attempt: number, random = Math.random): number {
  return Math.round(random() * Math.min(2000, 250 * 2 ** attempt));
}

/** Pushes `commit` to `branch` only if the branch is still at `expected` ('' = must not exist yet). */
async function push(git: Git, auth: Record<string, string>, remote: string, commit: string, branch: string, expected: string): Promise<'ok' | 'moved'> {
  const result = await git.run(['push', '--porcelain', `--force-with-lease=refs/heads/${branch}:${expected}`, remote, `${commit}:refs/heads/${branch}`], { allowFailure: true, env: auth });
  if (result.code === 0) return 'ok';
  const output = `${result.stdout}\n${result.stderr}`;
  // The lease failed, or another push created or moved the branch between git's look and its update.
  if (/stale info|fetch first|non-fast-forward|\[rejected\]|cannot lock ref|reference already exists|failed to update ref/.test(output) && !/pre-receive hook declined|protected branch/i.test(output)) return 'moved';
  throw gitFailure(`pushing to ${branch}`, output, branch);
}

function gitFailure(what: string, output: string, branch: string): UserError {
  const detail = output.trim().split('\n').slice(-4).join(' ');
  if (/couldn't find remote ref/i.test(output)) return new UserError(`The branch '${branch}' does not exist in the GitOps repository: set 'targetBranch' to an existing branch.`);
  if (/\b401\b|Authentication failed|could not read Username/i.test(output))
    return new UserError(`git ${what}: the token was refused (${detail}). Grant the build service 'Contribute' on the GitOps repository, and use a token valid for it.`);
  if (/\b403\b/.test(output)) return new UserError(`git ${what}: access denied (${detail}). Grant the build service 'Contribute' and 'Create branch' on the GitOps repository.`);
  return new UserError(`git ${what} failed: ${detail}`);
}

/** The changes the branch carries into the target (lock diff), with bumps and producing builds from the commits. */
async function branchChanges(git: Git, target: string, tip: string, environment: string, lockFile: string, runChanges: EnvChange[]): Promise<EnvChange[]> {
  const diff = lockDiff(await showFile(git, target, lockFile), await showFile(git, tip, lockFile), environment, lockFile);
  if (!diff.length) return [];
  const log = await git.text(['log', '--format=%B%x00', `${target}..${tip}`]);
  const bodies = log.split('\0').map((b) => b.trim()).filter(Boolean);
  return diff.map((change) => {
    const own = runChanges.find((c) => c.component === change.component && shortImage(c.to) === shortImage(change.to));
    if (own) return { ...change, bump: own.bump ?? change.bump, files: own.files, build: own.build };
    for (const body of bodies) {
      const line = body.split('\n').find((l) => l.startsWith(`${change.component}: `) && l.includes(`-> ${change.to}`));
      if (!line) continue;
      const buildLine = /^Build: (\S+)(?: \(id (\S+)\))?(?: (\S+))?$/m.exec(body);
      return buildLine ? { ...change, build: { number: buildLine[1], id: buildLine[2], url: buildLine[3] } } : change;
    }
    return change;
  });
}
