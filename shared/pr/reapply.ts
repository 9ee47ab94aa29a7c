import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../agent';
import { UserError } from '../errors';
import type { Git } from '../git/git';
import { updateGitOps } from '../flows/update-gitops';
import { compareVersions, parseVersion } from '../versions/order';
import { parseImageRef } from '../images/reference';
import { readEnvironment } from '../lock/lockfile';
import { byComponent, parseImageNames } from '../images/component-images';
import type { EnvChange } from './changes';

/** Where and what to apply again: a scratch worktree checked out at the branch's current tip. */
export interface ReapplyContext {
  /** The scratch worktree, at `base`. */
  dir: string;
  git: Git;
  /** The commit the change goes on (the branch's tip, or the target's). */
  base: string;
  /** The commit the working copy had checked out when UpdateGitOpsVersions edited it. */
  head: string;
  /** The working copy's edits as a commit on `head`. */
  working: string;
  environment: string;
  lockFile: string;
  manifestsPath: string;
  /** This run's changes: component -> full image reference. */
  changes: EnvChange[];
  /** The inventory UpdateGitOpsVersions regenerates beside the lock, when it keeps one. */
  inventoryFile?: string;
  log: Log;
  /** `imageNames` lines: lock entries kept under an image's name are the component's. */
  imageNames?: string[];
}

/** Applies this run's change to the files in `context.dir`; throws a UserError when it cannot. */
export type Reapply = (context: ReapplyContext) => Promise<void>;

/**
 * This run's edit (the difference between `head` and `working`) applied to the branch's files with
 * git's three-way merge: for a change without `changes` (a manifest-only edit). A conflict is refused
 * with the files named, and nothing is pushed.
 */
export const applyWorkingEdit: Reapply = async (context) => {
  if (context.working === context.head) {
    context.log.debug('No working-copy edit to apply again: the branch is left as it is.');
    return;
  }
  const result = await context.git.run(['cherry-pick', '--no-commit', '--strategy=ort', '-X', 'find-renames', context.working], {
    allowFailure: true,
    env: { GIT_AUTHOR_NAME: 'CreateEnvPR', GIT_AUTHOR_EMAIL: 'create-env-pr@invalid', GIT_COMMITTER_NAME: 'CreateEnvPR', GIT_COMMITTER_EMAIL: 'create-env-pr@invalid' },
  });
  if (result.code === 0) return;
  const conflicted = (await context.git.run(['diff', '--name-only', '--diff-filter=U'], { allowFailure: true })).stdout.trim().split('\n').filter(Boolean);
  await context.git.run(['cherry-pick', '--abort'], { allowFailure: true });
  const what = context.changes.map((c) => c.component).join(', ') || 'the edit';
  throw new UserError(
    `This run's change (${what}) conflicts with what the pull request's branch already holds in ${conflicted.join(', ') || 'the same lines'}: ` +
      `nothing was pushed. Merge or abandon the open pull request for ${context.environment}, then run again.`,
    conflicted[0] ? { file: conflicted[0] } : undefined,
  );
};

/**
 * The semantic re-apply: this run's changes (component -> full image reference) applied to the
 * branch's current files with the shared GitOps updater, as UpdateGitOpsVersions would apply them
 * (`source: images`, digests as given), so the lock and every manifest reference move together and
 * the branch's other changes stay. A component the branch already has at a newer version keeps it:
 * two runs bumping the same component end with the newer version, unless this run's change is a
 * rollback. The holds the run set or released go with its changes, and a component the branch holds is
 * left alone. The updater's policies (no downgrade, maxBump) still apply. Without `changes` (a
 * manifest-only edit), the edit itself is applied.
 */
export const reapplyChanges: Reapply = async (context) => {
  if (!context.changes.length) return applyWorkingEdit(context);
  const lockText = await fs.readFile(path.join(context.dir, context.lockFile), 'utf8').catch(() => undefined);
  const current = byComponent(readEnvironment(lockText, context.lockFile, context.environment), parseImageNames(context.imageNames ?? []), context.lockFile).entries;
  const changes = context.changes.filter((change) => {
    const tag = parseImageRef(change.to)?.tag;
    const have = current.get(change.component)?.tag;
    if (change.rollback || !have || !tag || !parseVersion(have) || !parseVersion(tag) || compareVersions(have, tag) <= 0) return true;
    context.log.info(`${change.component}: the pull request's branch already has ${have}, newer than this run's ${tag}; keeping ${have}.`);
    return false;
  });
  if (!changes.length) return;
  await updateGitOps(
    {
      gitopsPath: context.dir,
      environment: context.environment,
      lockFile: context.lockFile,
      manifestsPath: context.manifestsPath,
      reapply: changes,
      pinDigest: false,
      inventoryFile: context.inventoryFile,
      imageNames: context.imageNames,
    },
    context.log,
  );
};
