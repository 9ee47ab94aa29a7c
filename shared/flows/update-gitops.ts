import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../agent';
import { selectByName } from '../cargo/select';
import { UserError } from '../errors';
import { decodeUtf8, insideRoot, writeAllOrNothing } from '../files';
import { parseImageRef, repositoryLocation } from '../images/reference';
import { registryHost, splitRegistryAddress } from '../images/registry-host';
import { fillTemplate } from '../template';
import { emptyLock, type Lock, type LockImage, lockReference, readLock, updateLock } from '../lock/lockfile';
import { RegistryClient, type RegistryCredentials } from '../registry/client';
import type { FileEdits, ImageChange, SeenImage } from '../updaters/change';
import { findKustomizationEdits, isKustomizationFile } from '../updaters/kustomization';
import { findSetterEdits, mentionsSetter } from '../updaters/setters';
import { findWorkloadEdits } from '../updaters/workloads';
import { applyEdits, type Edit, lineOf, parseDocuments } from '../updaters/yaml-text';
import { bumpKind, type ChangeBump, changeBump, compareVersions, parseVersion } from '../versions/order';
import { listManifests } from '../gitops/manifests';
import { type Desired, fromEnvironment, fromImages, fromRegistry, mapLimit, type RegistryLike } from '../gitops/sources';

export type { RegistryLike } from '../gitops/sources';

export type UpdateSource = 'images' | 'registry' | 'environment';
export type MaxBump = 'major' | 'minor' | 'patch';

export interface UpdateGitOpsOptions {
  /** The GitOps working copy. */
  gitopsPath: string;
  environment: string;
  /** Lock file relative to gitopsPath; default versions.yaml. */
  lockFile?: string;
  /** Manifests relative to gitopsPath; `{environment}` is filled in. Default environments/{environment}. */
  manifestsPath?: string;
  /** Where the new images come from; default 'images'. */
  source?: UpdateSource;
  /** `images` lines: name=tag, name=repo:tag, repo:tag, any with @sha256:… */
  images?: string[];
  /** A BuildRustContainers images.json. */
  imagesFile?: string;
  /** For source 'environment': the environment whose tags and digests are copied. */
  sourceEnvironment?: string;
  /** The registry the credentials belong to: a host (myacr.azurecr.io) or URL, any spelling registryHost reads. */
  registry?: string;
  credentials?: RegistryCredentials;
  /** Makes the client for a registry host (as registryHost spells it: docker.io for Docker Hub); default a RegistryClient, with the credentials for `registry`. */
  registryClient?: (host: string) => RegistryLike;
  /** For source 'registry': tags considered; default stable releases. */
  tagFilter?: string;
  /** Names or globs, `!` excludes; empty selects every component of the source. */
  components?: string | string[];
  /** Resolve and write digests; default true. */
  pinDigest?: boolean;
  allowDowngrade?: boolean;
  /** The largest SemVer jump allowed; default major. */
  maxBump?: MaxBump;
  /** Registries (hosts, host/prefix, `*` globs) every image of the environment must come from; empty allows any. */
  allowedRegistries?: string[];
  dryRun?: boolean;
  /** Tags asked for per page of the registry's tag list; default 1000. */
  registryPageSize?: number;
  /** Registry requests in flight across components; default 8. */
  concurrency?: number;
}

export interface ComponentChange {
  component: string;
  /** Full reference before (`repo:tag@digest` when pinned); '' for a component new to the environment. */
  from: string;
  /** Full reference after. */
  to: string;
  bump: ChangeBump;
  /** Files changed for it, relative to gitopsPath. */
  files: string[];
}

export interface UpdateGitOpsResult {
  environment: string;
  changed: boolean;
  changes: ComponentChange[];
  /** Components whose image was looked at (the summary's "checked"). */
  checked: number;
  /** Files written (or that would be, on a dry run), relative to gitopsPath. */
  files: string[];
  dryRun: boolean;
}

export const DEFAULT_TAG_FILTER = '^v?\\d+\\.\\d+\\.\\d+$';
const BUMP_RANK: Record<string, number> = { none: 0, digest: 0, prerelease: 1, patch: 1, minor: 2, major: 3 };

function compileFilter(filter: string): RegExp {
  try {
    return new RegExp(filter);
  } catch (error) {
    throw new UserError(`tagFilter '${filter}' is not a valid regular expression: ${(error as Error).message}.`);
  }
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

const sameImage = (a: LockImage | undefined, b: LockImage) => !!a && a.image === b.image && a.tag === b.tag && (a.digest ?? '') === (b.digest ?? '');

function defaultClientFactory(options: UpdateGitOpsOptions): (host: string) => RegistryLike {
  const clients = new Map<string, RegistryLike>();
  return (host) => {
    let client = clients.get(host);
    if (!client) {
      const own = !!options.registry && registryHost(options.registry) === host;
      const registry = new RegistryClient(host, own ? options.credentials : {});
      client = { listTags: (repository) => registry.listTags(repository, options.registryPageSize ?? 1000), digest: (repository, tag) => registry.digest(repository, tag) };
      clients.set(host, client);
    }
    return client;
  };
}

/**
 * Largest YAML file read. Kubernetes objects are limited to about 1.5 MB (etcd), and the YAML parser
 * needs hundreds of bytes of memory and microseconds per node: a 20 MB file of one-character items
 * would exhaust the agent's memory instead of failing with a message.
 */
export const MAX_YAML_BYTES = 4 * 1024 * 1024;

/** A lock or manifest file's text: UTF-8 (a BOM kept, as the file is rewritten byte for byte), at most MAX_YAML_BYTES. */
function yamlText(bytes: Buffer, shown: string): string {
  if (bytes.length > MAX_YAML_BYTES) {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    throw new UserError(`${shown} is ${mb(bytes.length)}, more than the ${mb(MAX_YAML_BYTES)} this task reads (a Kubernetes object cannot exceed 1.5 MB): split it, or keep it out of manifestsPath.`, { file: shown });
  }
  return decodeUtf8(bytes, shown, { keepBom: true });
}

/**
 * Moves components of one environment to new images: resolves the desired images from the source,
 * computes the new lock and every changed manifest in memory, checks the policies, then replaces all
 * changed files at once (or none). Already up to date writes nothing.
 */
export async function updateGitOps(options: UpdateGitOpsOptions, log: Log): Promise<UpdateGitOpsResult> {
  const { environment } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(environment ?? '')) {
    throw new UserError(`environment '${environment}' is not a valid environment name: use letters, digits, '.', '_' and '-'.`);
  }
  const root = path.resolve(options.gitopsPath);
  try {
    if (!(await fs.stat(root)).isDirectory()) throw new Error();
  } catch {
    throw new UserError(`gitopsPath ${options.gitopsPath} is not a directory: check out the GitOps repository first.`);
  }
  const realRoot = await fs.realpath(root);
  const limit = options.maxBump ?? 'major';
  if (!['major', 'minor', 'patch'].includes(limit)) throw new UserError(`maxBump '${limit}' is not known: use major, minor or patch.`);
  const lockName = options.lockFile || 'versions.yaml';
  const lockPath = await insideRoot(root, lockName);
  const lockShown = path.relative(realRoot, lockPath).split(path.sep).join('/') || lockName;
  const manifestsName = fillTemplate('manifestsPath', options.manifestsPath || 'environments/{environment}', { environment });
  const manifestsDir = await insideRoot(root, manifestsName);
  try {
    if (!(await fs.stat(manifestsDir)).isDirectory()) throw new Error();
  } catch {
    throw new UserError(`manifestsPath '${manifestsName}' is not a folder in ${options.gitopsPath}: create the environment's overlay or set manifestsPath.`, { file: manifestsName });
  }
  const pinDigest = options.pinDigest ?? true;
  const source = options.source ?? 'images';
  const client = options.registryClient ?? defaultClientFactory(options);

  // 1. The lock as it is.
  let lockText: string;
  let lockExists = true;
  let lockBytes: Buffer | undefined;
  try {
    lockBytes = await fs.readFile(lockPath);
  } catch {
    lockBytes = undefined;
  }
  if (lockBytes) lockText = yamlText(lockBytes, lockShown);
  else {
    if (source === 'environment' || source === 'registry') {
      throw new UserError(`${lockShown} does not exist in ${options.gitopsPath}: source '${source}' reads the components from the lock. Create it, or run once with source 'images'.`, { file: lockShown });
    }
    lockExists = false;
    lockText = emptyLock();
  }
  const lock: Lock = readLock(lockText, lockShown);
  const current = lock.environments.get(environment) ?? new Map<string, LockImage & { line?: number }>();

  // 2. What each selected component should run.
  let desired: Desired;
  if (source === 'images') {
    if (!options.images?.length && !options.imagesFile) throw new UserError(`source 'images' needs the images input (lines such as heuristic=v1.4.2) or imagesFile (images.json).`);
    desired = await fromImages(options.images ?? [], options.imagesFile, current, lockShown, log);
  } else if (source === 'environment') {
    desired = fromEnvironment(lock, options.sourceEnvironment, environment);
  } else if (source === 'registry') {
    const filter = compileFilter(options.tagFilter || DEFAULT_TAG_FILTER);
    const selected = selectByName([...current].map(([name, entry]) => ({ name, entry })), options.components ?? '');
    if (!selected.length) throw new UserError(`${lockShown} lists no component for '${environment}': source 'registry' updates the components the lock already has.`, { file: lockShown });
    desired = await fromRegistry(selected.map((s) => [s.name, s.entry]), filter, client, pinDigest, options.concurrency ?? 8, log);
  } else {
    throw new UserError(`source '${String(source)}' is not known: use images, registry or environment.`);
  }
  const chosen = new Set(selectByName([...desired.keys()].map((name) => ({ name })), options.components ?? '').map((c) => c.name));
  for (const name of [...desired.keys()]) if (!chosen.has(name)) desired.delete(name);

  // 3. Policies on versions, before any registry call: no downgrade unless allowed, no step over maxBump.
  for (const [component, image] of desired) {
    const before = current.get(component);
    if (!before || before.tag === image.tag) continue;
    const where = { file: lockShown, line: (before as { line?: number }).line };
    if (parseVersion(before.tag) && parseVersion(image.tag) && compareVersions(image.tag, before.tag) < 0 && !options.allowDowngrade) {
      throw new UserError(`${component} would move down from ${before.tag} to ${image.tag} in '${environment}' (from ${image.origin}): set allowDowngrade: true to roll back on purpose.`, where);
    }
    const bump = bumpKind(before.tag, image.tag);
    if (BUMP_RANK[bump] > BUMP_RANK[limit]) {
      throw new UserError(`${component} would take a ${bump} step from ${before.tag} to ${image.tag} in '${environment}', more than maxBump '${limit}' allows: review it and raise maxBump for this run.`, where);
    }
  }

  // 4. Digests for images that have none yet.
  if (pinDigest) {
    const missing = [...desired].filter(([, image]) => !image.digest);
    await mapLimit(missing, options.concurrency ?? 8, async ([component, image]) => {
      const { registry, path: repository } = repositoryLocation(image.image);
      const digest = await client(registry).digest(repository, image.tag);
      if (!digest) throw new UserError(`${image.image}:${image.tag} (${component}, from ${image.origin}) is not in the registry, so its digest cannot be pinned: push it, fix the tag, or set pinDigest: false.`);
      image.digest = digest;
    });
  }

  // 5. The changes.
  const imageChanges: ImageChange[] = [];
  const changes: ComponentChange[] = [];
  const next = new Map<string, LockImage>();
  for (const [component, image] of [...desired].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const before = current.get(component);
    const after: LockImage = { image: image.image, tag: image.tag, digest: image.digest };
    if (sameImage(before, after)) continue;
    next.set(component, after);
    imageChanges.push({ component, from: before && { name: before.image, tag: before.tag, digest: before.digest }, to: { name: after.image, tag: after.tag, digest: after.digest } });
    changes.push({ component, from: before ? lockReference(before) : '', to: lockReference(after), bump: changeBump(before, after), files: [] });
  }

  // 6. Every manifest of the environment: parse (all of them: a broken file fails the run), edit in memory.
  const started = Date.now();
  const manifests = await listManifests(root, manifestsDir);
  const allowed = (options.allowedRegistries ?? []).map((p) => p.trim()).filter(Boolean);
  const newFiles = new Map<string, string>();
  const touchedBy = new Map<string, string[]>();
  const seen: Array<SeenImage & { file: string; text: string }> = [];
  const renamed = new Set<string>();
  const lockReal = await fs.realpath(lockPath).catch(() => lockPath);
  // Synchronous reads: for thousands of small files they cost a fraction of fs.promises.readFile.
  const texts = manifests.map((m) => yamlText(readFileSync(m.real), m.relative));
  manifests.forEach((manifest, index) => {
    if (manifest.real === lockReal) return;
    const text = texts[index];
    const documents = parseDocuments(text, manifest.relative, 'failsafe');
    const parsed = { file: manifest.relative, text, documents };
    const results: FileEdits[] = [findWorkloadEdits(parsed, imageChanges)];
    if (isKustomizationFile(manifest.relative)) results.push(findKustomizationEdits(parsed, imageChanges));
    if (mentionsSetter(text)) results.push(findSetterEdits(parsed, imageChanges));
    const edits = new Map<string, Edit>();
    for (const result of results) {
      for (const edit of result.edits) edits.set(`${edit.start}:${edit.end}`, edit);
      if (allowed.length) for (const image of result.images) seen.push({ ...image, file: manifest.relative, text });
      for (const name of result.renamed ?? []) renamed.add(name);
      for (const note of result.notes ?? []) log.warn(`${manifest.relative}: ${note.message}.`, { file: manifest.relative, line: lineOf(text, note.offset) });
      for (const component of result.touched) {
        const files = touchedBy.get(component) ?? [];
        if (!files.includes(manifest.relative)) touchedBy.set(component, [...files, manifest.relative]);
      }
    }
    if (edits.size) {
      const updated = applyEdits(text, [...edits.values()]);
      if (updated !== text) newFiles.set(manifest.real, updated);
    }
  });

  log.debug(`read, parsed and edited ${manifests.length} file(s) under ${manifestsName} in ${Date.now() - started} ms`);

  // 7. allowedRegistries over every image of the environment, changed or not.
  if (allowed.length) {
    const patterns = allowed.map(registryPattern);
    const ok = (image: string) => patterns.some((p) => p.test(registryName(image)));
    const lockEntries = new Map<string, LockImage & { line?: number }>([...current, ...next]);
    for (const [component, entry] of lockEntries) {
      if (!ok(entry.image)) {
        const line = next.has(component) ? (current.get(component) as { line?: number } | undefined)?.line : (entry as { line?: number }).line;
        throw new UserError(`${component} in '${environment}' would run ${entry.image}, outside allowedRegistries (${allowed.join(', ')}): use an allowed registry or extend allowedRegistries.`, { file: lockShown, line });
      }
    }
    for (const image of seen) {
      // a placeholder such as `image: heuristic` that a kustomization renames runs as the entry's newName, checked itself
      if (renamed.has(parseImageRef(image.image)?.name ?? image.image)) continue;
      if (!ok(image.image)) {
        throw new UserError(`${image.file} runs ${image.image}, outside allowedRegistries (${allowed.join(', ')}): use an allowed registry or extend allowedRegistries.`, { file: image.file, line: lineOf(image.text, image.offset) });
      }
    }
  }

  // 8. The new lock.
  if (next.size) {
    const updatedLock = updateLock(lockText, lockShown, environment, next);
    if (updatedLock !== lockText || !lockExists) newFiles.set(lockPath, updatedLock);
  }
  for (const change of changes) {
    change.files = [lockShown, ...(touchedBy.get(change.component) ?? [])];
    if (!touchedBy.has(change.component)) {
      log.warn(`${change.component}: no reference under ${manifestsName} uses ${change.to.split(/[:@]/)[0]}; only ${lockShown} records the new image.`, { file: lockShown });
    }
  }
  const written = [...newFiles.keys()].map((p) => path.relative(realRoot, p).split(path.sep).join('/')).sort();

  // 9. Write everything or nothing.
  const writing = Date.now();
  if (newFiles.size && !options.dryRun) writeAllOrNothing(newFiles);
  log.debug(`wrote ${newFiles.size} file(s) in ${Date.now() - writing} ms`);
  for (const change of changes) log.info(`${change.component}: ${change.from || '(new)'} -> ${change.to} (${change.bump})`);
  return { environment, changed: changes.length > 0, changes, checked: desired.size, files: written, dryRun: !!options.dryRun };
}
