import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../agent';
import { selectByName } from '../cargo/select';
import { UserError } from '../errors';
import { insideRoot, writeAllOrNothing } from '../files';
import { parseImageRef, repositoryLocation } from '../images/reference';
import { fillTemplate } from '../template';
import { emptyLock, type Lock, type LockImage, lockReference, readLock, updateLock } from '../lock/lockfile';
import type { RegistryCredentials } from '../registry/client';
import type { FileEdits, ImageChange, SeenImage } from '../updaters/change';
import { findHelmValuesEdits, parseHelmValues } from '../updaters/helm-values';
import { findKustomizationEdits, isKustomizationFile } from '../updaters/kustomization';
import { findSetterEdits, mentionsSetter } from '../updaters/setters';
import { findWorkloadEdits } from '../updaters/workloads';
import { applyEdits, type Edit, lineOf, parseDocuments } from '../updaters/yaml-text';
import { type ChangeBump, changeBump, compareVersions } from '../versions/order';
import { deployedImages } from '../gitops/deployed';
import { Environment, type EnvironmentFile } from '../gitops/environment';
import { listManifests, yamlText } from '../gitops/manifests';
import { checkVersionPolicies, type MaxBump, type MovesFrom, registryAllowed } from '../gitops/policies';
import { fixRenders, unmappedError, unmappedFileValues } from '../gitops/render-check';
import type { Render } from '../kustomize/render';
import { type Desired, fromEnvironment, fromImages, fromRegistry, mapLimit, registryClients, type RegistryLike } from '../gitops/sources';

export type { RegistryLike } from '../gitops/sources';
export { MAX_YAML_BYTES } from '../gitops/manifests';

export type UpdateSource = 'images' | 'registry' | 'environment';
export type { MaxBump } from '../gitops/policies';

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
  /**
   * helmValues lines: which Helm values keys hold a component's image, in values files or a HelmRelease's
   * spec.values: `component=image.tag`, or `component=repository:image.repository,tag:image.tag,digest:image.digest`
   * (`image:path` for a key holding the whole reference).
   */
  helmValues?: string[];
  /** Fail when a component moves between tags that are not both SemVer versions (policies cannot be checked); default false: warn. */
  requireSemVer?: boolean;
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
  /** What was done beyond editing references in place (a pin in the environment's kustomization), when anything was. */
  notes?: string[];
  /** The app commit that built the new image (images.json `revision`, a promoted entry's `revision`): CreateEnvPR marks it. */
  revision?: string;
  /** The app repository it was built from (images.json `source`). */
  source?: string;
}

export interface UpdateGitOpsResult {
  environment: string;
  changed: boolean;
  changes: ComponentChange[];
  /** Components whose image was looked at (the summary's "checked"). */
  checked: number;
  /** Files written (or that would be, on a dry run), relative to gitopsPath. */
  files: string[];
  /** Policies that could not be checked (tags that are not SemVer), also in the log and the summary. */
  warnings: string[];
  dryRun: boolean;
}

export const DEFAULT_TAG_FILTER = '^v?\\d+\\.\\d+\\.\\d+$';

function compileFilter(filter: string): RegExp {
  try {
    return new RegExp(filter);
  } catch (error) {
    throw new UserError(`tagFilter '${filter}' is not a valid regular expression: ${(error as Error).message}.`);
  }
}

const sameImage = (a: LockImage | undefined, b: LockImage) => !!a && a.image === b.image && a.tag === b.tag && (a.digest ?? '') === (b.digest ?? '');

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
  const client = options.registryClient ?? registryClients(options);

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
  const mappings = parseHelmValues(options.helmValues ?? []);

  // 3. The environment's files: every one must parse (a broken file fails the run). Components no root kustomization uses are left alone.
  const started = Date.now();
  const lockReal = await fs.realpath(lockPath).catch(() => lockPath);
  // Synchronous reads: for thousands of small files they cost a fraction of fs.promises.readFile.
  const files: EnvironmentFile[] = (await listManifests(root, manifestsDir))
    .filter((m) => m.real !== lockReal)
    .map((m) => {
      const text = yamlText(readFileSync(m.real), m.relative);
      return { real: m.real, file: m.relative, text, documents: parseDocuments(text, m.relative, 'failsafe') };
    });
  const env = new Environment(realRoot, files, (real, relative) => yamlText(readFileSync(real), relative));
  const active = files.filter((f) => !env.unusedComponents.has(f.real));

  // 4. What each component moves from: its lock entry, or on a first run what the environment deploys today.
  const from = new Map<string, MovesFrom>();
  let deployedRenders: Render[] | undefined;
  for (const [component, image] of desired) {
    const entry = current.get(component);
    if (entry) {
      from.set(component, { pins: [entry], where: { file: lockShown, line: entry.line } });
      continue;
    }
    deployedRenders ??= env.render().flatMap((r) => ('render' in r ? [r.render] : []));
    const deployed = deployedImages(component, image.image, active, deployedRenders, mappings);
    const pins = deployed.flatMap((d) => {
      const ref = parseImageRef(d.image);
      return ref?.tag ? [{ image: ref.name, tag: ref.tag, digest: ref.digest }] : [];
    });
    if (!pins.length) continue;
    from.set(component, { pins: pins.sort((a, b) => compareVersions(b.tag, a.tag)), where: { file: deployed[0].file, line: deployed[0].line }, deployed: true });
    log.info(`${component}: not in ${lockShown} yet; ${manifestsName} deploys ${[...new Set(deployed.map((d) => d.image))].join(', ')} today (${deployed[0].file}${deployed[0].line ? `:${deployed[0].line}` : ''}).`);
  }

  // 5. Policies on versions, before any registry call.
  const warnings = checkVersionPolicies(environment, desired, from, { allowDowngrade: options.allowDowngrade, maxBump: limit, requireSemVer: options.requireSemVer });
  for (const warning of warnings) log.warn(warning);

  // 6. Digests for images that have none yet.
  if (pinDigest) {
    const missing = [...desired].filter(([, image]) => !image.digest);
    await mapLimit(missing, options.concurrency ?? 8, async ([component, image]) => {
      const { registry, path: repository } = repositoryLocation(image.image);
      const digest = await client(registry).digest(repository, image.tag);
      if (!digest) throw new UserError(`${image.image}:${image.tag} (${component}, from ${image.origin}) is not in the registry, so its digest cannot be pinned: push it, fix the tag, or set pinDigest: false.`);
      image.digest = digest;
    });
  }

  // 7. The changes: against the lock entry, or what the environment deploys today.
  const imageChanges: ImageChange[] = [];
  const changes: ComponentChange[] = [];
  const next = new Map<string, LockImage>();
  for (const [component, image] of [...desired].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const entry = current.get(component);
    const before = entry ?? from.get(component)?.pins[0];
    const after: LockImage = { image: image.image, tag: image.tag, digest: image.digest };
    if (sameImage(entry, after)) continue;
    next.set(component, after);
    imageChanges.push({ component, from: before && { name: before.image, tag: before.tag, digest: before.digest }, to: { name: after.image, tag: after.tag, digest: after.digest } });
    changes.push({ component, from: before ? lockReference(before) : '', to: lockReference(after), bump: changeBump(before, after), files: [], ...(image.revision ? { revision: image.revision } : {}), ...(image.source ? { source: image.source } : {}) });
  }

  // 8. Every file of the environment edited in memory.
  const allowed = (options.allowedRegistries ?? []).map((p) => p.trim()).filter(Boolean);
  const newFiles = new Map<string, string>();
  const touchedBy = new Map<string, string[]>();
  const touch = (component: string, file: string) => {
    const list = touchedBy.get(component) ?? [];
    if (!list.includes(file)) touchedBy.set(component, [...list, file]);
  };
  const seen: Array<SeenImage & { file: string; text: string }> = [];
  const renamed = new Set<string>();
  for (const parsed of active) {
    const { text, file } = parsed;
    const results: FileEdits[] = [findWorkloadEdits(parsed, imageChanges)];
    if (isKustomizationFile(file)) results.push(findKustomizationEdits(parsed, imageChanges));
    if (mentionsSetter(text)) results.push(findSetterEdits(parsed, imageChanges));
    if (mappings.length) results.push(findHelmValuesEdits(parsed, imageChanges, mappings));
    const edits = new Map<string, Edit>();
    for (const result of results) {
      for (const edit of result.edits) edits.set(`${edit.start}:${edit.end}`, edit);
      if (allowed.length) for (const image of result.images) seen.push({ ...image, file, text });
      for (const name of result.renamed ?? []) renamed.add(name);
      for (const note of result.notes ?? []) log.warn(`${file}: ${note.message}.`, { file, line: lineOf(text, note.offset) });
      for (const component of result.touched) touch(component, file);
    }
    if (edits.size) {
      const updated = applyEdits(text, [...edits.values()]);
      if (updated !== text) newFiles.set(parsed.real, updated);
    }
  }

  // 9. Helm values that hold a changed image where no helmValues line (nor marker) says where its tag is: no safe edit.
  const unmapped = imageChanges.length ? unmappedFileValues(active, imageChanges, mappings) : [];
  if (unmapped.length) throw unmappedError(unmapped, manifestsName);

  // 10. Success means the environment renders the new images: each root kustomization is rendered and fixed where the environment owns the value.
  if (imageChanges.length && env.roots.length) {
    const fixed = fixRenders(env, newFiles, imageChanges, mappings, manifestsName, (message, where) => log.warn(message, where));
    for (const [file, text] of fixed.texts) newFiles.set(file, text);
    for (const note of fixed.notes) {
      note.files.forEach((file) => touch(note.component, file));
      if (!note.message) continue;
      log.info(`${note.message}.`);
      const change = changes.find((c) => c.component === note.component)!;
      (change.notes ??= []).push(note.message);
    }
  }
  log.debug(`read, parsed, edited and rendered ${files.length} file(s) under ${manifestsName} in ${Date.now() - started} ms`);

  // 11. allowedRegistries over every image of the environment, changed or not.
  if (allowed.length) {
    const ok = registryAllowed(allowed);
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

  // 12. The new lock.
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

  // 13. Write everything or nothing.
  const writing = Date.now();
  if (newFiles.size && !options.dryRun) writeAllOrNothing(newFiles);
  log.debug(`wrote ${newFiles.size} file(s) in ${Date.now() - writing} ms`);
  for (const change of changes) log.info(`${change.component}: ${change.from || '(new)'} -> ${change.to} (${change.bump})`);
  return { environment, changed: changes.length > 0, changes, checked: desired.size, files: written, warnings, dryRun: !!options.dryRun };
}
