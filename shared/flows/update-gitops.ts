import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../agent';
import { selectByName } from '../cargo/select';
import { UserError } from '../errors';
import { insideRoot, writeAllOrNothing } from '../files';
import { parseImageRef, repositoryLocation } from '../images/reference';
import { byComponent, checkImageAgrees, parseImageNames } from '../images/component-images';
import { fillTemplate } from '../template';
import { emptyLock, type Lock, type LockEntry, type LockImage, lockReference, type LockUpdate, readLock, updateLock } from '../lock/lockfile';
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
import { type Desired, fromChanges, fromEnvironment, fromImages, fromRegistry, fromRevision, mapLimit, registryClientsFor, type RegistryOptions } from '../gitops/sources';
import { inventoryFile } from '../gitops/inventory';
import { lockHistory, type LockHistory } from '../gitops/lock-history';
import { Git } from '../git/git';
import type { NetworkSettings } from '../net/network';
import { showFile } from '../pr/commits';
import type { EnvChange } from '../pr/changes';

export type { RegistryLike } from '../gitops/sources';
export { MAX_YAML_BYTES } from '../gitops/manifests';

export type UpdateSource = 'images' | 'registry' | 'environment' | 'revision';
export type { MaxBump } from '../gitops/policies';

export interface UpdateGitOpsOptions extends RegistryOptions {
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
  /** For source 'revision' (a rollback): the GitOps repository's commit, tag or branch whose lock the environment goes back to. */
  revision?: string;
  /** For source 'revision': hold the components rolled back, so later automated runs leave them alone; default true. */
  holdOnRollback?: boolean;
  /** Who asked for the run and which run it is (Build.RequestedFor, Build.BuildNumber): said in a rollback's hold. */
  requestedFor?: string;
  buildNumber?: string;
  /** Held components this run releases (removes their hold and updates them): true for every selected one. */
  release?: boolean | string[];
  /** Regenerate this Markdown inventory (relative to gitopsPath, e.g. INVENTORY.md) whenever the run changes the lock. */
  inventoryFile?: string;
  /** CreateEnvPR's re-apply: these changes (an earlier run's `changes`, with their holds) instead of a source. */
  reapply?: EnvChange[];
  /** The agent's proxy and CA file (agent.network()): every request and git command goes the way they say. */
  network?: NetworkSettings;
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
  /**
   * `imageNames` lines, `component=repository`, as BuildRustContainers takes them: a lock entry kept under the
   * image's name (`broker`, as the original scripts named things) is the component's, and an image for a
   * component elsewhere than its repository is refused.
   */
  imageNames?: string[];
  dryRun?: boolean;
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
  /** Set back on purpose (source revision): the pull request says rollback. */
  rollback?: boolean;
  /** The hold this change put on the component (a rollback's, by default). */
  hold?: string;
  /** This change removed the component's hold (`release`). */
  released?: boolean;
  /** The app commit that built `to` (images.json `revision`, a promoted entry's), as the lock now records it: CreateEnvPR marks it. */
  revision?: string;
  /** The app repository it was built from (images.json `source`). */
  source?: string;
}

/** A component the run left alone because the lock holds it. */
export interface HeldComponent {
  component: string;
  hold: string;
  /** What it runs (and keeps running). */
  image: string;
  /** What the source had for it. */
  wanted: string;
  line: number;
}

export interface UpdateGitOpsResult {
  environment: string;
  changed: boolean;
  changes: ComponentChange[];
  /** Components whose image was looked at (the summary's "checked"). */
  checked: number;
  /** Files written (or that would be, on a dry run), relative to gitopsPath. */
  files: string[];
  /** Policies that could not be checked (tags that are not SemVer), lock keys that look misspelt: also in the log and the summary. */
  warnings: string[];
  /** Components left alone because the lock holds them. */
  held: HeldComponent[];
  /** Components whose hold this run removed (with or without a new image). */
  released: string[];
  /** For source 'revision': the commit rolled back to, as given and resolved. */
  rollback?: { revision: string; commit: string };
  /** The lock after the run, and when each entry last changed (none outside a git working copy): the summary's inventory. */
  lock: Lock;
  history?: LockHistory;
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
  const inventoryPath = options.inventoryFile ? await insideRoot(root, options.inventoryFile) : undefined;
  const pinDigest = options.pinDigest ?? true;
  const source = options.source ?? 'images';
  // Made when a registry is first needed, for the images it reads then (an Azure connection signs in to theirs).
  let clients: ReturnType<typeof registryClientsFor> | undefined;
  const registries = (images: string[]) => (clients ??= registryClientsFor(options, images));

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
    if (source === 'environment' || source === 'registry' || source === 'revision') {
      throw new UserError(`${lockShown} does not exist in ${options.gitopsPath}: source '${source}' reads the components from the lock. Create it, or run once with source 'images'.`, { file: lockShown });
    }
    lockExists = false;
    lockText = emptyLock();
  }
  const lock: Lock = readLock(lockText, lockShown);
  const imageNames = parseImageNames(options.imageNames ?? []);
  const { entries: current, keys: lockKeys } = byComponent(lock.environments.get(environment) ?? new Map<string, LockEntry>(), imageNames, `${lockShown} ('${environment}')`);
  for (const [component, key] of lockKeys) log.info(`${component}: ${lockShown} lists it as '${key}' (its image ${current.get(component)!.image}, imageNames); that entry is the one updated.`);
  const warnings: string[] = [];
  for (const warning of lock.warnings) {
    log.warn(warning.message, { file: lockShown, line: warning.line });
    warnings.push(`${lockShown}:${warning.line}: ${warning.message}`);
  }

  // 2. What each selected component should run.
  let desired: Desired;
  let rollback: UpdateGitOpsResult['rollback'];
  if (options.reapply) {
    desired = fromChanges(options.reapply);
  } else if (source === 'images') {
    if (!options.images?.length && !options.imagesFile) throw new UserError(`source 'images' needs the images input (lines such as heuristic=v1.4.2) or imagesFile (images.json).`);
    desired = await fromImages(options.images ?? [], options.imagesFile, current, lockShown, log);
  } else if (source === 'environment') {
    desired = fromEnvironment(lock, options.sourceEnvironment, environment);
  } else if (source === 'registry') {
    const filter = compileFilter(options.tagFilter || DEFAULT_TAG_FILTER);
    const selected = selectByName([...current].map(([name, entry]) => ({ name, entry })), options.components ?? '');
    if (!selected.length) throw new UserError(`${lockShown} lists no component for '${environment}': source 'registry' updates the components the lock already has.`, { file: lockShown });
    const client = await registries(selected.map((s) => s.entry.image));
    desired = await fromRegistry(selected.map((s) => [s.name, s.entry]), filter, client, pinDigest, options.concurrency ?? 8, log);
  } else if (source === 'revision') {
    const at = await lockAtRevision(root, lockShown, options.revision);
    rollback = { revision: at.label, commit: at.commit };
    desired = fromRevision(at.lock, environment);
  } else {
    throw new UserError(`source '${String(source)}' is not known: use images, registry, environment or revision.`);
  }
  // Promoted entries may be kept under an image's name too; every source must give a component its own image.
  desired = byComponent(desired, imageNames, `the source of '${environment}'`).entries;
  for (const [component, image] of desired) checkImageAgrees(component, image.image, imageNames, image.origin);
  const chosen = new Set(selectByName([...desired.keys()].map((name) => ({ name })), options.components ?? '').map((c) => c.name));
  for (const name of [...desired.keys()]) if (!chosen.has(name)) desired.delete(name);
  const mappings = parseHelmValues(options.helmValues ?? []);

  // 2b. Holds: a held component is left alone unless this run releases it; a rollback holds what it sets back.
  const releasing = releasedComponents(options.release, chosen, current);
  if (rollback && (options.holdOnRollback ?? true)) {
    const reason = [`rollback to ${rollback.revision}`, options.requestedFor && `by ${options.requestedFor}`, options.buildNumber && `in run ${options.buildNumber}`].filter(Boolean).join(' ');
    for (const image of desired.values()) image.hold = reason;
  }
  const held: HeldComponent[] = [];
  for (const [component, image] of [...desired]) {
    const entry = current.get(component);
    if (!entry?.hold) continue;
    if (image.hold === undefined && releasing.has(component)) image.hold = null;
    if (image.hold !== undefined || image.rollback) continue;
    desired.delete(component);
    const wanted = lockReference(image);
    held.push({ component, hold: entry.hold, image: lockReference(entry), wanted, line: entry.line });
    log.warn(
      `${component} in '${environment}' is held (${entry.hold}): left at ${entry.tag}, not moved to ${image.tag}. Run with release: ${component} to move it, or remove its 'hold' from ${lockShown}.`,
      { file: lockShown, line: entry.line },
    );
  }
  for (const component of releasing) {
    const entry = current.get(component);
    if (entry?.hold && !desired.has(component)) desired.set(component, { ...entry, origin: `release of ${component}`, hold: null });
  }

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
  const policyWarnings = checkVersionPolicies(environment, desired, from, { allowDowngrade: options.allowDowngrade, maxBump: limit, requireSemVer: options.requireSemVer });
  for (const warning of policyWarnings) log.warn(warning);
  warnings.push(...policyWarnings);

  // 6. Digests for images that have none yet.
  if (pinDigest) {
    // A rollback writes exactly what the lock held, an unpinned entry included.
    const missing = [...desired].filter(([, image]) => !image.digest && !image.rollback);
    const client = missing.length ? await registries(missing.map(([, image]) => image.image)) : undefined;
    await mapLimit(missing, options.concurrency ?? 8, async ([component, image]) => {
      const { registry, path: repository } = repositoryLocation(image.image);
      const digest = await client!(registry).digest(repository, image.tag);
      if (!digest) throw new UserError(`${image.image}:${image.tag} (${component}, from ${image.origin}) is not in the registry, so its digest cannot be pinned: push it, fix the tag, or set pinDigest: false.`);
      image.digest = digest;
    });
  }

  // 7. The changes: against the lock entry, or what the environment deploys today.
  const imageChanges: ImageChange[] = [];
  const changes: ComponentChange[] = [];
  const next = new Map<string, LockUpdate>();
  const released: string[] = [];
  for (const [component, image] of [...desired].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const entry = current.get(component);
    const before = entry ?? from.get(component)?.pins[0];
    const unchanged = sameImage(entry, image);
    // A rollback to what already runs sets nothing back, so it holds nothing either.
    const hold = unchanged && image.rollback && image.hold ? undefined : image.hold;
    const after: LockUpdate = { image: image.image, tag: image.tag, digest: image.digest, revision: image.revision ?? (unchanged ? entry?.revision : undefined), hold };
    const releases = hold === null && !!entry?.hold;
    if (releases) {
      released.push(component);
      log.info(`${component}: released from its hold (${entry!.hold}).`);
    }
    if (unchanged) {
      if (releases || (hold && hold !== entry?.hold)) next.set(component, after);
      continue;
    }
    next.set(component, after);
    imageChanges.push({ component, from: before && { name: before.image, tag: before.tag, digest: before.digest }, to: { name: after.image, tag: after.tag, digest: after.digest } });
    changes.push({
      component,
      from: before ? lockReference(before) : '',
      to: lockReference(after),
      bump: changeBump(before, after),
      files: [],
      ...(image.rollback ? { rollback: true } : {}),
      ...(hold ? { hold } : {}),
      ...(releases ? { released: true } : {}),
      ...(after.revision ? { revision: after.revision } : {}),
      ...(image.source ? { source: image.source } : {}),
    });
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
    const updatedLock = updateLock(lockText, lockShown, environment, new Map([...next].map(([component, image]) => [lockKeys.get(component) ?? component, image])));
    if (updatedLock !== lockText || !lockExists) newFiles.set(lockPath, updatedLock);
  }
  for (const change of changes) {
    change.files = [lockShown, ...(touchedBy.get(change.component) ?? [])];
    if (touchedBy.has(change.component)) continue;
    // Nothing edited: either the environment already runs the new image (a first run recording it), or nothing uses it.
    const repository = next.get(change.component)!.image;
    deployedRenders ??= env.render().flatMap((r) => ('render' in r ? [r.render] : []));
    if (!deployedImages(change.component, repository, active, deployedRenders, mappings).length) {
      log.warn(`${change.component}: no reference under ${manifestsName} uses ${repository}; only ${lockShown} records the new image.`, { file: lockShown });
    }
  }

  // 12b. The inventory: in the summary always, in inventoryFile whenever the run changes something.
  const lockAfter = readLock(newFiles.get(lockPath) ?? lockText, lockShown);
  const history = lockExists ? await lockHistory(root, lockShown, lockAfter) : undefined;
  if (inventoryPath && newFiles.size) {
    const pending = new Set(changes.map((c) => `${environment}/${c.component}`));
    const text = inventoryFile(lockAfter, { history, pending, pendingLabel: new Date().toISOString().slice(0, 10) });
    const existing = await fs.readFile(inventoryPath, 'utf8').catch(() => undefined);
    if (text !== existing) newFiles.set(inventoryPath, text);
  }
  const written = [...newFiles.keys()].map((p) => path.relative(realRoot, p).split(path.sep).join('/')).sort();

  // 13. Write everything or nothing.
  const writing = Date.now();
  if (newFiles.size && !options.dryRun) writeAllOrNothing(newFiles);
  log.debug(`wrote ${newFiles.size} file(s) in ${Date.now() - writing} ms`);
  for (const change of changes) log.info(`${change.component}: ${change.from || '(new)'} -> ${change.to} (${change.bump}${change.rollback ? ', rollback' : ''})${change.hold ? `, held: ${change.hold}` : ''}`);
  return {
    environment,
    changed: written.length > 0,
    changes,
    checked: desired.size + held.length,
    files: written,
    warnings,
    held,
    released,
    ...(rollback ? { rollback } : {}),
    lock: lockAfter,
    history,
    dryRun: !!options.dryRun,
  };
}

/** The components `release` names (true: every selected one); a name that matches none of the environment's is an error. */
function releasedComponents(release: boolean | string[] | undefined, chosen: Set<string>, current: Map<string, LockEntry>): Set<string> {
  if (release === true) return chosen;
  if (!release || !release.length) return new Set();
  return new Set(selectByName([...current.keys()].map((name) => ({ name })), release, 'component of the environment (release)').map((c) => c.name));
}

/** The lock as the GitOps repository's `revision` (a commit, tag or branch) holds it, for a rollback. */
async function lockAtRevision(root: string, lockShown: string, revision: string | undefined): Promise<{ lock: Lock; commit: string; label: string }> {
  const wanted = revision?.trim() ?? '';
  if (!wanted) throw new UserError(`source 'revision' needs revision: the GitOps repository's commit or tag whose ${lockShown} the environment goes back to (e.g. HEAD~1, or a tag).`);
  const git = new Git(root);
  const commit = wanted.startsWith('-') ? undefined : await git.resolve(wanted);
  if (!commit) {
    throw new UserError(
      `revision '${wanted}' is not a commit of the GitOps repository at ${root}: use a commit, tag or branch it has. A shallow checkout lacks the history: set 'fetchDepth: 0' (and 'fetchTags: true') on its checkout step.`,
    );
  }
  const label = commit.startsWith(wanted.toLowerCase()) ? commit.slice(0, 12) : `${wanted} (${commit.slice(0, 12)})`;
  const text = await showFile(git, commit, lockShown);
  if (text === undefined) throw new UserError(`${lockShown} does not exist at ${label}: pick a revision from when the repository had its lock.`, { file: lockShown });
  return { lock: readLock(text, `${lockShown} at ${label}`), commit, label };
}
