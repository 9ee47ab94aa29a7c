import { parse } from 'yaml';
import { UserError } from '../errors';
import { bumpKind } from '../versions/order';

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
    };
  });
}

export interface ImageParts {
  repository?: string;
  tag?: string;
  digest?: string;
}

/** Splits `registry:5000/repo:tag@sha256:…` (a bare `tag` or `@digest` too) into its parts. */
export function splitImage(reference: string): ImageParts {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1) || undefined;
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) return { repository: rest.slice(0, colon) || undefined, tag: rest.slice(colon + 1) || undefined, digest };
  // No tag: a repository when it has a path, else a bare tag.
  if (slash >= 0) return { repository: rest || undefined, digest };
  return { tag: rest || undefined, digest };
}

/** `repo:tag@digest` from the lock's parts. */
export function joinImage(parts: ImageParts): string {
  return `${parts.repository ?? ''}${parts.tag ? `${parts.repository ? ':' : ''}${parts.tag}` : ''}${parts.digest ? `@${parts.digest}` : ''}`;
}

/** What the lock file pins for one environment: component -> image parts. */
export function lockEntries(text: string | undefined, environment: string, file = 'versions.yaml'): Map<string, ImageParts> {
  const entries = new Map<string, ImageParts>();
  if (!text?.trim()) return entries;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new UserError(`${file} is not valid YAML: ${(error as Error).message}`, { file });
  }
  const env = (doc as { environments?: Record<string, Record<string, { image?: string; tag?: string; digest?: string }>> } | null)?.environments?.[environment];
  for (const [component, entry] of Object.entries(env ?? {})) {
    if (entry && typeof entry === 'object') entries.set(component, { repository: entry.image, tag: entry.tag ? String(entry.tag) : undefined, digest: entry.digest });
  }
  return entries;
}

/** The changes between two versions of the lock file, for one environment, sorted by component. */
export function lockDiff(before: string | undefined, after: string | undefined, environment: string, file = 'versions.yaml'): EnvChange[] {
  const old = lockEntries(before, environment, file);
  const now = lockEntries(after, environment, file);
  const changes: EnvChange[] = [];
  for (const [component, parts] of now) {
    const previous = old.get(component);
    const to = joinImage(parts);
    const from = previous ? joinImage(previous) : undefined;
    if (from === to) continue;
    changes.push({ component, to, ...(from ? { from } : {}), bump: bumpOf(previous, parts) });
  }
  return changes.sort((a, b) => a.component.localeCompare(b.component));
}

/** The SemVer bump between two pins; `digest` when only the digest moved. */
export function bumpOf(from: ImageParts | undefined, to: ImageParts): string {
  if (!from?.tag || !to.tag) return 'new';
  if (from.tag === to.tag) return from.digest !== to.digest ? 'digest' : 'none';
  return bumpKind(from.tag, to.tag);
}

/** A short label of an image reference for tables and messages: `tag` or `tag@sha256:1234abcd`. */
export function shortImage(reference: string | undefined): string {
  if (!reference) return '';
  const parts = splitImage(reference);
  const digest = parts.digest ? `@${parts.digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, '$1')}` : '';
  return `${parts.tag ?? ''}${digest}` || reference;
}
