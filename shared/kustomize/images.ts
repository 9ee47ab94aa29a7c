/**
 * The kustomize images transformer as kustomize 5 runs it (api/internal/image, api/filters/imagetag): an
 * entry's `name` matches an image whose name part is exactly `name` (read as a regular expression, as
 * kustomize does: no registry normalisation, so `nginx` does not match `docker.io/library/nginx`); `newName`
 * replaces the name; `newTag` and/or `digest` replace both the tag and the digest.
 */

export interface ImagesEntry {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

const patterns = new Map<string, RegExp | null>();

/** kustomize's IsImageMatched: `name`, then an optional `:tag` and `@sha256:digest`. */
export function imageMatches(value: string, name: string): boolean {
  let pattern = patterns.get(name);
  if (pattern === undefined) {
    try {
      pattern = new RegExp(`^${name}(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`);
    } catch {
      pattern = null;
    }
    patterns.set(name, pattern);
  }
  return !!pattern && pattern.test(value);
}

/** kustomize's image.Split: name, tag and digest, the `:` of a registry port not taken for a tag. */
export function splitImage(image: string): { name: string; tag: string; digest: string } {
  const slash = image.indexOf('/');
  const from = slash > 0 ? slash : 0;
  const search = image.slice(from);
  let at = search.indexOf('@');
  let colon = search.indexOf(':');
  if (colon < 0 && at < 0) return { name: image, tag: '', digest: '' };
  if (at >= 0 && (at < colon || colon < 0)) {
    at += from;
    return { name: image.slice(0, at), tag: '', digest: image.slice(at + 1) };
  }
  colon += from;
  if (at >= 0) {
    at += from;
    return { name: image.slice(0, colon), tag: image.slice(colon + 1, at), digest: image.slice(at + 1) };
  }
  return { name: image.slice(0, colon), tag: image.slice(colon + 1), digest: '' };
}

/** The image `entry` makes of `value`, or undefined when the entry does not match it. */
export function applyImagesEntry(value: string, entry: ImagesEntry): string | undefined {
  if (!imageMatches(value, entry.name)) return undefined;
  let { name, tag, digest } = splitImage(value);
  if (entry.newName) name = entry.newName;
  if (entry.newTag || entry.digest) {
    tag = entry.newTag ?? '';
    digest = entry.digest ?? '';
  }
  return `${name}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
}
