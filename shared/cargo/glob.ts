import * as path from 'node:path';
import { matchTokens, type WildcardToken } from '../wildcard';
import type { SourceTree } from './tree';

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

function descendants(tree: SourceTree, dir: string, into: string[]): void {
  into.push(dir);
  for (const name of tree.children.get(dir) ?? []) descendants(tree, path.join(dir, name), into);
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
export function expandMember(pattern: string, base: string, tree: SourceTree): string[] {
  if (!isGlob(pattern)) return [path.resolve(base, pattern)];
  const parts = pattern.split(path.sep === '\\' ? /[\\/]/ : /\//);
  let candidates = [path.resolve(base, path.isAbsolute(pattern) ? path.sep : '.')];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') candidates = candidates.map((dir) => path.dirname(dir));
    else if (part === '**') {
      const all: string[] = [];
      for (const dir of candidates) descendants(tree, dir, all);
      candidates = all;
    } else if (!isGlob(part)) {
      candidates = candidates.map((dir) => path.join(dir, part)).filter((dir) => tree.children.has(dir));
    } else {
      const tokens = componentTokens(part, pattern);
      candidates = candidates.flatMap((dir) => (tree.children.get(dir) ?? []).filter((name) => matchTokens(tokens, name)).map((name) => path.join(dir, name)));
    }
  }
  return [...new Set(candidates)].filter((dir) => tree.children.has(dir)).sort();
}
