import * as semver from 'semver';

/**
 * Version order used everywhere: SemVer precedence, except that a pre-release identifier of letters
 * followed by digits (`rc10`, the form older pipelines push as `-rc<BuildId>`) compares as the letters
 * and then the number, so `rc10` is newer than `rc9`.
 */

export interface ParsedVersion {
  major: number;
  minor: number;
  patch: number;
  prerelease: Array<string | number>;
}

/** Parses `1.2.3`, `v1.2.3`, `v1.2.3-rc.5`, `1.2.3-rc10`; build metadata is ignored. Undefined if not a version. */
export function parseVersion(text: string): ParsedVersion | undefined {
  const bare = text.trim().replace(/^v/i, '');
  // semver.parse would also take a second 'v' ('vv1.2.3'): only one prefix is a version.
  const parsed = /^\d/.test(bare) ? semver.parse(bare) : null;
  if (!parsed) return undefined;
  const prerelease = parsed.prerelease.flatMap((id) => {
    const split = typeof id === 'string' ? /^([A-Za-z]+)(\d+)$/.exec(id) : null;
    return split ? [split[1], Number(split[2])] : [id];
  });
  return { major: parsed.major, minor: parsed.minor, patch: parsed.patch, prerelease };
}

function compareIdentifiers(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareParsed(a: ParsedVersion, b: ParsedVersion): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return Math.sign(a[key] - b[key]);
  }
  if (!a.prerelease.length || !b.prerelease.length) return Math.sign(b.prerelease.length - a.prerelease.length);
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    if (i >= a.prerelease.length) return -1;
    if (i >= b.prerelease.length) return 1;
    const order = compareIdentifiers(a.prerelease[i], b.prerelease[i]);
    if (order) return order;
  }
  return 0;
}

/** Compares two version tags; tags that are not versions sort before every version, by name. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (pa && pb) return compareParsed(pa, pb) || (a < b ? -1 : a > b ? 1 : 0);
  if (pa || pb) return pa ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The newest of `tags` that are versions (and match `filter` when given), or undefined. */
export function newest(tags: Iterable<string>, filter?: RegExp): string | undefined {
  let best: string | undefined;
  for (const tag of tags) {
    if (filter) filter.lastIndex = 0; // a /g or /y filter would otherwise skip every other match
    if ((filter && !filter.test(tag)) || !parseVersion(tag)) continue;
    if (best === undefined || compareVersions(tag, best) > 0) best = tag;
  }
  return best;
}

export type Bump = 'major' | 'minor' | 'patch' | 'prerelease' | 'none';
/** The bump of a component's move: a SemVer step, or `digest` (the same tag, rebuilt), or `none`. */
export type ChangeBump = Bump | 'digest';

/** How far `to` moves from `from`: the highest part that changed; 'none' when equal or not versions. */
export function bumpKind(from: string, to: string): Bump {
  const a = parseVersion(from);
  const b = parseVersion(to);
  if (!a || !b) return 'none';
  if (a.major !== b.major) return 'major';
  if (a.minor !== b.minor) return 'minor';
  if (a.patch !== b.patch) return 'patch';
  return compareParsed(a, b) === 0 ? 'none' : 'prerelease';
}

/** What a component runs, as far as its bump goes. */
interface Pin {
  image: string;
  tag: string;
  digest?: string;
}

/**
 * The one bump word of a component's move, in UpdateGitOpsVersions' `changes` and CreateEnvPR's table alike:
 * the SemVer step between the tags (bumpKind); `digest` when only the digest moved (same repository and tag);
 * `none` for a component new to the environment, another repository under the same tag, or tags that are
 * not versions.
 */
export function changeBump(from: Pin | undefined, to: Pin): ChangeBump {
  if (!from) return 'none';
  if (from.tag !== to.tag) return bumpKind(from.tag, to.tag);
  return from.image === to.image && (from.digest ?? '') !== (to.digest ?? '') ? 'digest' : 'none';
}
