import type { SourceLocation } from '../agent';
import { UserError } from '../errors';
import { parseImageRef, repositoryLocation } from '../images/reference';
import { splitRegistryAddress } from '../images/registry-host';
import type { LockImage } from '../lock/lockfile';
import { type Bump, bumpKind, compareVersions, parseVersion } from '../versions/order';
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
 * What a move from tag `from` to tag `to` breaks: `not-semver` when either is no SemVer version (the policies
 * cannot be checked), `downgrade` (unless allowed), `max-bump` (a step over maxBump), or nothing; with the step.
 */
export function versionStep(from: string, to: string, policy: VersionPolicy): { broken?: 'not-semver' | 'downgrade' | 'max-bump'; bump: Bump } {
  if (!parseVersion(from) || !parseVersion(to)) return { broken: 'not-semver', bump: 'none' };
  const bump = bumpKind(from, to);
  if (compareVersions(to, from) < 0 && !policy.allowDowngrade) return { broken: 'downgrade', bump };
  return BUMP_RANK[bump] > BUMP_RANK[policy.maxBump] ? { broken: 'max-bump', bump } : { bump };
}

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
      const step = versionStep(tag, image.tag, policy);
      if (step.broken === 'not-semver') {
        const odd = parseVersion(tag) ? image.tag : tag;
        if (policy.requireSemVer) {
          throw new UserError(`${component} would move from ${shown} to ${image.tag} in '${environment}', and ${odd} is not a SemVer version, which requireSemVer asks for: use SemVer tags (v1.4.2), or turn requireSemVer off to move anyway.`, where);
        }
        const unchecked = [...(policy.allowDowngrade ? [] : ['no downgrade']), ...(policy.maxBump === 'major' ? [] : [`maxBump '${policy.maxBump}'`])];
        if (unchecked.length) warnings.push(`${component}: ${shown} -> ${image.tag} in '${environment}': ${odd} is not a SemVer version, so ${unchecked.join(' and ')} cannot be checked; set requireSemVer: true to refuse such moves.`);
      } else if (step.broken === 'downgrade') {
        const message = candidateOfRunning(tag, image.tag)
          ? candidateMessage(component, shown, image.tag, environment, image.origin)
          : `${component} would move down from ${shown} to ${image.tag} in '${environment}' (from ${image.origin}): set allowDowngrade: true to roll back on purpose.`;
        throw new UserError(message, where);
      } else if (step.broken === 'max-bump') {
        throw new UserError(`${component} would take a ${step.bump} step from ${shown} to ${image.tag} in '${environment}', more than maxBump '${policy.maxBump}' allows: review it and raise maxBump for this run.`, where);
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

/** An allowedRegistries entry (`host`, `host/prefix`, `*` globs) as a pattern over registryName, its host spelled as registryHost does. */
function registryPattern(pattern: string): RegExp {
  const { host, path } = splitRegistryAddress(pattern);
  const body = (path ? `${host}/${path}` : host).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${body}(/|$)`);
}

/** The name an image is checked against allowedRegistries with: `registry/path`, Docker Hub images as docker.io/library/… */
function registryName(image: string): string {
  const { registry, path } = repositoryLocation(parseImageRef(image)?.name ?? image.split('@')[0]);
  return `${registry}/${path}`;
}

/** Whether an image (a reference or a repository) is in one of the allowedRegistries entries. */
export function registryAllowed(allowed: readonly string[]): (image: string) => boolean {
  const patterns = allowed.map(registryPattern);
  return (image) => patterns.some((p) => p.test(registryName(image)));
}
