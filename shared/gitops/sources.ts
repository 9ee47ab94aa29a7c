import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { progressCounter, type Log } from '../agent';
import { shown, UserError } from '../errors';
import { parseImageLine, parseImagesJson, repositoryLocation, sameRepository } from '../images/reference';
import { azureRegistryAmong, registryHost } from '../images/registry-host';
import type { Lock, LockImage } from '../lock/lockfile';
import type { EnvChange } from '../pr/changes';
import type { FetchFunction } from '../net/fetch';
import { RegistryClient, type RegistryCredentials } from '../registry/client';
import { newest, parseVersion } from '../versions/order';

/** What the registry source and digest pinning need from a registry. */
export interface RegistryLike {
  listTags(repository: string): Promise<string[]>;
  digest(repository: string, reference: string): Promise<string | undefined>;
}

/** How a run reaches registries: UpdateGitOpsVersions' and ValidateGitOps' options, from registryAccess. */
export interface RegistryOptions {
  /** The registry the credentials belong to: a host (myacr.azurecr.io) or URL, any spelling registryHost reads. */
  registry?: string;
  credentials?: RegistryCredentials;
  /** An Azure connection given without `registry` (registryAccess): signs in to the registry the images name. */
  signIn?: (registry: string) => Promise<RegistryCredentials>;
  /** Tags asked for per page; default 1,000. */
  registryPageSize?: number;
  /** The HTTP transport (the agent's proxy and CA: transportFor in net/proxy-fetch.ts); default the global fetch. */
  fetch?: FetchFunction;
  /** Makes the client for a registry host (as registryHost spells it: docker.io for Docker Hub); default a RegistryClient, with the credentials for `registry`. */
  registryClient?: (host: string) => RegistryLike;
}

/**
 * A client per registry host (as registryHost spells it: docker.io for Docker Hub), made on first use; only
 * `registry`'s host gets the credentials; every request goes through `fetch` (the agent's proxy and CA).
 */
function registryClients(options: RegistryOptions): (host: string) => RegistryLike {
  const clients = new Map<string, RegistryLike>();
  return (host) => {
    let client = clients.get(host);
    if (!client) {
      const own = !!options.registry && registryHost(options.registry) === host;
      const registry = new RegistryClient(host, own ? options.credentials : {}, options.fetch);
      client = { listTags: (repository) => registry.listTags(repository, options.registryPageSize ?? 1000), digest: (repository, tag) => registry.digest(repository, tag) };
      clients.set(host, client);
    }
    return client;
  };
}

/**
 * The registry clients for a run that reads `images` (references or repositories): `registryClient` when
 * given, else a client per host with the credentials for `registry`. An Azure connection given without
 * `registry` signs in now to the registry the images name (the one host, else the one Azure Container
 * Registry among them), or is refused, before anything is written.
 */
export async function registryClientsFor(options: RegistryOptions, images: Iterable<string>): Promise<(host: string) => RegistryLike> {
  if (options.registryClient) return options.registryClient;
  if (!options.signIn) return registryClients(options);
  const hosts = [...images].map((image) => repositoryLocation(image).registry);
  const registry = azureRegistryAmong(hosts);
  if (!registry) {
    const named = [...new Set(hosts)].sort().join(', ') || 'no registry';
    throw new UserError(`azureSubscription is given without registry, and the images name ${named}: set registry to the login server of the Azure Container Registry the connection is for, e.g. myacr.azurecr.io.`);
  }
  return registryClients({ ...options, registry, credentials: await options.signIn(registry) });
}

/** What a component should run, with where it came from (for messages). */
export interface DesiredImage extends LockImage {
  origin: string;
  /** The app repository that built it (images.json `source`, its org.opencontainers.image.source): where its promotion mark goes. */
  source?: string;
  /** The hold to write: a reason, null to remove it, undefined to leave the lock's as it is. */
  hold?: string | null;
  /** Set back on purpose (source revision): downgrades are allowed, and a held component is moved too. */
  rollback?: boolean;
}

/** A desired image per component. */
export type Desired = Map<string, DesiredImage>;

/** Runs `work` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * The images.json files `imagesFile` names: one file, or a folder whose *.json files (at any depth) are
 * each one, as the build legs of a fanned-out BuildRustContainers publish them.
 */
async function imagesFiles(imagesFile: string | undefined): Promise<string[]> {
  if (!imagesFile) return [];
  const stat = await fs.stat(imagesFile).catch(() => undefined);
  if (!stat) throw new UserError(`imagesFile ${imagesFile} cannot be read: pass the images.json that BuildRustContainers wrote (its manifestPath), or a folder of them.`, { file: imagesFile });
  if (!stat.isDirectory()) return [imagesFile];
  const files = (await fs.readdir(imagesFile, { recursive: true, encoding: 'utf8' })).filter((f) => f.endsWith('.json')).sort();
  if (!files.length) throw new UserError(`imagesFile ${imagesFile} is a folder without any images.json: download the build's artifacts into it first.`, { file: imagesFile });
  return files.map((f) => path.join(imagesFile, f));
}

/** `images` lines and images.json files: components the build produced. */
export async function fromImages(lines: string[], imagesFile: string | undefined, current: Map<string, LockImage>, lockFile: string, log: Log): Promise<Desired> {
  const desired: Desired = new Map();
  for (const file of await imagesFiles(imagesFile)) {
    const text = await fs.readFile(file, 'utf8');
    for (const image of parseImagesJson(text, file)) {
      if (image.status === 'planned') {
        log.warn(`${image.component} is only planned (not built): it is left as it is.`, { file });
        continue;
      }
      // The immutable tag: additional ones (latest, 1.4) move with later builds.
      const tag = image.primaryTag ?? image.tags.find((t) => parseVersion(t)) ?? image.tags[0];
      if (!tag) throw new UserError(`${image.component} has no tags in ${path.basename(file)}.`, { file });
      const earlier = desired.get(image.component);
      if (earlier && (earlier.tag !== tag || earlier.digest !== image.digest)) {
        throw new UserError(`${image.component} is in both ${earlier.origin} and ${path.basename(file)} with different images: keep one build's images.json per component.`, { file });
      }
      desired.set(image.component, { image: image.image, tag, digest: image.digest, revision: image.revision, origin: `${path.basename(file)} (${image.component})`, ...(image.source ? { source: image.source } : {}) });
    }
  }
  lines.forEach((text, index) => {
    const origin = `images line ${index + 1} (${shown(text.trim())})`;
    const line = parseImageLine(text, origin);
    let component = line.component!;
    if (text.indexOf('=') < 0 && line.name) {
      const known = [...current].find(([, entry]) => sameRepository(entry.image, line.name!));
      if (known) component = known[0];
    }
    const image = line.name ?? current.get(component)?.image ?? desired.get(component)?.image;
    if (!image) {
      throw new UserError(`${origin}: ${component} is not in ${lockFile} for this environment, so its repository is unknown: write '${component}=registry/repository:${line.tag}'.`);
    }
    desired.set(component, { image, tag: line.tag, digest: line.digest, origin });
  });
  return desired;
}

/** Promotion: tag and digest exactly as `sourceEnvironment` runs them. */
export function fromEnvironment(lock: Lock, sourceEnvironment: string | undefined, environment: string): Desired {
  if (!sourceEnvironment) throw new UserError(`source 'environment' needs sourceEnvironment: the environment to promote from (e.g. devtest).`);
  if (sourceEnvironment === environment) throw new UserError(`sourceEnvironment and environment are both '${environment}': promote from another environment.`);
  const entries = lock.environments.get(sourceEnvironment);
  if (!entries) {
    const known = [...lock.environments.keys()].join(', ') || 'none';
    throw new UserError(`${lock.file} has no environment '${sourceEnvironment}' to promote from (known: ${known}). A repository that holds one environment cannot promote from another: use source 'images' with the other environment's images.`, { file: lock.file });
  }
  const desired: Desired = new Map();
  for (const [component, entry] of entries) {
    desired.set(component, { image: entry.image, tag: entry.tag, digest: entry.digest, revision: entry.revision, origin: `${lock.file}:${entry.line} (${sourceEnvironment})` });
  }
  return desired;
}

/**
 * A rollback: the environment's images (tag, digest, revision) as the lock at an earlier revision of the
 * GitOps repository records them (its `file` names that revision: `versions.yaml at good (31936d4e9ac5)`).
 */
export function fromRevision(lock: Lock, environment: string): Desired {
  const entries = lock.environments.get(environment);
  if (!entries?.size) {
    throw new UserError(`${lock.file} has no components for '${environment}' (environments there: ${[...lock.environments.keys()].join(', ') || 'none'}): pick a revision from when '${environment}' was in the lock.`, { file: lock.file });
  }
  const desired: Desired = new Map();
  for (const [component, entry] of entries) {
    desired.set(component, { image: entry.image, tag: entry.tag, digest: entry.digest, revision: entry.revision, rollback: true, origin: `${lock.file}, line ${entry.line}` });
  }
  return desired;
}

/**
 * CreateEnvPR's re-apply: the changes an UpdateGitOpsVersions run made (its `changes`), with the holds it set
 * or released and the revisions it wrote, to be made again on the pull request's newer branch.
 */
export function fromChanges(changes: EnvChange[]): Desired {
  const desired: Desired = new Map();
  for (const change of changes) {
    const origin = `the change of ${change.component} to ${shown(change.to)}`;
    const ref = parseImageLine(change.to, origin);
    desired.set(change.component, {
      image: ref.name!,
      tag: ref.tag,
      digest: ref.digest,
      revision: change.revision,
      origin,
      ...(change.hold ? { hold: change.hold } : change.released ? { hold: null } : {}),
      ...(change.rollback ? { rollback: true } : {}),
    });
  }
  return desired;
}

/** The newest tag matching `filter` of each component's repository, with the registry's digest. */
export async function fromRegistry(
  components: Array<[string, LockImage]>,
  filter: RegExp,
  client: (host: string) => RegistryLike,
  pinDigest: boolean,
  concurrency: number,
  log: Log,
): Promise<Desired> {
  const desired: Desired = new Map();
  const resolved = progressCounter(log, components.length, (done) => `Resolved ${done} of ${components.length} component(s) in the registry`);
  const found = await mapLimit(components, concurrency, async ([component, entry]) => {
    const { registry: host, path: repository } = repositoryLocation(entry.image);
    const registry = client(host);
    const tags = await registry.listTags(repository);
    const tag = newest(tags, filter);
    if (!tag) {
      throw new UserError(`No tag of ${entry.image} matches tagFilter ${filter.source} (${tags.length} tag(s) in the registry): push a release or change tagFilter.`);
    }
    const digest = pinDigest ? await registry.digest(repository, tag) : undefined;
    log.debug(`${component}: newest of ${tags.length} tag(s) in ${entry.image} is ${tag}${digest ? ` (${digest})` : ''}`);
    resolved();
    return [component, { image: entry.image, tag, digest, origin: `${entry.image} in the registry` }] as const;
  });
  for (const [component, image] of found) desired.set(component, image);
  return desired;
}
