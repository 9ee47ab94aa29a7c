import { UserError } from '../errors';
import { classifyGitFailure, type Remote } from '../git/remote';

/**
 * The environment branch on the remote: its tip and the target's fetched into private refs, its tip
 * read, and this run's commit pushed only if the branch is still where it was read. Every command runs
 * through `Remote`: the token in git's environment only, transient failures tried again.
 */

/** How many times a run pushes to a branch that other runs keep moving before it gives up. */
export const DEFAULT_PUSH_ATTEMPTS = 25;

/** Full-jitter backoff before pushing again after the `attempt`-th rejection: at most 2 s. */
export function pushRetryWait(attempt: number, random = Math.random): number {
  return Math.round(random() * Math.min(2000, 250 * 2 ** attempt));
}

/** Fetches the target and (when it exists) the source branch into private refs; returns their tips. */
export async function fetchTips(remote: Remote, target: string, source: string): Promise<{ target: string; source?: string }> {
  const git = remote.git;
  const targetRef = 'refs/create-env-pr/target';
  const sourceRef = `refs/create-env-pr/source/${source}`;
  await git.run(['update-ref', '-d', sourceRef], { allowFailure: true });
  // A pattern refspec fetches the source branch only when it exists, in the same round trip.
  const result = await remote.run(`Fetching ${target}`, [
    'fetch',
    '--quiet',
    '--no-tags',
    '--prune',
    '--no-write-fetch-head',
    '--',
    remote.name,
    `+refs/heads/${target}:${targetRef}`,
    `+refs/heads/${source}*:refs/create-env-pr/source/${source}*`,
  ]);
  if (result.code !== 0 && classifyGitFailure(result.stderr) === 'missing-ref')
    throw new UserError(`The branch '${target}' does not exist in the GitOps repository: set 'targetBranch' to an existing branch.`);
  if (result.code !== 0) throw remote.failure(`fetch ${target} from`, result.stderr);
  return { target: (await git.resolve(targetRef))!, source: await git.resolve(sourceRef) };
}

/** The commit `branch` points at on the remote, or undefined when it does not exist (git ls-remote). */
export async function remoteTip(remote: Remote, branch: string): Promise<string | undefined> {
  const result = await remote.run(`Reading ${branch}`, ['ls-remote', '--', remote.name, `refs/heads/${branch}`]);
  if (result.code !== 0) throw remote.failure(`read ${branch} from`, result.stderr);
  return result.stdout.split('\n').find((line) => line.endsWith(`\trefs/heads/${branch}`))?.split('\t')[0];
}

/**
 * Pushes `commit` to `branch` only if the branch is still at `expected` ('' = must not exist yet).
 * 'moved' when it was not: another push created or moved it since it was read (or a push of this run
 * whose answer was lost landed: the caller reads the branch again either way).
 */
export async function pushBranch(remote: Remote, commit: string, branch: string, expected: string): Promise<'ok' | 'moved'> {
  const result = await remote.run(`Pushing to ${branch}`, ['push', '--porcelain', `--force-with-lease=refs/heads/${branch}:${expected}`, '--', remote.name, `${commit}:refs/heads/${branch}`]);
  if (result.code === 0) return 'ok';
  const output = `${result.stdout}\n${result.stderr}`;
  if (classifyGitFailure(output) === 'rejected') return 'moved';
  throw remote.failure(`push to ${branch} of`, output);
}
