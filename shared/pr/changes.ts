import { UserError } from '../errors';
import { keysByImage, parseImageNames } from '../images/component-images';
import { isRevision, parseImageRef } from '../images/reference';
import { lockReference, readEnvironment } from '../lock/lockfile';
import { changeBump, compareVersions, parseVersion } from '../versions/order';

/** The producing build of a change, as the pull request's table shows it. */
export interface BuildRef {
  number?: string;
  id?: string;
  url?: string;
}

/**
 * One component's move in an environment, the shape UpdateGitOpsVersions writes to its `changes`
 * output: `from` and `to` are image references (`repo:tag@digest`, any part optional but the tag).
 */
export interface EnvChange {
  component: string;
  from?: string;
  to: string;
  bump?: string;
  files?: string[];
  build?: BuildRef;
  /** Set back on purpose (UpdateGitOpsVersions `source: revision`, or a downgrade read from the lock). */
  rollback?: boolean;
  /** The hold the change put on the component. */
  hold?: string;
  /** The change removed the component's hold (`release`). */
  released?: boolean;
  /** The app commit that built `to`, as the lock records it: where the promotion mark goes. */
  revision?: string;
  /** The app repository's URL (images.json `source`). */
  source?: string;
}

/** Parses the `changes` input; anything but a JSON array of `{component, to}` objects is a UserError. */
export function parseChanges(text: string, origin = "input 'changes'"): EnvChange[] {
  if (!text.trim()) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${origin} is not valid JSON (${(error as Error).message}): pass the 'changes' output of UpdateGitOpsVersions, or leave it empty to read the lock file's diff.`);
  }
  if (!Array.isArray(value)) throw new UserError(`${origin} must be a JSON array of {component, from, to} objects, as UpdateGitOpsVersions writes it.`);
  return value.map((item: unknown, index) => {
    const c = item as Partial<EnvChange> | null;
    if (!c || typeof c.component !== 'string' || !c.component || typeof c.to !== 'string' || !c.to)
      throw new UserError(`${origin}: entry ${index + 1} needs a 'component' and a 'to' image reference (repo:tag@digest).`);
    return {
      component: c.component,
      to: c.to,
      ...(typeof c.from === 'string' && c.from ? { from: c.from } : {}),
      ...(typeof c.bump === 'string' ? { bump: c.bump } : {}),
      ...(Array.isArray(c.files) ? { files: c.files.map(String) } : {}),
      ...(c.rollback === true ? { rollback: true } : {}),
      ...(typeof c.hold === 'string' && c.hold ? { hold: c.hold } : {}),
      ...(c.released === true ? { released: true } : {}),
      ...(typeof c.revision === 'string' && isRevision(c.revision) ? { revision: c.revision } : {}),
      ...(typeof c.source === 'string' && c.source ? { source: c.source } : {}),
    };
  });
}

/** A hold UpdateGitOpsVersions puts on a rollback: `rollback to <revision> by <person> in run <number>`. */
const isRollbackHold = (hold: string | undefined): boolean => !!hold && /^rollback\b/i.test(hold);

const downgrade = (from: string, to: string) => !!parseVersion(from) && !!parseVersion(to) && compareVersions(to, from) < 0;

/**
 * The changes between two versions of the lock file, for one environment, sorted by component. A change
 * that adds a rollback hold, or moves to an older version, is a rollback; one that drops a hold released it.
 * An entry kept under a component's image name (`imageNames` lines, `component=repository`) is named as the component.
 */
export function lockDiff(before: string | undefined, after: string | undefined, environment: string, file = 'versions.yaml', imageNames: string[] = []): EnvChange[] {
  const old = readEnvironment(before, file, environment);
  const now = readEnvironment(after, file, environment);
  const names = keysByImage(new Map([...now].map(([key, entry]) => [key, entry.image])), parseImageNames(imageNames), `${file} ('${environment}')`);
  const changes: EnvChange[] = [];
  for (const [component, image] of now) {
    const previous = old.get(component);
    const to = lockReference(image);
    const from = previous && lockReference(previous);
    if (from === to) continue;
    const hold = image.hold !== previous?.hold ? image.hold : undefined;
    const rollback = isRollbackHold(hold) || (!!previous && downgrade(previous.tag, image.tag));
    changes.push({
      component: names.get(component) ?? component,
      to,
      ...(from ? { from } : {}),
      bump: changeBump(previous, image),
      ...(rollback ? { rollback } : {}),
      ...(hold ? { hold } : {}),
      ...(previous?.hold && !image.hold ? { released: true } : {}),
      ...(image.revision ? { revision: image.revision } : {}),
    });
  }
  return changes.sort((a, b) => a.component.localeCompare(b.component));
}

/** The holds of an environment a pull request shows: every held component after it, and those it releases. */
export interface EnvironmentHolds {
  held: Array<{ component: string; image: string; hold: string }>;
  released: Array<{ component: string; hold: string }>;
}

export function environmentHolds(before: string | undefined, after: string | undefined, environment: string, file = 'versions.yaml'): EnvironmentHolds {
  const old = readEnvironment(before, file, environment);
  const now = readEnvironment(after, file, environment);
  const byName = (a: { component: string }, b: { component: string }) => a.component.localeCompare(b.component);
  return {
    held: [...now].flatMap(([component, entry]) => (entry.hold ? [{ component, image: lockReference(entry), hold: entry.hold }] : [])).sort(byName),
    released: [...old].flatMap(([component, entry]) => (entry.hold && now.has(component) && !now.get(component)!.hold ? [{ component, hold: entry.hold }] : [])).sort(byName),
  };
}

/** A short label of an image reference for tables and messages: `tag` or `tag@sha256:1234abcd5678`. */
export function shortImage(reference: string | undefined): string {
  if (!reference) return '';
  const ref = parseImageRef(reference);
  if (!ref) return reference;
  const digest = ref.digest ? `@${ref.digest.slice(0, 'sha256:'.length + 12)}` : '';
  return `${ref.tag ?? ''}${digest}` || reference;
}
