import * as path from 'node:path';
import type { Log } from '../agent';
import { shown, UserError } from '../errors';
import { Git } from '../git/git';
import { GlobSyntaxError, pathMatcher } from './glob';
import { isWithin } from './tree';

/**
 * The folders discovery does not search for Cargo.toml files, as a test on paths relative to the
 * searched folder ('/'-separated): those an `excludePaths` pattern matches, and those git ignores.
 * (A workspace outside them that lists members there, or a path dependency into them, still reads
 * them, as Cargo does: see SourceTree.)
 */
export async function leftOutFolders(root: string, excludePaths: string[], log?: Partial<Pick<Log, 'debug'>>): Promise<(relative: string) => boolean> {
  const matchers = excludePaths.map((pattern) => excludeMatcher(root, pattern));
  const ignored = await ignoredFolders(root, log);
  if (!matchers.length && !ignored.size) return () => false;
  return (relative) => ignored.has(relative) || matchers.some((matches) => matches(relative));
}

/** One `excludePaths` entry: a glob relative to the searched folder (or an absolute path inside it). */
function excludeMatcher(root: string, entry: string): (relative: string) => boolean {
  let pattern = entry.trim();
  if (path.isAbsolute(pattern)) {
    if (!isWithin(path.resolve(pattern), root)) {
      throw new UserError(`excludePaths entry ${shown(entry)} lies outside componentsPath ${root}: give folders relative to componentsPath, e.g. tests/**/fixtures.`);
    }
    pattern = path.relative(root, pattern);
  }
  if (pattern.split(/[\\/]/).includes('..')) {
    throw new UserError(`excludePaths entry ${shown(entry)} climbs out with '..': give folders relative to componentsPath, e.g. tests/**/fixtures.`);
  }
  try {
    return pathMatcher(pattern);
  } catch (error) {
    if (error instanceof GlobSyntaxError) throw new UserError(`excludePaths has an invalid glob ${error.message}.`);
    throw error;
  }
}

/**
 * Untracked folders git ignores under `root` (.gitignore files, .git/info/exclude, the global excludes
 * file), relative to it, from one `git ls-files` (git stops at an ignored folder, so this costs about one
 * walk of what is not ignored). Tracked files are never ignored, as in git. Empty outside a working copy
 * or when git cannot answer.
 */
async function ignoredFolders(root: string, log?: Partial<Pick<Log, 'debug'>>): Promise<Set<string>> {
  const args = ['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '-z'];
  const result = await new Git(root).run(args, { allowFailure: true }).catch((error: Error) => ({ code: -1, stdout: '', stderr: error.message }));
  if (result.code !== 0) {
    log?.debug?.(`Not a git working copy, or git cannot read it (${result.stderr.trim().split('\n')[0]}): no .gitignore'd folder is left out of discovery.`);
    return new Set();
  }
  return new Set(
    result.stdout
      .split('\0')
      .filter((entry) => entry.endsWith('/') && entry !== './')
      .map((entry) => entry.slice(0, -1)),
  );
}
