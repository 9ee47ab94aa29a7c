import type { SourceLocation } from '../agent';
import { UserError } from '../errors';
import type { LockImage } from '../lock/lockfile';
import { bumpKind, compareVersions, parseVersion } from '../versions/order';
import type { Desired } from './sources';

export type MaxBump = 'major' | 'minor' | 'patch';

/** What a component moves from: its lock entry, or on a first run what the environment deploys today (newest first). */
export interface MovesFrom {
  pins: LockImage[];
  where: SourceLocation;
  /** Said in messages when the version is not the lock's: `deployed today, <file>`. */
  deployed?: boolean;
}

export interface VersionPolicy {
  allowDowngrade?: boolean;
  maxBump: MaxBump;
  requireSemVer?: boolean;
}

const BUMP_RANK: Record<string, number> = { none: 0, digest: 0, prerelease: 1, patch: 1, minor: 2, major: 3 };

/**
 * No downgrade unless allowed, no step over maxBump, SemVer where asked. A move between tags that are not
 * both SemVer cannot be checked: it fails with requireSemVer, else it is a warning (returned) when a policy
 * would have applied. Throws a UserError at the lock line (or the deployed reference) of the component.
 */
export function checkVersionPolicies(environment: string, desired: Desired, from: ReadonlyMap<string, MovesFrom>, policy: VersionPolicy): string[] {
  const warnings: string[] = [];
  for (const [component, image] of desired) {
    const before = from.get(component);
    for (const tag of new Set(before?.pins.map((p) => p.tag))) {
      if (tag === image.tag) continue;
      // A rollback goes back to what the lock recorded before: only a step up (undoing a rollback) is checked.
      if (image.rollback && !(parseVersion(tag) && parseVersion(image.tag) && compareVersions(image.tag, tag) > 0)) continue;
      const where = before!.where;
      const shown = before!.deployed ? `${tag} (deployed today, ${where.file})` : tag;
      if (!parseVersion(tag) || !parseVersion(image.tag)) {
        const odd = parseVersion(tag) ? image.tag : tag;
        if (policy.requireSemVer) {
          throw new UserError(`${component} would move from ${shown} to ${image.tag} in '${environment}', and ${odd} is not a SemVer version, which requireSemVer asks for: use SemVer tags (v1.4.2), or turn requireSemVer off to move anyway.`, where);
        }
        const unchecked = [...(policy.allowDowngrade ? [] : ['no downgrade']), ...(policy.maxBump === 'major' ? [] : [`maxBump '${policy.maxBump}'`])];
        if (unchecked.length) warnings.push(`${component}: ${shown} -> ${image.tag} in '${environment}': ${odd} is not a SemVer version, so ${unchecked.join(' and ')} cannot be checked; set requireSemVer: true to refuse such moves.`);
        continue;
      }
      if (compareVersions(image.tag, tag) < 0 && !policy.allowDowngrade) {
        throw new UserError(candidateOfRunning(tag, image.tag) ? candidateMessage(component, shown, image.tag, environment, image.origin) : `${component} would move down from ${shown} to ${image.tag} in '${environment}' (from ${image.origin}): set allowDowngrade: true to roll back on purpose.`, where);
      }
      const bump = bumpKind(tag, image.tag);
      if (BUMP_RANK[bump] > BUMP_RANK[policy.maxBump]) {
        throw new UserError(`${component} would take a ${bump} step from ${shown} to ${image.tag} in '${environment}', more than maxBump '${policy.maxBump}' allows: review it and raise maxBump for this run.`, where);
      }
    }
  }
  return warnings;
}

/** Whether `candidate` is a pre-release of the very release `running` is (v0.1.0-rc.5 of 0.1.0). */
function candidateOfRunning(running: string, candidate: string): boolean {
  const r = parseVersion(running)!;
  const c = parseVersion(candidate)!;
  return !r.prerelease.length && c.prerelease.length > 0 && r.major === c.major && r.minor === c.minor && r.patch === c.patch;
}

/** A release candidate of the version already running: why SemVer calls it older, and the three ways out. */
function candidateMessage(component: string, running: string, candidate: string, environment: string, origin: string): string {
  const r = parseVersion(candidate)!;
  const core = `${r.major}.${r.minor}.${r.patch}`;
  return (
    `${component} runs ${running} in '${environment}', and ${candidate} (from ${origin}) is a pre-release of that same ${core}, which SemVer orders before the release, so this move is a downgrade. ` +
    `Either bump the crate's version (to ${r.major}.${r.minor}.${r.patch + 1} or later) so its candidates are newer, build a release without preRelease, or set allowDowngrade: true for this one run.`
  );
}
