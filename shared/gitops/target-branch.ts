import type { Log } from '../agent';
import { UserError } from '../errors';
import { Git } from '../git/git';
import { Remote, type RemoteSettings } from '../git/remote';
import type { Lock, LockEntry } from '../lock/lockfile';
import { showFile } from '../pr/commits';
import type { Findings } from './findings';
import { type MaxBump, versionStep } from './policies';

/**
 * The pull request's target branch, as the validation compares with it: its lock (read with `git show`), and the
 * moves of each component between it and the pull request (no downgrade unless allowed, no step over maxBump).
 */

/**
 * The lock file as `branch` holds it: from `origin/<branch>` when the checkout has it, else fetched (only that
 * branch, shallow in a shallow checkout, into FETCH_HEAD: no ref of the working copy changes) with the job's
 * token in git's environment. Undefined when the branch has no lock yet.
 */
export async function lockOnBranch(gitopsPath: string, lockFile: string, branch: string, settings: RemoteSettings, log: Log): Promise<{ text?: string; commit: string }> {
  const git = new Git(gitopsPath);
  const name = branch.replace(/^refs\/heads\//, '');
  const inside = await git.run(['rev-parse', '--is-inside-work-tree', '--is-shallow-repository'], { allowFailure: true });
  if (inside.code !== 0) throw new UserError(`gitopsPath ${gitopsPath} is not a git working copy, so the lock on the target branch '${name}' cannot be read: check out the GitOps repository there.`, { file: gitopsPath });
  let commit = await git.resolve(`refs/remotes/origin/${name}`);
  if (!commit) {
    const remote = new Remote(git, 'origin', {
      settings,
      hints: {
        unauthorized: `Run the task with the job's access token (a checkout of this repository provides it).`,
        forbidden: `Grant the build service 'Read' on the GitOps repository.`,
      },
      log,
    });
    const shallow = inside.stdout.split('\n')[1]?.trim() === 'true';
    const fetched = await remote.run(`fetching ${name}`, ['fetch', '--quiet', '--no-tags', ...(shallow ? ['--depth=1'] : []), 'origin', `refs/heads/${name}`]);
    if (fetched.code !== 0) throw remote.failure(`fetch the target branch '${name}' from`, fetched.stderr);
    commit = await git.resolve('FETCH_HEAD');
    if (!commit) throw new UserError(`The target branch '${name}' could not be read after fetching it from origin.`);
    log.debug(`fetched ${name} (${commit.slice(0, 12)}) to compare versions with`);
  }
  return { text: await showFile(git, commit, lockFile), commit };
}

/** The lock entry's `hold` (a rollback on purpose, set by a rollback), when the lock has one. */
const held = (entry: LockEntry) => typeof (entry as LockEntry & { hold?: unknown }).hold === 'string';

/**
 * For each component of `environments` in both locks whose tag moved: a `downgrade` finding (unless allowed, or
 * the entry is on hold: a rollback) or a `max-bump` finding, at the component's line in the pull request's lock.
 * Moves between tags that are not SemVer cannot be checked: each is a warning (returned).
 */
export function checkVersionMoves(now: Lock, then: Lock, environments: readonly string[], policy: { maxBump: MaxBump; allowDowngrade: boolean }, branch: string, findings: Findings): string[] {
  const warnings: string[] = [];
  for (const environment of environments) {
    const before = then.environments.get(environment);
    for (const [component, entry] of now.environments.get(environment) ?? []) {
      const old = before?.get(component);
      if (!old || old.tag === entry.tag) continue;
      const step = versionStep(old.tag, entry.tag, { maxBump: policy.maxBump, allowDowngrade: policy.allowDowngrade || held(entry) });
      const where = { environment, component, file: now.file, line: entry.line };
      if (step.broken === 'not-semver') {
        warnings.push(`${component} moves from ${old.tag} to ${entry.tag} in '${environment}': not both SemVer versions, so no downgrade and maxBump cannot be checked.`);
      } else if (step.broken === 'downgrade') {
        findings.add({ ...where, rule: 'downgrade', message: `${component} moves down from ${old.tag} (on ${branch}) to ${entry.tag} in '${environment}': a rollback on purpose sets 'hold' on the entry (or allowDowngrade: true on this check).` });
      } else if (step.broken === 'max-bump') {
        findings.add({ ...where, rule: 'max-bump', message: `${component} takes a ${step.bump} step from ${old.tag} (on ${branch}) to ${entry.tag} in '${environment}', more than maxBump '${policy.maxBump}' allows: split the move, or raise maxBump for this pull request's check.` });
      }
    }
  }
  return warnings;
}
