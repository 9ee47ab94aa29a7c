import * as path from 'node:path';
import { matchTokens, type WildcardToken } from '../wildcard';
import type { SourceTree } from './tree';

/** What member expansion needs of the searched tree. */
type Folders = Pick<SourceTree, 'subdirs'>;

/**
 * `workspace.members` patterns, matched the way Cargo matches them (the Rust `glob` crate): relative to
 * the workspace root, one path component at a time; `*` any run of characters within a component,
 * `?` one character, `[abc]`, `[a-z]` and `[!abc]` character classes, and a `**` component for zero or
 * more directories. Only directories count as members.
 */

const META = /[*?[]/;

export class GlobSyntaxError extends Error {}

/** One path component of a pattern as wildcard tokens (matched without regular-expression backtracking). */
function componentTokens(component: string, pattern: string): WildcardToken[] {
  if (component.includes('**')) {
    throw new GlobSyntaxError(`'${pattern}': '**' must be a whole path component, as in 'crates/**/service'`);
  }
  const tokens: WildcardToken[] = [];
  for (let i = 0; i < component.length; i++) {
    const c = component[i];
    if (c === '*') tokens.push('*');
    else if (c === '?') tokens.push(() => true);
    else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (component[j] === '!') {
        negate = true;
        j++;
      }
      const start = j;
      if (component[j] === ']') j++; // a leading ']' is literal
      while (j < component.length && component[j] !== ']') j++;
      if (j >= component.length) throw new GlobSyntaxError(`'${pattern}': '[' without a closing ']'`);
      const body = component
        .slice(start, j)
        .replace(/[\\\]^]/g, '\\$&');
      // A class matches one character: its regular expression cannot backtrack.
      const re = new RegExp(negate ? `^[^${body}]$` : `^[${body}]$`, 's');
      tokens.push((x) => re.test(x));
      i = j;
    } else tokens.push((x) => x === c);
  }
  return tokens;
}

function descendants(tree: Folders, dir: string, into: string[]): void {
  into.push(dir);
  for (const name of tree.subdirs(dir) ?? []) descendants(tree, path.join(dir, name), into);
}

/** A pattern's path components: '/' separates them (and '\\' too on Windows). */
function splitPattern(pattern: string): string[] {
  return pattern.split(path.sep === '\\' ? /[\\/]/ : /\//);
}

/**
 * A matcher for relative '/'-separated folder paths (the `excludePaths` input): each component of
 * `pattern` is a glob as in `workspace.members`, and a `**` component stands for any number of
 * folders, so `tests/**\/fixtures` matches `tests/fixtures` and `tests/a/b/fixtures`. Time is pattern
 * length times path depth: the positions reachable in the pattern, advanced one path component at a time.
 */
export function pathMatcher(pattern: string): (relative: string) => boolean {
  const segments = splitPattern(pattern)
    .filter((part) => part !== '' && part !== '.')
    .map((part) => (part === '**' ? '**' : componentTokens(part, pattern)));
  const close = (positions: Set<number>): Set<number> => {
    for (const p of positions) if (segments[p] === '**') positions.add(p + 1);
    return positions;
  };
  return (relative) => {
    let positions = close(new Set([0]));
    for (const name of relative.split('/')) {
      const next = new Set<number>();
      for (const p of positions) {
        const segment = segments[p];
        if (segment === '**') next.add(p);
        else if (segment && matchTokens(segment, name)) next.add(p + 1);
      }
      if (!next.size) return false;
      positions = close(next);
    }
    return positions.has(segments.length);
  };
}

/** True when the member entry is a pattern rather than a literal path. */
export function isGlob(pattern: string): boolean {
  return META.test(pattern);
}

/**
 * Directories matching `pattern` below `base`. A literal pattern (no wildcard) gives its one path
 * whether or not it exists, as Cargo does; a pattern with wildcards gives only existing directories
 * known to `tree`, sorted.
 */
export function expandMember(pattern: string, base: string, tree: Folders): string[] {
  if (!isGlob(pattern)) return [path.resolve(base, pattern)];
  const parts = splitPattern(pattern);
  let candidates = [path.resolve(base, path.isAbsolute(pattern) ? path.sep : '.')];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') candidates = candidates.map((dir) => path.dirname(dir));
    else if (part === '**') {
      const all: string[] = [];
      for (const dir of candidates) descendants(tree, dir, all);
      candidates = all;
    } else if (!isGlob(part)) {
      candidates = candidates.map((dir) => path.join(dir, part)).filter((dir) => tree.subdirs(dir));
    } else {
      const tokens = componentTokens(part, pattern);
      candidates = candidates.flatMap((dir) => (tree.subdirs(dir) ?? []).filter((name) => matchTokens(tokens, name)).map((name) => path.join(dir, name)));
    }
  }
  return [...new Set(candidates)].filter((dir) => tree.subdirs(dir)).sort();
}
