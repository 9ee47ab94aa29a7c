import { shown, UserError } from '../errors';
import { isImageTag, validateImageTag } from './names';
import { DOCKER_HUB, registryHost } from './registry-host';

/**
 * Image references as docker reads them: `[registry/]path[:tag][@sha256:<hex>]`. The first path part is
 * a registry host when it holds a '.' or ':' or is 'localhost'; otherwise the image is on Docker Hub.
 */
export interface ImageRef {
  /** The repository as written, registry host included when it was: `myacr.azurecr.io/edge/heuristic`. */
  name: string;
  tag?: string;
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const isDigest = (value: string): boolean => DIGEST.test(value);

/** True when `value` can be a git commit id (7 to 64 hex characters): the revision an image was built from. */
export const isRevision = (value: string): boolean => /^[0-9a-f]{7,64}$/i.test(value);

/** Splits `name` into its registry part as written (undefined when it names none) and the path inside it. */
export function splitRegistry(name: string): { registry?: string; path: string } {
  const slash = name.indexOf('/');
  if (slash > 0) {
    const first = name.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') return { registry: first, path: name.slice(slash + 1) };
  }
  return { path: name };
}

/**
 * Where a repository lives, spelled one way: its registry host (registryHost; docker.io when the name has
 * none) and its path, Docker Hub's official images under `library/`. `nginx`, `docker.io/library/nginx`
 * and `Index.Docker.io/nginx` are all docker.io and library/nginx.
 */
export function repositoryLocation(name: string): { registry: string; path: string } {
  const split = splitRegistry(name);
  const registry = split.registry ? registryHost(split.registry) : DOCKER_HUB;
  return { registry, path: registry === DOCKER_HUB && !split.path.includes('/') ? `library/${split.path}` : split.path };
}

/**
 * True when two repositories are the same image: the same location, or equal paths where one of them
 * omits the registry host (`heuristic` in a base manifest matches `myacr.azurecr.io/heuristic` in the lock).
 */
export function sameRepository(a: string, b: string): boolean {
  if (a === b) return true;
  const x = splitRegistry(a);
  const y = splitRegistry(b);
  if (x.path === y.path && (!x.registry || !y.registry)) return true;
  const lx = repositoryLocation(a);
  const ly = repositoryLocation(b);
  return lx.path === ly.path && lx.registry === ly.registry;
}

/** Parses an image reference; undefined when it is not one. */
export function parseImageRef(text: string): ImageRef | undefined {
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:[\]]*$/.test(rest) || rest.endsWith('/')) return undefined;
  // No empty, '.' or '..' path component: `reg/a/../b` is not a repository (registries refuse it).
  if (rest.split('/').some((part) => part === '' || part === '.' || part === '..')) return undefined;
  if (tag !== undefined && !isImageTag(tag)) return undefined;
  return { name: rest, tag, digest };
}

/** `name:tag@digest`, leaving out the parts that are absent. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.name}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** One line of the `images` input: which component, and the image (repository optional) it should run. */
export interface ImageLine {
  component?: string;
  /** Repository when the line names one. */
  name?: string;
  tag: string;
  digest?: string;
  origin: string;
}

function digestOrThrow(digest: string, origin: string): string {
  if (!DIGEST.test(digest)) {
    throw new UserError(`${origin}: ${shown(digest)} is not a digest: write 'sha256:' followed by 64 lowercase hex characters.`);
  }
  return digest;
}

/**
 * Parses an `images` input line: `name=tag`, `name=repo:tag`, `repo:tag`, each optionally with
 * `@sha256:<64 hex>` (and `name=repo@sha256:…`). `origin` names the line in errors.
 */
export function parseImageLine(line: string, origin: string): ImageLine {
  const text = line.trim();
  const eq = text.indexOf('=');
  const component = eq >= 0 ? text.slice(0, eq).trim() : undefined;
  let value = eq >= 0 ? text.slice(eq + 1).trim() : text;
  if (component !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(component)) {
    throw new UserError(`${origin}: ${shown(component)} is not a component name: write 'component=tag' or 'component=registry/repository:tag'.`);
  }
  if (!value) throw new UserError(`${origin}: no image after '=': write 'component=tag' or 'component=registry/repository:tag'.`);
  let digest: string | undefined;
  const at = value.indexOf('@');
  if (at >= 0) {
    digest = digestOrThrow(value.slice(at + 1), origin);
    value = value.slice(0, at);
  }
  const isReference = value.includes('/') || value.includes(':') || component === undefined;
  if (!isReference) {
    if (!value) throw new UserError(`${origin}: '${line.trim()}' has no tag: write 'component=tag@sha256:…'; the lock records a tag for every image.`);
    return { component, tag: validateImageTag(value, `${origin}: tag`), digest, origin };
  }
  const ref = parseImageRef(value);
  if (!ref || ref.digest) {
    throw new UserError(`${origin}: ${shown(value)} is not an image reference: write 'registry/repository:tag', optionally with '@sha256:…'.`);
  }
  if (!ref.tag) {
    throw new UserError(`${origin}: '${line.trim()}' has no tag: add ':tag' (and optionally '@sha256:…'); the lock records a tag for every image.`);
  }
  validateImageTag(ref.tag, `${origin}: tag`);
  const name = ref.name;
  return { component: component ?? name.split('/').pop(), name, tag: ref.tag, digest, origin };
}

/** One image of a BuildRustContainers images.json. */
export interface BuiltImage {
  component: string;
  version?: string;
  image: string;
  tags: string[];
  /** The immutable tag, when the file says which (the other tags move with every build). */
  primaryTag?: string;
  digest?: string;
  status?: string;
  /** The app commit built: the image's own `revision`, else the file's `commit`; absent when neither is a commit id (a TFVC changeset). */
  revision?: string;
  /** The app repository it was built from (org.opencontainers.image.source). */
  source?: string;
}

/** Reads images.json (schemaVersion 1) and checks its shape; errors name the file. */
export function parseImagesJson(text: string, file: string): BuiltImage[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file} is not valid JSON (${(error as Error).message}): pass the images.json that BuildRustContainers wrote.`, { file });
  }
  const root = data as { schemaVersion?: unknown; images?: unknown; commit?: unknown };
  if (!root || typeof root !== 'object' || root.schemaVersion !== 1) {
    throw new UserError(`schemaVersion must be 1 (found ${JSON.stringify(root?.schemaVersion)}): this task reads images.json version 1.`, { file });
  }
  if (!Array.isArray(root.images)) throw new UserError(`'images' must be an array.`, { file });
  const commit = typeof root.commit === 'string' && isRevision(root.commit) ? root.commit : undefined;
  return root.images.map((entry: unknown, index: number) => {
    try {
      const image = checkBuiltImage(entry, index, file);
      const revision = image.revision ?? commit;
      return revision ? { ...image, revision } : image;
    } catch (error) {
      if (error instanceof UserError && !error.where) throw new UserError(error.message, { file });
      throw error;
    }
  });
}

function checkBuiltImage(entry: unknown, index: number, file: string): BuiltImage {
  const item = entry as Partial<BuiltImage>;
  const where = `images[${index}]`;
  if (!item || typeof item.component !== 'string' || !item.component) throw new UserError(`${where} has no 'component'.`, { file });
  if (typeof item.image !== 'string' || !parseImageRef(item.image) || parseImageRef(item.image)!.tag || parseImageRef(item.image)!.digest) {
    throw new UserError(`${where} (${item.component}): 'image' must be a repository without tag, e.g. myacr.azurecr.io/${item.component}.`, { file });
  }
  if (!Array.isArray(item.tags) || !item.tags.every((t) => typeof t === 'string')) throw new UserError(`${where} (${item.component}): 'tags' must be an array of strings.`, { file });
  item.tags.forEach((t) => validateImageTag(t, `${where} (${item.component}) tag`));
  if (item.primaryTag !== undefined && (typeof item.primaryTag !== 'string' || !item.tags.includes(item.primaryTag))) {
    throw new UserError(`${where} (${item.component}): 'primaryTag' must be one of its 'tags'.`, { file });
  }
  if (item.digest !== undefined && item.digest !== null && item.digest !== '') {
    if (typeof item.digest !== 'string') throw new UserError(`${where} (${item.component}): 'digest' must be a string.`, { file });
    digestOrThrow(item.digest, `${where} (${item.component})`);
  }
  return {
    component: item.component,
    version: item.version,
    image: item.image,
    tags: item.tags,
    ...(item.primaryTag !== undefined ? { primaryTag: item.primaryTag } : {}),
    digest: item.digest || undefined,
    status: item.status,
    ...(typeof item.revision === 'string' && isRevision(item.revision) ? { revision: item.revision } : {}),
    ...(typeof item.source === 'string' && item.source ? { source: item.source } : {}),
  };
}
