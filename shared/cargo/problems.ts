import { UserError } from '../errors';

/**
 * A Cargo.toml discovery could not use: one that cannot be read or parsed, or a root Cargo refuses
 * to resolve (a members entry matching nothing, a missing path dependency, an inherited version the
 * root lacks, ...). Discovery goes on without it; the task decides after selection whether the run
 * needs it (see selectComponents).
 */
export interface ManifestProblem {
  /** The Cargo.toml at fault (absolute), and the line when known. */
  file: string;
  line?: number;
  message: string;
  /** Cargo.toml files of the roots Cargo refuses because of it (`cargo metadata` fails there), sorted. */
  roots: string[];
  /** Names of the packages left out because of it, where they could be read, sorted. */
  packages: string[];
  /** Manifest paths of discovered components that reach it through path dependencies, sorted. */
  neededBy: string[];
}

/** The problems of one discovery, one per file, line and message (one broken file can refuse many roots). */
export class ProblemList {
  private readonly byKey = new Map<string, ManifestProblem>();

  /** The problem a UserError naming a file stands for; anything else is not a manifest problem and is rethrown. */
  private of(error: unknown): ManifestProblem {
    if (!(error instanceof UserError) || !error.where) throw error;
    const { file, line } = error.where;
    const key = `${file}\n${line}\n${error.message}`;
    let problem = this.byKey.get(key);
    if (!problem) this.byKey.set(key, (problem = { file, line, message: error.message, roots: [], packages: [], neededBy: [] }));
    return problem;
  }

  /** Cargo refuses the root `rootFile` because of `error`, leaving out `packages`. */
  refuse(error: unknown, rootFile: string, packages: string[]): void {
    const problem = this.of(error);
    add(problem.roots, [rootFile]);
    add(problem.packages, packages);
  }

  /** The component at `manifestPath` reaches `error` through its path dependencies. */
  need(error: unknown, manifestPath: string): void {
    add(this.of(error).neededBy, [manifestPath]);
  }

  /** Sorted by file, then line. */
  list(): ManifestProblem[] {
    return [...this.byKey.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0)));
  }
}

function add(list: string[], values: string[]): void {
  for (const value of values) if (!list.includes(value)) list.push(value);
  list.sort();
}

/** The problem as the error a run fails with. */
export function problemError(problem: ManifestProblem, why?: string): UserError {
  return new UserError(why ? `${problem.message} The run needs it: ${why}.` : problem.message, { file: problem.file, line: problem.line });
}

/** A Cargo.toml a run went on without, as results and summaries report it. */
export interface SkippedManifest {
  /** Relative to componentsPath, with '/' separators. */
  file: string;
  line?: number;
  message: string;
  /** The packages left out because of it (those whose name could be read). */
  packages: string[];
}

/** `names` for a message: the first `max`, then how many more. */
export function nameList(names: string[], max = 10): string {
  return names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');
}
