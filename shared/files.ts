import { copyFileSync, promises as fs, linkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
 * Replaces every file or none. Each new content goes to a temporary file beside its target (keeping the
 * target's mode); only when all are written are they renamed over the targets (rename is atomic on one
 * filesystem). Until every rename has succeeded each replaced file is kept as a hard link (a copy where the
 * filesystem has none), so when a later rename fails the files replaced before it are put back and files
 * that did not exist are removed: the targets end as they were. Synchronous on purpose: an environment
 * update may replace thousands of small files, where each awaited fs.promises call costs far more than
 * the write itself.
 */
export function writeAllOrNothing(files: Map<string, string>): void {
  const staged: Array<{ temp: string; target: string; backup?: string }> = [];
  const discard = (entries: typeof staged) => {
    for (const { temp, backup } of entries) {
      rmSync(temp, { force: true });
      if (backup) rmSync(backup, { force: true });
    }
  };
  try {
    for (const [target, content] of files) {
      const base = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${staged.length}`);
      const stat = statSync(target, { throwIfNoEntry: false });
      const entry: (typeof staged)[number] = { temp: `${base}.tmp`, target };
      staged.push(entry);
      writeFileSync(entry.temp, content, stat ? { mode: stat.mode } : {});
      if (stat?.isFile()) entry.backup = keep(target, `${base}.bak`);
    }
  } catch (error) {
    discard(staged);
    throw error;
  }
  let done = 0;
  try {
    for (; done < staged.length; done++) renameSync(staged[done].temp, staged[done].target);
  } catch (error) {
    const lost: string[] = [];
    for (const { target, backup } of staged.slice(0, done)) {
      try {
        if (backup) renameSync(backup, target);
        else rmSync(target, { force: true });
      } catch {
        lost.push(backup ? `${target} (its earlier content is in ${backup})` : target);
      }
    }
    discard(staged.slice(done));
    const undone = lost.length ? `could not put back ${lost.join(', ')}` : `the ${done} file(s) replaced before it are as they were`;
    throw new Error(`Replacing ${staged[done].target} failed (${(error as Error).message}); ${undone}.`, { cause: error });
  }
  for (const { backup } of staged) if (backup) rmSync(backup, { force: true });
}

/** `file` kept at `backup`: a hard link, or a copy where the filesystem has no hard links. */
function keep(file: string, backup: string): string {
  try {
    linkSync(file, backup);
  } catch {
    copyFileSync(file, backup);
  }
  return backup;
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
