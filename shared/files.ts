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

/**
 * The text of a file that must be UTF-8: any other bytes are a UserError naming the file and the line
 * of the first bad byte (read as UTF-8 anyway, they would come back as U+FFFD in a rewritten file).
 * A leading byte order mark is dropped, unless `keepBom` (a file rewritten byte for byte keeps it).
 */
export function decodeUtf8(bytes: Uint8Array, file: string, options: { message?: string; keepBom?: boolean } = {}): string {
  const message = options.message ?? `${file} is not valid UTF-8: save it as UTF-8 and run again.`;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: options.keepBom ?? false }).decode(bytes);
  } catch {
    let low = 0;
    let high = bytes.length;
    // The longest valid prefix, by bisection (streaming, a prefix cut inside a character is not an error).
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        low = mid;
      } catch {
        high = mid - 1;
      }
    }
    let line = 1;
    for (let i = 0; i < low; i++) if (bytes[i] === 0x0a) line++;
    throw new UserError(message, { file, line });
  }
}
