import type { Log } from '../agent';
import { UserError } from '../errors';
import type { Git } from '../git/git';
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
  log: Log;
}

/** Applies this run's change to the files in `context.dir`; throws a UserError when it cannot. */
export type Reapply = (context: ReapplyContext) => Promise<void>;

/**
 * The default way a change goes on top of a branch that moved. It applies this run's edit (the
 * difference between `head` and `working`) to the branch's files with git's three-way merge, so edits
 * to different components combine and the branch's other changes stay. A conflict (both runs moved the
 * same line) is refused with the files named, and nothing is pushed.
 *
 * The semantic re-apply through the shared GitOps updater (`updateGitOps` with `source: images`)
 * replaces this once that module is on main; the CreateEnvPR core takes either through `reapply`.
 */
export const reapplyChanges: Reapply = async (context) => {
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
