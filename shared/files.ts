import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from './errors';

/** Resolves `relative` under `root` and refuses anything that leaves it, through `..` or a symlink. */
export async function insideRoot(root: string, relative: string): Promise<string> {
  const realRoot = await fs.realpath(root);
  const candidate = path.resolve(realRoot, relative);
  let real = candidate;
  try {
    real = await fs.realpath(candidate);
  } catch {
    // A path that does not exist yet is checked lexically.
  }
  const rel = path.relative(realRoot, real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new UserError(`'${relative}' leads outside ${root}: give a path inside the repository`, { file: relative });
  }
  return real;
}

/**
 * Replaces every file or none: each new content goes to a temporary file beside its target, and only
 * when all are written are they renamed over the targets (rename is atomic on one filesystem).
 */
export async function writeAllOrNothing(files: Map<string, string>): Promise<void> {
  const staged: Array<[string, string]> = [];
  try {
    for (const [target, content] of files) {
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${staged.length}.tmp`);
      let mode: number | undefined;
      try {
        mode = (await fs.stat(target)).mode;
      } catch {
        mode = undefined;
      }
      await fs.writeFile(temp, content, mode === undefined ? {} : { mode });
      staged.push([temp, target]);
    }
  } catch (error) {
    await Promise.all(staged.map(([temp]) => fs.rm(temp, { force: true })));
    throw error;
  }
  for (const [temp, target] of staged) await fs.rename(temp, target);
}
