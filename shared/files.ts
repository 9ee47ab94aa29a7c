import { promises as fs, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
 * Replaces every file or none: each new content goes to a temporary file beside its target (keeping the
 * target's mode), and only when all are written are they renamed over the targets (rename is atomic on
 * one filesystem). Synchronous on purpose: an environment update may replace thousands of small files,
 * where each awaited fs.promises call costs far more than the write itself.
 */
export function writeAllOrNothing(files: Map<string, string>): void {
  const staged: Array<[string, string]> = [];
  try {
    for (const [target, content] of files) {
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${staged.length}.tmp`);
      const mode = statSync(target, { throwIfNoEntry: false })?.mode;
      writeFileSync(temp, content, mode === undefined ? {} : { mode });
      staged.push([temp, target]);
    }
  } catch (error) {
    for (const [temp] of staged) rmSync(temp, { force: true });
    throw error;
  }
  for (const [temp, target] of staged) renameSync(temp, target);
}
