import * as path from 'node:path';
import type { Component } from '../cargo/component';
import { imageMetadata, METADATA_KEY, packageNameProblem, readManifest } from '../cargo/manifest';
import { shown, UserError } from '../errors';
import { validateRepository } from './names';
import { parseImageRef, splitRegistry } from './reference';

/**
 * A component's image name, the one rule every task shares: the `imageNames` input (`component=repository`
 * lines) over `[package.metadata.rust-gitops-release] image` in its Cargo.toml over `package.name`.
 * BuildRustContainers names and builds images with it; UpdateGitOpsVersions and CreateEnvPR, which have no
 * Cargo tree, take the input to know lock entries and references kept under the image's name (the folder
 * names the original scripts used) as the component's.
 */

/** The `imageNames` input: component -> image repository name. */
export type ImageNames = ReadonlyMap<string, string>;

/** Parses `component=repository` lines (one a line, or comma-separated); the input is named in errors. */
export function parseImageNames(lines: readonly string[], input = 'imageNames'): ImageNames {
  const names = new Map<string, string>();
  for (const line of lines) {
    const eq = line.indexOf('=');
    const component = line.slice(0, eq).trim();
    const repository = line.slice(eq + 1).trim();
    if (eq < 0 || !component || !repository) throw new UserError(`${input} line ${shown(line)} is not component=repository, e.g. http-connector=broker.`);
    const problem = packageNameProblem(component);
    if (problem) throw new UserError(`${input} line ${shown(line)}: ${shown(component)} is not a Cargo package name (${problem}).`);
    try {
      validateRepository(repository);
    } catch (error) {
      throw new UserError(`${input} line ${shown(line)}: ${(error as Error).message}`);
    }
    if (names.has(component) && names.get(component) !== repository) throw new UserError(`${input} names two images for ${shown(component)}: ${names.get(component)} and ${repository}. Keep one line per component.`);
    names.set(component, repository);
  }
  return names;
}

/** Whether `image` (a repository, with or without registry host, or a reference) is repository `name`, under any namespace or prefix. */
export function isImageNamed(image: string, name: string): boolean {
  const repository = splitRegistry(parseImageRef(image)?.name ?? image).path;
  return repository === name || repository.endsWith(`/${name}`);
}

/** How one component's image is named and built, resolved from the input, its Cargo.toml and its package. */
export interface ComponentImage {
  /** The repository name, before the registry's namespace and repositoryPrefix. */
  name: string;
  /** Where the name comes from, for the log. */
  source: 'imageNames' | 'Cargo.toml' | 'package.name';
  /** Absolute paths and values from the Cargo.toml, when it sets them. */
  dockerfile?: string;
  context?: string;
  platforms?: string[];
  buildArgs?: Record<string, string>;
}

/**
 * The image settings of `component`. Dockerfile and context from the Cargo.toml must stay inside `root`
 * (componentsPath): a build context is uploaded to the builder as a whole.
 */
export function componentImage(component: Component, imageNames: ImageNames, root: string): ComponentImage {
  const metadata = imageMetadata(readManifest(component.manifestPath));
  for (const key of ['dockerfile', 'context'] as const) {
    const value = metadata?.[key];
    const relative = value === undefined ? '' : path.relative(root, value);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new UserError(`package.metadata.${METADATA_KEY}.${key} of ${component.name} leads to ${value}, outside componentsPath ${root}: keep the ${key} inside the repository.`, metadata!.where);
    }
  }
  const fromInput = imageNames.get(component.name);
  return {
    name: fromInput ?? metadata?.image ?? component.name,
    source: fromInput ? 'imageNames' : metadata?.image ? 'Cargo.toml' : 'package.name',
    ...(metadata?.dockerfile ? { dockerfile: metadata.dockerfile } : {}),
    ...(metadata?.context ? { context: metadata.context } : {}),
    ...(metadata?.platforms ? { platforms: metadata.platforms } : {}),
    ...(metadata?.buildArgs ? { buildArgs: metadata.buildArgs } : {}),
  };
}

/** Refuses `imageNames` lines naming no discovered component (a typo would otherwise name nothing). */
export function checkImageNamesKnown(imageNames: ImageNames, known: Iterable<string>): void {
  const names = new Set(known);
  const unknown = [...imageNames.keys()].filter((component) => !names.has(component));
  if (unknown.length) {
    throw new UserError(`imageNames names ${unknown.map((c) => shown(c)).join(', ')}, which no Cargo package under componentsPath is called: use package names (${[...names].sort().join(', ')}).`);
  }
}

/**
 * Keys (lock entries, changes) that stand for a mapped component under its image's name: key -> component.
 * A key is a component's when the component itself is not a key, the key is not another mapped component,
 * and the key's image is the component's mapped repository; two such keys for one component are refused.
 */
export function keysByImage(keys: ReadonlyMap<string, string>, imageNames: ImageNames, where: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const [component, repository] of imageNames) {
    if (keys.has(component)) continue;
    const matches = [...keys].filter(([key, image]) => !imageNames.has(key) && isImageNamed(image, repository)).map(([key]) => key);
    if (matches.length > 1) {
      throw new UserError(`${where} has ${matches.join(' and ')} for the image ${repository} of ${component} (imageNames): keep one entry for it.`);
    }
    if (matches.length) found.set(matches[0], component);
  }
  return found;
}

/** Refuses an image for `component` that is not the repository imageNames gives it: all tasks must agree on it. */
export function checkImageAgrees(component: string, image: string, imageNames: ImageNames, origin: string): void {
  const repository = imageNames.get(component);
  if (repository && !isImageNamed(image, repository)) {
    throw new UserError(
      `${origin} gives ${component} the image ${image}, but imageNames says its image is ${repository}: ` +
        `build with the same imageNames (or [package.metadata.${METADATA_KEY}] image = "${repository}"), or correct the imageNames line.`,
    );
  }
}

/**
 * Lock entries keyed by component: an entry kept under a mapped component's image name (see keysByImage)
 * is listed under the component, and `keys` says which lock key it has (to write it back there).
 */
export function byComponent<T extends { image: string }>(entries: ReadonlyMap<string, T>, imageNames: ImageNames, where: string): { entries: Map<string, T>; keys: Map<string, string> } {
  const aliases = keysByImage(new Map([...entries].map(([key, entry]) => [key, entry.image])), imageNames, where);
  return {
    entries: new Map([...entries].map(([key, entry]) => [aliases.get(key) ?? key, entry])),
    keys: new Map([...aliases].map(([key, component]) => [component, key])),
  };
}
