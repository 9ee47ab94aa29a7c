import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../agent';
import { UserError } from '../errors';
import { insideRoot } from '../files';
import { Git } from '../git/git';
import { Remote, safeUrl } from '../git/remote';
import { identityEnv } from '../git/working-copy';
import { fillTemplate } from '../template';
import type { AzureRepos, PullRequestInfo, TokenKind } from '../repos/azure-repos';
import { markName, marksFor, markPending } from '../gitops/promotion-marks';
import { isMergeStrategy, MERGE_STRATEGY_NAMES } from '../repos/merge-strategy';
import { sleep, type RetryOptions } from '../retry';
import { DEFAULT_PUSH_ATTEMPTS, fetchTips, pushBranch, pushRetryWait, remoteTip } from '../pr/branch';
import { environmentHolds, type EnvironmentHolds, lockDiff, parseChanges, shortImage, type BuildRef, type EnvChange } from '../pr/changes';
import { type Lock, readLock } from '../lock/lockfile';
import { lockHistory, type LockHistory } from '../gitops/lock-history';
import { commitMessage } from '../pr/commit-message';
import { branchChanges, changeOn, commitWorkingTree, showFile } from '../pr/commits';
import { DEFAULT_TITLE, renderDescription, renderTitle } from '../pr/description';
import { reapplyChanges, type Reapply } from '../pr/reapply';
import { repositoryCoordinates } from '../pr/repository';
import type { NetworkSettings } from '../net/network';

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
  /** The inventory UpdateGitOpsVersions regenerates (its `inventoryFile`): committed with the lock, regenerated on a newer branch. */
  inventoryFile?: string;
  collectionUrl?: string;
  token?: string;
  /** The agent's proxy and CA file (agent.network()): every request and git command goes the way they say. */
  network?: NetworkSettings;
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
  /** The commit's subject (and more lines): a template (`{environment}`, `{count}`, `{components}`); empty means the default. */
  commitMessage?: string;
  /** A template (`{environment}`, `{count}`, `{table}`, `{targetBranch}`); empty means the default table. */
  description?: string;
  /** UpdateGitOpsVersions' `changes` JSON; empty means the lock file's diff. */
  changes?: string;
  /** `imageNames` lines (`component=repository`), as UpdateGitOpsVersions takes them: lock entries kept under an image's name are the component's. */
  imageNames?: string[];
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
  /** Waits between attempts of a REST call or a git network command, and between pushes to a moving branch. */
  retry?: RetryOptions;
  /** Scratch space (the agent's temp directory); default the OS temp directory. */
  tempDir?: string;
  /**
   * Post a pending commit status `gitops/<environment>` on the app commit of each change (its `revision`), in the
   * repository its `source` names, else in `appRepository`; default true. A refusal is a warning.
   */
  promotionMarks?: boolean;
  /** The run's own repository (Build.Repository.ID and System.TeamProject) when it is an Azure Repos one: where marks go for changes without a `source`. */
  appRepository?: { project: string; repository: string };
}

export interface CreateEnvPRResult {
  environment: string;
  /** False when there was nothing to propose: no commit, no pull request. */
  changed: boolean;
  dryRun: boolean;
  sourceBranch: string;
  targetBranch: string;
  /** Every change the pull request carries (this run's and earlier runs' still open). */
  changes: EnvChange[];
  /** The environment's held components once the pull request merges, and the holds it releases. */
  holds?: EnvironmentHolds;
  /** The lock once the pull request merges, with when each entry changed on the target: the summary's inventory. */
  lock?: Lock;
  history?: LockHistory;
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
  const inventoryFile = options.inventoryFile || undefined;
  if (inventoryFile) await insideRoot(root, inventoryFile);
  const paths = ['--', lockFile, manifestsPath, ...(inventoryFile ? [inventoryFile] : [])];

  const head = await git.resolve('HEAD');
  if (!head) throw new UserError(`The working copy ${root} has no commit checked out: check out the target branch of the GitOps repository.`, { file: root });
  const status = (await git.text(['status', '--porcelain=v1', '--untracked-files=all', ...paths])).split('\n').filter(Boolean);
  const lockBefore = await showFile(git, head, lockFile);
  const lockAfter = await fs.readFile(path.join(root, lockFile), 'utf8').catch(() => undefined);
  let runChanges = parseChanges(options.changes ?? '');
  if (!runChanges.length && status.length) runChanges = lockDiff(lockBefore, lockAfter, environment, lockFile, options.imageNames);
  const build = options.build && (options.build.id || options.build.number) ? options.build : undefined;
  runChanges = runChanges.map((c) => ({ ...c, ...(build ? { build } : {}) }));
  const base: CreateEnvPRResult = { environment, changed: false, dryRun: options.dryRun === true, sourceBranch, targetBranch, changes: runChanges, title: '', description: '', pushAttempts: 0, message: '' };
  if (!status.length && !runChanges.length) {
    return { ...base, message: `No change in ${lockFile} or ${manifestsPath}: no commit and no pull request.` };
  }
  // Check the title and description now, so a bad template fails before anything is pushed.
  const context = { environment, targetBranch, changes: runChanges, holds: environmentHolds(lockBefore, lockAfter, environment, lockFile) };
  renderTitle(options.title || DEFAULT_TITLE, context);
  renderDescription(context, options.description);
  const message = commitMessage(environment, runChanges, build, options.commitMessage);
  /** The lock at `tip` and, for the inventory, when each entry changed on `target`. */
  const inventory = async (target: string, text: string | undefined) => {
    if (!text?.trim()) return {};
    const lock = readLock(text, lockFile);
    return { lock, history: await lockHistory(root, lockFile, lock, { rev: target }) };
  };

  const coordinates = await repositoryCoordinates(git, options);
  if (options.dryRun) {
    log.info(`Commit message: ${message.split('\n')[0]}`);
    return {
      ...base,
      ...(await inventory(head, lockAfter)),
      holds: context.holds,
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
  if (!options.collectionUrl) throw new UserError(`No collection URL: the task reads it from System.CollectionUri; run it in Azure Pipelines or set the connection's URL.`);

  // Loaded only when a pull request is to be written: dry runs and runs without a change skip its load.
  const { AzureRepos } = await import('../repos/azure-repos');
  const repos = await AzureRepos.open({ collectionUrl: options.collectionUrl, token: options.token, tokenKind: options.tokenKind, project: coordinates.project, repository: coordinates.repository, log, retry: options.retry, network: options.network });
  const url = repos.repository.remoteUrl;
  const remote = new Remote(git, url, {
    settings: { token: options.token, tokenKind: options.tokenKind, ...options.network },
    label: `the GitOps repository (${safeUrl(url)})`,
    hints: {
      unauthorized: `Grant the build service 'Contribute' on the GitOps repository, and use a token valid for it.`,
      forbidden: `Grant the build service 'Contribute' and 'Create branch' on the GitOps repository.`,
    },
    retry: options.retry,
    log,
  });
  const scratch = await fs.mkdtemp(path.join(options.tempDir ?? os.tmpdir(), 'create-env-pr-'));
  try {
    const identity = await identityEnv(git, COMMITTER);
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
      const tips = await fetchTips(remote, targetBranch, sourceBranch);
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
      commit = await changeOn(git, baseCommit, head, working, { environment, lockFile, manifestsPath, inventoryFile, changes: runChanges, paths, message, identity, scratch, reapply, log, prefix, imageNames: options.imageNames });
      if (commit === baseCommit) {
        if (baseCommit === tips.target) {
          return { ...base, message: `${targetBranch} already holds this change: no commit and no pull request.` };
        }
        log.info(`${sourceBranch} already holds this change: nothing to push.`);
        break;
      }
      const pushed = await pushBranch(remote, commit, sourceBranch, tips.source ?? NO_BRANCH);
      if (pushed === 'ok') {
        log.info(`Pushed ${commit.slice(0, 12)} to ${sourceBranch}${tips.source ? ` (on top of ${tips.source.slice(0, 12)})` : ''}.`);
        break;
      }
      if (attempts >= maxAttempts)
        throw new UserError(`${sourceBranch} kept moving while this run pushed (${attempts} attempts): run the task again; nothing was changed on the remote by this run.`);
      const wait = pushRetryWait(attempts);
      log.info(`The push to ${sourceBranch} was rejected because the branch moved; fetching it again and re-applying the change (retry in ${wait} ms).`);
      await (options.retry?.sleep ?? sleep)(wait);
    }

    // Describe everything the branch carries into the target, not just this run.
    const all = await branchChanges(git, targetTip, commit, environment, lockFile, runChanges, options.imageNames);
    const lockAtTip = await showFile(git, commit, lockFile);
    const holds = async (target: string, tip: string, tipLock?: string) => environmentHolds(await showFile(git, target, lockFile), tipLock ?? (await showFile(git, tip, lockFile)), environment, lockFile);
    const fullContext = { environment, targetBranch, changes: all.length ? all : runChanges, holds: await holds(targetTip, commit, lockAtTip) };
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
        const now = await remoteTip(remote, sourceBranch);
        if (!now || now === described) break;
        const tips = await fetchTips(remote, targetBranch, sourceBranch);
        if (!tips.source) break;
        const held = await branchChanges(git, tips.target, tips.source, environment, lockFile, runChanges, options.imageNames);
        if (!held.length) break;
        const heldContext = { environment, targetBranch, changes: held, holds: await holds(tips.target, tips.source) };
        log.info(`${sourceBranch} moved to ${tips.source.slice(0, 12)} after this run's push: describing the ${held.length} change(s) it holds now.`);
        await repos.createOrUpdate(spec(renderTitle(options.title || DEFAULT_TITLE, heldContext), renderDescription(heldContext, options.description), held), { ...outcome });
        described = tips.source;
      }
    } catch (error) {
      // The pull request is open and holds this run's change; only its text may lag behind the branch.
      log.warn(`Could not check that pull request ${outcome.id} describes everything ${sourceBranch} holds (${(error as Error).message}); the next run for ${environment} brings it up to date.`);
    }
    if (options.promotionMarks ?? true) await markPromotion(repos, outcome, targetBranch, environment, runChanges, options, log);
    return {
      ...base,
      ...(await inventory(targetTip, lockAtTip)),
      changed: true,
      changes: fullContext.changes,
      holds: fullContext.holds,
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

/** Pending promotion marks on the app commits of this run's changes (the pull request's earlier changes were marked by their runs). */
async function markPromotion(repos: AzureRepos, pr: PullRequestInfo, targetBranch: string, environment: string, changes: EnvChange[], options: CreateEnvPROptions, log: Log): Promise<void> {
  // The GitOps repository is not where images are built: a run in its own pipeline marks only changes that name their source.
  const fallback = options.appRepository && options.appRepository.repository.toLowerCase() !== repos.repository.id.toLowerCase() ? options.appRepository : undefined;
  const { marks, skipped } = marksFor(changes, environment, options.collectionUrl!, fallback);
  if (skipped.length) log.info(`No promotion mark for ${skipped.join(', ')}.`);
  if (!marks.length) return;
  const { StatusClient } = await import('../repos/statuses');
  const client = new StatusClient({ collectionUrl: options.collectionUrl!, token: options.token!, tokenKind: options.tokenKind, log, retry: options.retry, network: options.network });
  const posted = await markPending(client, marks, { id: pr.id, url: pr.webUrl, targetBranch }, log);
  log.info(`Marked ${posted} app commit(s) ${markName(environment)}: pending (PR !${pr.id}).`);
}

const branchName = (value: string) => value.trim().replace(/^refs\/heads\//, '');
