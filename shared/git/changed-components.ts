import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Component } from '../cargo/component';
import { shown, UserError } from '../errors';
import { fillTemplate } from '../template';
import { Git } from './git';
import { tagValues } from './tag-name';
import { compareVersions } from '../versions/order';

/** The `changedSince` value that asks for the commit of this pipeline's last successful run. */
export const LAST_SUCCESSFUL_BUILD = 'lastSuccessfulBuild';

export interface ChangeOptions {
  /** Any directory inside the git working copy (usually componentsPath). */
  root: string;
  /** A ref to compare every component with; empty: each component's last component tag. */
  changedSince?: string;
  /** How reasons name `changedSince` (e.g. `last successful run 42 (1a2b3c4d5e6f)`); default the ref. */
  sinceLabel?: string;
  /** Component tag format, default `{name}/{version}` (as TagComponents writes them). */
  tagFormat?: string;
  /** Earlier formats whose tags count too (e.g. `{dir}/{version}`, as the original scripts tagged folders). */
  legacyTagFormats?: string[];
  /** Further files that count for a component, by component name (e.g. a Dockerfile kept elsewhere). */
  extraPaths?: Map<string, string[]>;
}

export interface ChangeVerdict {
  affected: boolean;
  /** The ref compared with, when there was one. */
  since?: string;
  /** Why, in words: the first changed file, or that there is no earlier tag. */
  reason: string;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regex matching this component's tags in `format` (`{name}`, `{dir}`, `{version}`), capturing the version. */
export function componentTagPattern(format: string, component: { name: string; dir: string }): RegExp {
  const body = format
    .split(/(\{name\}|\{dir\}|\{version\})/)
    .map((part) => (part === '{name}' ? escape(component.name) : part === '{dir}' ? escape(component.dir) : part === '{version}' ? '(.+)' : escape(part)))
    .join('');
  return new RegExp(`^${body}$`);
}

/** Refuses a tag format that cannot find a component's tags: unknown placeholders, or no `{version}` to order them by. */
export function checkTagFormat(input: string, format: string): void {
  fillTemplate(input, format, { name: 'x', dir: 'x', version: '1.0.0' });
  if (!format.includes('{version}')) throw new UserError(`${input} ${shown(format)} has no {version}: the newest tag of a component is found by its version, e.g. {dir}/{version}.`);
}

/**
 * Decides which components changed: a component is affected when a file under its directory, under any
 * of its workspace path dependencies, or the workspace root's Cargo.toml or Cargo.lock differs between
 * the ref and HEAD. The ref is `changedSince`, or else the component's newest tag (by version order)
 * that HEAD contains and that is not on HEAD itself (TagComponents may just have tagged HEAD); a
 * component without such a tag is affected.
 */
export async function affectedComponents(components: Component[], options: ChangeOptions): Promise<Map<string, ChangeVerdict>> {
  const git = new Git(options.root);
  const topResult = await git.run(['rev-parse', '--show-toplevel'], { allowFailure: true });
  if (topResult.code !== 0) {
    throw new UserError(`changedOnly needs a git working copy, and ${options.root} is not inside one: check out the repository, or set changedOnly to false.`);
  }
  const top = await fs.realpath(topResult.stdout.trim());
  const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
  const reachable = lines(await git.text(['tag', '--merged', 'HEAD']));
  const onHead = new Set(lines(await git.text(['tag', '--points-at', 'HEAD'])));
  const diffs = new Map<string, string[]>();
  const changedFiles = async (ref: string): Promise<string[]> => {
    let files = diffs.get(ref);
    if (!files) {
      const result = await git.run(['diff', '--name-only', '--no-renames', '-z', ref, 'HEAD']);
      files = result.stdout.split('\0').filter(Boolean);
      diffs.set(ref, files);
    }
    return files;
  };
  if (options.changedSince && !(await git.resolve(options.changedSince))) {
    throw new UserError(
      `changedSince '${options.changedSince}' is not a commit in this repository: fetch it (checkout with fetchDepth: 0 and fetchTags: true), or leave changedSince empty.`,
    );
  }
  const relative = async (absolute: string): Promise<string> => {
    // A file that does not exist (a deleted Cargo.lock) is placed by its folder's real path.
    const real = await fs
      .realpath(absolute)
      .catch(() => fs.realpath(path.dirname(absolute)).then((dir) => path.join(dir, path.basename(absolute))))
      .catch(() => path.resolve(absolute));
    return path.relative(top, real).split(path.sep).join('/');
  };
  // Path dependencies count transitively: a member's dependency's own path dependencies are used too.
  const byDir = new Map(components.map((c) => [path.resolve(path.dirname(c.manifestPath)), c]));
  const dependencyDirs = (component: Component): string[] => {
    const seen = new Set<string>();
    const queue = [...component.pathDependencies];
    while (queue.length) {
      const dir = path.resolve(queue.shift()!);
      if (seen.has(dir)) continue;
      seen.add(dir);
      queue.push(...(byDir.get(dir)?.pathDependencies ?? []));
    }
    return [...seen];
  };
  const verdicts = new Map<string, ChangeVerdict>();
  for (const component of components) {
    let since = options.changedSince || undefined;
    if (!since) {
      // Tags in the current format and in any earlier one: the newest version of all wins.
      const values = tagValues(component, options.root);
      const patterns = [options.tagFormat || '{name}/{version}', ...(options.legacyTagFormats ?? [])].map((format) => componentTagPattern(format, values));
      const versionOf = (tag: string) => patterns.map((p) => p.exec(tag)?.[1]).find((v) => v !== undefined);
      const tags = reachable.filter((tag) => !onHead.has(tag) && versionOf(tag) !== undefined);
      tags.sort((a, b) => compareVersions(versionOf(a)!, versionOf(b)!));
      since = tags.at(-1);
    }
    if (!since) {
      verdicts.set(component.name, { affected: true, reason: 'no earlier component tag' });
      continue;
    }
    const label = (since === options.changedSince && options.sinceLabel) || since;
    const watched = [
      path.dirname(component.manifestPath),
      ...dependencyDirs(component),
      path.join(component.workspaceRoot, 'Cargo.toml'),
      path.join(component.workspaceRoot, 'Cargo.lock'),
      ...(options.extraPaths?.get(component.name) ?? []),
    ];
    const prefixes = await Promise.all(watched.map(relative));
    const files = await changedFiles(since);
    const hit = files.find((file) => prefixes.some((prefix) => prefix === '' || file === prefix || file.startsWith(`${prefix}/`)));
    verdicts.set(component.name, hit ? { affected: true, since, reason: `${hit} changed since ${label}` } : { affected: false, since, reason: `nothing it uses changed since ${label}` });
  }
  return verdicts;
}
