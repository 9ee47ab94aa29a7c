import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Replaces every file or none, like files.ts `writeAllOrNothing`, with synchronous calls: an
 * environment update may replace thousands of small files, where each awaited fs.promises call costs
 * far more than the write itself. Each content goes to a temporary file beside its target (keeping the
 * target's mode); only when all are written are they renamed over the targets.
 */
export function writeFilesAtomically(files: Map<string, string>): void {
  const staged: Array<[string, string]> = [];
  try {
    for (const [target, content] of files) {
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${staged.length}.tmp`);
      let mode: number | undefined;
      try {
        mode = statSync(target).mode;
      } catch {
        mode = undefined;
      }
      writeFileSync(temp, content, mode === undefined ? {} : { mode });
      staged.push([temp, target]);
    }
  } catch (error) {
    for (const [temp] of staged) rmSync(temp, { force: true });
    throw error;
  }
  for (const [temp, target] of staged) renameSync(temp, target);
}
