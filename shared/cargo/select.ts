import * as path from 'node:path';
import type { Log } from '../agent';
import { shown, UserError } from '../errors';
import { parseList } from '../inputs';
import { wildcard } from '../wildcard';
import type { Component } from './component';
import type { Discovery } from './discover';
import { nameList, problemError, type ManifestProblem, type SkippedManifest } from './problems';

/**
 * Applies the `components` input: names or globs (one a line or comma-separated), `!pattern` excludes.
 * Empty selects everything; only exclusions select everything but them. A pattern that matches no
 * known name is an error that lists what is known, never a silent skip.
 */
export function selectByName<T extends { name: string }>(items: T[], input: string | string[], what = 'component', inputName = 'components'): T[] {
  const patterns = Array.isArray(input) ? input : parseList(input);
  const includes = patterns.filter((p) => !p.startsWith('!'));
  const excludes = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).trim());
  for (const pattern of [...includes, ...excludes]) {
    const matches = wildcard(pattern);
    if (!items.some((item) => matches(item.name))) {
      const names = items.map((item) => item.name).sort();
      const known = (names.length > 50 ? [...names.slice(0, 50), `and ${names.length - 50} more`] : names).join(', ') || 'none';
      throw new UserError(`No ${what} matches ${shown(pattern)} in the ${inputName} input. Known: ${known}.`);
    }
  }
  const includeMatchers = includes.map(wildcard);
  const excludeMatchers = excludes.map(wildcard);
  const included = includes.length ? items.filter((item) => includeMatchers.some((matches) => matches(item.name))) : items;
  return included.filter((item) => !excludeMatchers.some((matches) => matches(item.name)));
}

export interface Selection {
  selected: Component[];
  /** The Cargo.toml files the run goes on without (each already warned about). */
  skipped: SkippedManifest[];
}

/**
 * The `components` input over a discovery, and what becomes of the Cargo.toml files it could not use.
 * One the selection needs fails the run (a UserError naming its file and line) before anything is
 * written: a selected component depends on it by path, or an include pattern names a package it left
 * out (and no discovered component of that name), or nothing else was found. Every other one is a
 * warning naming file and line, and is returned as skipped. So the default selection (no include
 * pattern) is every component discovery could read and resolve.
 */
export function selectComponents(discovery: Discovery, input: string | string[] | undefined, log: Pick<Log, 'warn'>): Selection {
  const { components, problems } = discovery;
  if (!components.length) {
    if (problems.length) throw problemError(problems[0], `no other Cargo package was found under ${discovery.root}`);
    throw new UserError(`No Cargo package (a Cargo.toml with [package]) was found under ${discovery.root}: check componentsPath.`);
  }
  const patterns = Array.isArray(input) ? input : parseList(input);
  const names = new Set(components.map((c) => c.name));
  const leftOut = problems.flatMap((problem) => problem.packages.filter((name) => !names.has(name)).map((name) => ({ name, problem })));
  const shortPath = (file: string) => path.relative(discovery.root, file).split(path.sep).join('/') || '.';
  const at = (problem: ManifestProblem) => `${shortPath(problem.file)}${problem.line ? `:${problem.line}` : ''}`;
  let chosen: Array<{ name: string; component?: Component; problem?: ManifestProblem }>;
  try {
    chosen = selectByName([...components.map((component) => ({ name: component.name, component })), ...leftOut], patterns);
  } catch (error) {
    // A pattern that matches nothing may name a package whose Cargo.toml does not show its name.
    const unnamed = problems.filter((problem) => problem.roots.length && !problem.packages.length);
    if (!(error instanceof UserError) || !unnamed.length) throw error;
    throw new UserError(`${error.message} It may be in a Cargo.toml that could not be read: ${nameList(unnamed.map(at), 5)}.`, { file: unnamed[0].file, line: unnamed[0].line });
  }
  const selected = chosen.flatMap((item) => (item.component ? [item.component] : []));

  const why = new Map<ManifestProblem, string>();
  if (patterns.some((p) => !p.startsWith('!'))) {
    for (const { name, problem } of chosen) if (problem && !why.has(problem)) why.set(problem, `the components input selects '${name}', which it leaves out`);
  }
  const selectedAt = new Map(selected.map((c) => [c.manifestPath, c.name]));
  for (const problem of problems) {
    const needing = problem.neededBy.find((file) => selectedAt.has(file));
    if (needing && !why.has(problem)) why.set(problem, `the selected component '${selectedAt.get(needing)}' depends on it by path`);
  }
  const fatal = problems.filter((problem) => why.has(problem));
  if (fatal.length) {
    const more = fatal.slice(1).map(at);
    const error = problemError(fatal[0], why.get(fatal[0]));
    throw more.length ? new UserError(`${error.message} The selection needs ${more.length} more: ${nameList(more, 5)}.`, error.where) : error;
  }

  return {
    selected,
    skipped: problems.map((problem) => {
      const parts = [problem.message];
      if (problem.roots.length) {
        const lost = problem.packages.length ? `, leaving out ${nameList(problem.packages)}` : '';
        parts.push(`Cargo refuses ${nameList(problem.roots.map(shortPath), 5)} because of it${lost}.`);
      }
      const needers = problem.neededBy.map((file) => components.find((c) => c.manifestPath === file)?.name ?? shortPath(file));
      if (needers.length) parts.push(`${nameList(needers)} (not selected) depend${needers.length > 1 ? '' : 's'} on it by path.`);
      parts.push('No selected component needs it, so the run goes on without it: fix it, or leave its folder out with excludePaths.');
      log.warn(parts.join(' '), { file: problem.file, line: problem.line });
      return { file: shortPath(problem.file), line: problem.line, message: problem.message, packages: problem.packages };
    }),
  };
}
