import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { inGroup, type Log } from '../agent';
import { openBuilder, parseBuilderChoice, type Builder } from '../builders';
import { BuilderCommandError } from '../builders/command';
import { discoverCargo } from '../cargo/discover';
import type { Component } from '../cargo/component';
import type { SkippedManifest } from '../cargo/problems';
import { selectComponents } from '../cargo/select';
import { shown, UserError } from '../errors';
import { writeAllOrNothing } from '../files';
import { parseList } from '../inputs';
import { fillTemplate } from '../template';
import { RegistryClient, type RegistryCredentials } from '../registry/client';
import { additionalImageTags, imageTag, validateRepository } from '../images/names';
import { splitRegistryAddress } from '../images/registry-host';
import { checkImageNamesKnown, componentImage, parseImageNames } from '../images/component-images';
import { affectedComponents, checkTagFormat, LAST_SUCCESSFUL_BUILD } from '../git/changed-components';
import { Git } from '../git/git';
import type { FetchFunction } from '../net/fetch';
import type { NetworkSettings } from '../net/network';
import { pullRequestAdditionalTags } from '../pull-request';
import type { PipelineRun } from '../repos/builds';

export interface BuildContainersOptions {
  /** Where the Cargo workspace(s) are; paths in templates are relative to it. */
  componentsPath: string;
  /** The `components` input: names or globs, `!` excludes; empty selects all. */
  components?: string;
  /** Folders (globs relative to componentsPath) not searched for Cargo.toml files. */
  excludePaths?: string[];
  /** Template, default `{path}/Dockerfile`; `{path}`, `{workspaceRoot}`, `{name}`, `{version}`. */
  dockerfile?: string;
  /** Template, default `{path}`. */
  buildContext?: string;
  /** `imageNames` lines, `component=repository`: image names over Cargo.toml metadata over package.name. */
  imageNames?: string[];
  /** Registry host, optionally with a namespace (`ghcr.io/edge`) or scheme (`https://myacr.azurecr.io`). */
  registry: string;
  credentials?: RegistryCredentials;
  /** The agent's proxy and CA file (agent.network()): every request and git command goes the way they say. */
  network?: NetworkSettings;
  /** The HTTP transport for registries (the agent's proxy and CA: transportFor in net/proxy-fetch.ts); default the global fetch. */
  fetch?: FetchFunction;
  repositoryPrefix?: string;
  imageTagFormat?: string;
  preRelease?: string;
  /** Tags that move with every build; `{version}`, `{major}`, `{minor}`, `{patch}` are filled per component. */
  additionalTags?: string[];
  overwrite?: boolean;
  platforms?: string[];
  /** `auto` (default), `docker`, `podman` or `buildah`. */
  builder?: string;
  /** `KEY=VALUE` each. */
  buildArgs?: string[];
  changedOnly?: boolean;
  /** A ref, or `lastSuccessfulBuild` (the commit of this pipeline's last successful run on the branch); empty: each component's last tag. */
  changedSince?: string;
  /** Component git tag format, for the default of changedSince. */
  tagFormat?: string;
  /** Earlier tag formats (e.g. `{dir}/{version}`) whose tags also count as a component's last tag. */
  legacyTagFormats?: string[];
  /** This run, for changedSince `lastSuccessfulBuild`: where to ask for the pipeline's runs. */
  pipeline?: PipelineRun;
  /** `build` (default) or `plan`. */
  mode?: string;
  /** Where images.json goes; empty writes none. */
  manifestPath?: string;
  push?: boolean;
  dryRun?: boolean;
  /** A pull request build (Build.Reason PullRequest): pushes only the pre-release tag (see shared/pull-request.ts). */
  pullRequest?: boolean;
  buildId?: string;
  /** The commit built (Build.SourceVersion): label `revision` and images.json `commit`. */
  commit?: string;
  /** The repository URL (Build.Repository.Uri): label `source`. */
  sourceUrl?: string;
  /** Parent directory for temporary credentials. */
  tempDir?: string;
  now?: Date;
}

export type ImageStatus = 'pushed' | 'exists' | 'built' | 'planned';

/** One entry of images.json. */
export interface ImageRecord {
  component: string;
  version: string;
  /** Repository with registry, without tag. */
  image: string;
  /** The primary tag first, then the moving additional tags. */
  tags: string[];
  /** The immutable tag (never replaced unless overwrite); the other tags move with every build. */
  primaryTag: string;
  digest?: string;
  platforms: string[];
  status: ImageStatus;
  /** The commit this run built it from (label org.opencontainers.image.revision); absent for an image found in the registry. */
  revision?: string;
  /** The repository it was built from (label org.opencontainers.image.source). */
  source?: string;
}

export interface ImagesManifest {
  schemaVersion: 1;
  buildId: string;
  commit: string;
  images: ImageRecord[];
}

/** What happened to each selected component, for the summary. */
export interface ComponentOutcome {
  component: string;
  version: string;
  path: string;
  status: ImageStatus | 'unchanged' | 'no Dockerfile';
  reference?: string;
  digest?: string;
  note?: string;
}

export interface BuildContainersResult {
  mode: 'build' | 'plan';
  dryRun: boolean;
  images: ImageRecord[];
  /** For `strategy: matrix:`: leg name -> string values. */
  matrix: Record<string, Record<string, string>>;
  built: number;
  skipped: number;
  outcomes: ComponentOutcome[];
  /** The builder used, when something was built. */
  builder?: string;
  /** The file written, when one was. */
  manifestPath?: string;
  /** Cargo.toml files the run went on without: no selected component needs them. */
  skippedManifests?: SkippedManifest[];
}

interface Candidate {
  component: Component;
  dockerfile: string;
  context: string;
  repository: string;
  image: string;
  /** The primary tag first, then the additional (moving) ones. */
  tags: string[];
  platforms: string[];
  buildArgs: Record<string, string>;
  outcome: ComponentOutcome;
  record?: ImageRecord;
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
const BUILD_ARG = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Splits a registry input (a host or URL, optionally with a path) into its host, spelled as registryHost does, and a namespace to prefix. */
export function parseRegistry(input: string): { host: string; namespace: string } {
  const { host, path } = splitRegistryAddress(input);
  if (!/^[a-z0-9.-]+(?::\d+)?$|^\[[0-9a-f:]+\](?::\d+)?$/.test(host)) {
    throw new UserError(`registry ${shown(input)} is not a registry host: give e.g. myacr.azurecr.io, or choose a Docker registry service connection.`);
  }
  return { host, namespace: path ? `${path}/` : '' };
}

/** A leg name Azure Pipelines accepts: letters, digits and `_`, starting with a letter. */
export function legName(name: string, taken: Set<string> = new Set()): string {
  let base = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z]/.test(base)) base = `c_${base}`;
  let leg = base;
  for (let n = 2; taken.has(leg); n++) leg = `${base}_${n}`;
  taken.add(leg);
  return leg;
}

/** The platform the builder produces when none is asked for. */
export function hostPlatform(): string {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return `linux/${arch[process.arch] ?? process.arch}`;
}

function parsePlatforms(values: string[]): string[] {
  const platforms = [...new Set(values.map((p) => p.trim().toLowerCase()).filter(Boolean))];
  for (const platform of platforms) {
    if (!PLATFORM.test(platform)) throw new UserError(`platforms entry ${shown(platform)} is not a platform: use os/arch, e.g. linux/amd64,linux/arm64.`);
  }
  return platforms;
}

function parseBuildArgs(values: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const line of values) {
    const match = BUILD_ARG.exec(line.trim());
    if (!match) throw new UserError(`buildArgs line ${shown(line)} is not KEY=VALUE: one per line, the key made of letters, digits and '_'.`);
    args[match[1]] = match[2];
  }
  return args;
}

async function isFile(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => undefined))?.isFile() ?? false;
}

/**
 * BuildRustContainers: builds, tags and pushes one image per Rust component that has a Dockerfile.
 * Everything that can be wrong with the inputs (selection, Dockerfiles, tags, repositories, registry
 * credentials) is checked before the first build. A tag already in the registry is never replaced
 * unless `overwrite`: its digest is recorded instead. Pushed digests are read back from the registry.
 */
export async function buildRustContainers(options: BuildContainersOptions, log: Log): Promise<BuildContainersResult> {
  const mode = (options.mode || 'build').toLowerCase();
  if (mode !== 'build' && mode !== 'plan') throw new UserError(`mode '${options.mode}' is not known: use build or plan.`);
  const builderChoice = parseBuilderChoice(options.builder ?? 'auto');
  const registry = parseRegistry(options.registry);
  const platforms = parsePlatforms(options.platforms ?? []);
  const buildArgs = parseBuildArgs(options.buildArgs ?? []);
  const imageNames = parseImageNames(options.imageNames ?? []);
  const push = options.push ?? true;
  const additionalTags = options.pullRequest && push ? pullRequestAdditionalTags(options.preRelease, options.additionalTags ?? [], log) : options.additionalTags ?? [];
  const root = path.resolve(options.componentsPath);

  const discovery = await discoverCargo(root, { log, excludePaths: options.excludePaths });
  const { selected, skipped } = selectComponents(discovery, options.components, log);
  checkImageNamesKnown(imageNames, discovery.components.map((c) => c.name));
  const explicit = new Set(parseList(options.components).filter((p) => !p.startsWith('!') && !/[*?]/.test(p)));

  const outcomes: ComponentOutcome[] = [];
  const candidates: Candidate[] = [];
  for (const component of selected) {
    const values = {
      path: component.path,
      workspaceRoot: path.relative(root, component.workspaceRoot).split(path.sep).join('/') || '.',
      name: component.name,
      version: component.version,
    };
    // Where the component says how its image is built (Cargo.toml), that wins over this step's templates.
    const settings = componentImage(component, imageNames, root);
    const dockerfile = settings.dockerfile ?? path.resolve(root, fillTemplate('dockerfile', options.dockerfile || '{path}/Dockerfile', values));
    const outcome: ComponentOutcome = { component: component.name, version: component.version, path: component.path, status: 'no Dockerfile' };
    if (!(await isFile(dockerfile))) {
      if (settings.dockerfile) {
        throw new UserError(`The dockerfile its Cargo.toml names for '${component.name}', ${path.relative(root, dockerfile)}, is not a file: correct the path (relative to the package's folder).`, {
          file: path.relative(root, component.manifestPath),
        });
      }
      if (explicit.has(component.name)) {
        throw new UserError(
          `Component '${component.name}' is listed in components but has no Dockerfile at ${path.relative(root, dockerfile)}: add one, set dockerfile, or remove it from components.`,
          { file: path.relative(root, component.manifestPath) },
        );
      }
      log.info(`${component.name}: no Dockerfile at ${path.relative(root, dockerfile)}, not an image`);
      outcomes.push(outcome);
      continue;
    }
    const context = settings.context ?? path.resolve(root, fillTemplate('buildContext', options.buildContext || '{path}', values));
    if (!(await fs.stat(context).catch(() => undefined))?.isDirectory()) {
      throw new UserError(
        `The build context of '${component.name}', ${path.relative(root, context) || '.'}, is not a folder: check ${settings.context ? `the context its Cargo.toml names` : 'buildContext'}.`,
        settings.context ? { file: path.relative(root, component.manifestPath) } : undefined,
      );
    }
    const tag = imageTag(component.version, { format: options.imageTagFormat, preRelease: options.preRelease });
    const repository = validateRepository(`${registry.namespace}${options.repositoryPrefix ?? ''}${settings.name}`.toLowerCase());
    const moving = additionalImageTags(additionalTags, component.version);
    const tags = [tag, ...new Set(moving.filter((t) => t !== tag))];
    outcome.reference = `${registry.host}/${repository}:${tag}`;
    if (settings.source !== 'package.name') log.info(`${component.name}: image ${registry.host}/${repository} (name from ${settings.source})`);
    candidates.push({
      component,
      dockerfile,
      context,
      repository,
      image: `${registry.host}/${repository}`,
      tags,
      platforms: settings.platforms ? parsePlatforms(settings.platforms) : platforms,
      buildArgs: { ...buildArgs, ...settings.buildArgs },
      outcome,
    });
    outcomes.push(outcome);
  }

  let work = candidates;
  if (options.changedOnly && work.length) {
    const since = await changedSince(options, root, log);
    // Every discovered component goes in, so path dependencies are followed through libraries too.
    const verdicts = since.buildAll
      ? undefined
      : await affectedComponents(discovery.components, {
          root,
          changedSince: since.ref,
          sinceLabel: since.label,
          tagFormat: options.tagFormat,
          legacyTagFormats: options.legacyTagFormats,
          extraPaths: new Map(work.map((c) => [c.component.name, [c.dockerfile]])),
        });
    work = work.filter((candidate) => {
      const verdict = verdicts?.get(candidate.component.name) ?? { affected: true, reason: since.label };
      log.info(`${candidate.component.name}: ${verdict.affected ? 'affected' : 'unchanged'} (${verdict.reason})`);
      if (!verdict.affected) {
        candidate.outcome.status = 'unchanged';
        candidate.outcome.note = verdict.reason;
      }
      return verdict.affected;
    });
  }

  // The registry: credentials first (a refusal stops everything before any build), then what exists, then push access.
  const client = new RegistryClient(registry.host, options.credentials ?? {}, options.fetch);
  if (push && work.length) {
    await client.ping();
    const pending: Candidate[] = [];
    for (const candidate of work) {
      const digest = options.overwrite ? undefined : await client.digest(candidate.repository, candidate.tags[0]);
      if (digest) {
        const found = (await client.platforms(candidate.repository, candidate.tags[0])) ?? [];
        candidate.record = record(candidate, 'exists', digest, found);
        candidate.outcome.status = 'exists';
        candidate.outcome.digest = digest;
        log.info(`${candidate.outcome.reference} exists (${digest}): not rebuilt`);
      } else pending.push(candidate);
    }
    // Pushing is what the build is for: a registry that refuses it (a pull-only role) stops the task now.
    if (mode !== 'plan' && !options.dryRun) for (const candidate of pending) await client.checkPush(candidate.repository);
    work = pending;
  }

  const taken = new Set<string>();
  const matrix: Record<string, Record<string, string>> = {};
  for (const candidate of work) {
    matrix[legName(candidate.component.name, taken)] = {
      component: candidate.component.name,
      version: candidate.component.version,
      tag: candidate.tags[0],
      image: candidate.image,
      path: candidate.component.path,
    };
  }

  let builder: Builder | undefined;
  if (mode === 'plan' || options.dryRun) {
    for (const candidate of work) {
      candidate.record = record(candidate, 'planned', undefined, candidate.platforms.length ? candidate.platforms : [hostPlatform()]);
      candidate.outcome.status = 'planned';
    }
  } else if (work.length) {
    const opened = await openBuilder(builderChoice, { registry: registry.host, credentials: options.credentials ?? {}, log, tempDir: options.tempDir });
    builder = opened;
    try {
      const created = (options.now ?? new Date()).toISOString();
      for (const [index, candidate] of work.entries()) {
        const labels: Record<string, string> = {
          'org.opencontainers.image.title': candidate.component.name,
          'org.opencontainers.image.version': candidate.component.version,
          'org.opencontainers.image.created': created,
        };
        if (options.commit) labels['org.opencontainers.image.revision'] = options.commit;
        if (options.sourceUrl) labels['org.opencontainers.image.source'] = options.sourceUrl;
        const name = candidate.component.name;
        log.progress?.((index / work.length) * 100, `Building ${name} (${index + 1} of ${work.length})`);
        try {
          await inGroup(log, `Building ${name} (${candidate.outcome.reference})`, () =>
            opened.build({
              dockerfile: candidate.dockerfile,
              context: candidate.context,
              references: candidate.tags.map((tag) => `${candidate.image}:${tag}`),
              platforms: candidate.platforms,
              labels,
              buildArgs: candidate.buildArgs,
              push,
            }),
          );
        } catch (error) {
          if (error instanceof UserError) throw error;
          // Most often the Dockerfile or the code it builds: point at the Dockerfile. Images pushed
          // before this one stay, and a re-run finds them.
          throw new UserError(buildFailure(candidate, error as Error), { file: path.relative(root, candidate.dockerfile) });
        }
        if (push) {
          const digest = await client.digest(candidate.repository, candidate.tags[0]);
          if (!digest) throw new Error(`${candidate.outcome.reference} was pushed but the registry does not list it.`);
          const served = (await client.platforms(candidate.repository, candidate.tags[0])) ?? candidate.platforms;
          candidate.record = record(candidate, 'pushed', digest, served, options);
          candidate.outcome.digest = digest;
          log.info(`${candidate.outcome.reference} pushed: ${digest}${movingNote(candidate)}`);
        } else {
          candidate.record = record(candidate, 'built', undefined, candidate.platforms.length ? candidate.platforms : [hostPlatform()], options);
        }
        candidate.outcome.status = candidate.record.status;
      }
      log.progress?.(100, `Built ${work.length} image(s)`);
    } finally {
      await opened.dispose();
    }
  }

  const images = candidates.flatMap((c) => (c.record ? [c.record] : []));
  const result: BuildContainersResult = {
    mode,
    dryRun: !!options.dryRun,
    images,
    matrix,
    built: images.filter((i) => i.status === 'pushed' || i.status === 'built').length,
    skipped: outcomes.filter((o) => o.status === 'exists' || o.status === 'unchanged').length,
    outcomes,
    builder: builder?.name,
    skippedManifests: skipped,
  };
  if (options.manifestPath && !options.dryRun) {
    const manifest: ImagesManifest = { schemaVersion: 1, buildId: options.buildId ?? '', commit: options.commit ?? '', images };
    const target = path.resolve(options.manifestPath);
    await fs.mkdir(path.dirname(target), { recursive: true });
    writeAllOrNothing(new Map([[target, `${JSON.stringify(manifest, null, 2)}\n`]]));
    result.manifestPath = target;
  }
  return result;
}

/** What failed, then the component, the command (argv never holds a credential) and the end of its output. */
function buildFailure(candidate: Candidate, error: Error): string {
  const lines = [`Building ${candidate.outcome.reference} failed: ${error.message}.`, `Component: ${candidate.component.name} (${candidate.component.path})`];
  if (error instanceof BuilderCommandError) {
    lines.push(`Command: ${error.argv.join(' ')}`);
    lines.push(...(error.tail.length ? [`Its last ${error.tail.length} line(s) of output:`, ...error.tail.map((line) => `  ${line}`)] : ['It printed nothing.']));
  }
  return lines.join('\n');
}

/** What the log says of the moving tags pushed beside the primary one. */
function movingNote(candidate: Candidate): string {
  const moving = candidate.tags.slice(1);
  return moving.length ? ` (primary tag ${candidate.tags[0]}, never replaced; moving tags ${moving.join(', ')} now point here too)` : '';
}

/** What changedOnly compares with: a ref, or none (build everything, said with a warning). */
async function changedSince(options: BuildContainersOptions, root: string, log: Log): Promise<{ ref?: string; label?: string; buildAll?: boolean }> {
  if (options.tagFormat) checkTagFormat('tagFormat', options.tagFormat);
  for (const format of options.legacyTagFormats ?? []) checkTagFormat('legacyTagFormats', format);
  if (options.changedSince?.toLowerCase() !== LAST_SUCCESSFUL_BUILD.toLowerCase()) return { ref: options.changedSince };
  if (!options.pipeline) throw new UserError(`changedSince '${LAST_SUCCESSFUL_BUILD}' needs this run's pipeline (collection, project, pipeline id, branch, token): run the task in a pipeline, or give changedSince a ref.`);
  const { lastSuccessfulBuild } = await import('../repos/builds');
  const last = await lastSuccessfulBuild(options.pipeline, log);
  const branch = options.pipeline.branch;
  if (!last) {
    const label = `no successful run of this pipeline on ${branch} yet`;
    log.warn(`changedSince ${LAST_SUCCESSFUL_BUILD}: ${label}, so every component is built.`);
    return { buildAll: true, label };
  }
  const run = `run ${last.buildNumber ?? last.id} (${last.sourceVersion.slice(0, 12)})`;
  if (!(await new Git(root).resolve(last.sourceVersion))) {
    const label = `the last successful ${run} built a commit this clone does not have`;
    log.warn(`changedSince ${LAST_SUCCESSFUL_BUILD}: ${label} (a shallow checkout? check out with fetchDepth: 0), so every component is built.`);
    return { buildAll: true, label };
  }
  log.info(`changedSince ${LAST_SUCCESSFUL_BUILD}: the last successful ${run} on ${branch}`);
  return { ref: last.sourceVersion, label: `last successful ${run}` };
}

/** An images.json entry; `built` (this run's commit and repository) only for an image this run built. */
function record(candidate: Candidate, status: ImageStatus, digest: string | undefined, platforms: string[], built?: { commit?: string; sourceUrl?: string }): ImageRecord {
  return {
    component: candidate.component.name,
    version: candidate.component.version,
    image: candidate.image,
    // A tag found in the registry is left as it is: the additional tags were not pushed.
    tags: status === 'exists' ? candidate.tags.slice(0, 1) : candidate.tags,
    primaryTag: candidate.tags[0],
    ...(digest ? { digest } : {}),
    platforms,
    status,
    ...(built?.commit ? { revision: built.commit } : {}),
    ...(built?.sourceUrl ? { source: built.sourceUrl } : {}),
  };
}
