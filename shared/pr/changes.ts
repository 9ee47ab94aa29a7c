import { UserError } from '../errors';
import { parseImageRef } from '../images/reference';
import { revisionOf } from '../gitops/promotion-marks';
import { lockReference, readEnvironment } from '../lock/lockfile';
import { changeBump } from '../versions/order';

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
  /** The app commit that built the image `to` (UpdateGitOpsVersions' `revision`, the lock entry's): where the promotion mark goes. */
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
      ...(typeof c.revision === 'string' && c.revision ? { revision: c.revision } : {}),
      ...(typeof c.source === 'string' && c.source ? { source: c.source } : {}),
    };
  });
}

/** The changes between two versions of the lock file, for one environment, sorted by component. */
export function lockDiff(before: string | undefined, after: string | undefined, environment: string, file = 'versions.yaml'): EnvChange[] {
  const old = readEnvironment(before, file, environment);
  const now = readEnvironment(after, file, environment);
  const changes: EnvChange[] = [];
  for (const [component, image] of now) {
    const previous = old.get(component);
    const to = lockReference(image);
    const from = previous && lockReference(previous);
    if (from === to) continue;
    const revision = revisionOf(image);
    changes.push({ component, to, ...(from ? { from } : {}), bump: changeBump(previous, image), ...(revision ? { revision } : {}) });
  }
  return changes.sort((a, b) => a.component.localeCompare(b.component));
}

/** A short label of an image reference for tables and messages: `tag` or `tag@sha256:1234abcd5678`. */
export function shortImage(reference: string | undefined): string {
  if (!reference) return '';
  const ref = parseImageRef(reference);
  if (!ref) return reference;
  const digest = ref.digest ? `@${ref.digest.slice(0, 'sha256:'.length + 12)}` : '';
  return `${ref.tag ?? ''}${digest}` || reference;
}
