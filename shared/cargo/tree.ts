import { readdirSync } from 'node:fs';
import * as path from 'node:path';

/** Directory names discovery never enters: build output, git metadata, JavaScript dependencies. */
export const SKIPPED_DIRECTORIES = new Set(['target', '.git', 'node_modules']);

interface Folder {
  /** Names of its subdirectories (minus skipped ones), sorted. */
  subdirs: string[];
  hasManifest: boolean;
}

/**
 * The folders under a searched root and the Cargo.toml files among them.
 * Symbolic links are not followed (a linked directory would let the walk loop or leave the root);
 * `target/`, `.git/` and `node_modules/` are never entered, at any depth. Folders `leaveOut` names
 * (relative, '/'-separated) are not walked: no Cargo.toml there is in `manifests`. They are still
 * listed among their parent's subdirectories and read on demand, for a `workspace.members` glob or a
 * path dependency that reaches into them (Cargo reads those wherever they are).
 * Synchronous on purpose: on a checked-out tree (in the page cache) one readdir system call per folder
 * is 3 to 5 times faster than the same calls through the thread pool (see bench/scenarios/discovery.ts).
 */
export class SourceTree {
  /** Absolute paths of the Cargo.toml files of walked folders, sorted: where roots are looked for. */
  readonly manifests: string[] = [];
  private readonly folders = new Map<string, Folder>();

  constructor(
    readonly root: string,
    leaveOut: (relative: string) => boolean = () => false,
  ) {
    const walk = (dir: string, relative: string): void => {
      const folder = this.read(dir);
      if (folder.hasManifest) this.manifests.push(path.join(dir, 'Cargo.toml'));
      for (const name of folder.subdirs) {
        const child = relative ? `${relative}/${name}` : name;
        if (!leaveOut(child)) walk(path.join(dir, name), child);
      }
    };
    walk(root, '');
    this.manifests.sort();
  }

  private read(dir: string): Folder {
    const subdirs: string[] = [];
    let hasManifest = false;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) subdirs.push(entry.name);
      } else if (entry.name === 'Cargo.toml' && entry.isFile()) hasManifest = true;
    }
    const folder = { subdirs: subdirs.sort(), hasManifest };
    this.folders.set(dir, folder);
    return folder;
  }

  /** The folder under the root (read now if the walk left it out), or undefined when there is none. */
  private folder(dir: string): Folder | undefined {
    const known = this.folders.get(dir);
    if (known || dir === this.root || !isWithin(dir, this.root)) return known;
    return this.folder(path.dirname(dir))?.subdirs.includes(path.basename(dir)) ? this.read(dir) : undefined;
  }

  /** Names of the subdirectories of `dir`, sorted; undefined when `dir` is not a folder under the root. */
  subdirs(dir: string): string[] | undefined {
    return this.folder(dir)?.subdirs;
  }

  /** Whether `dir` is a folder under the root with a Cargo.toml. */
  hasManifest(dir: string): boolean {
    return this.folder(dir)?.hasManifest ?? false;
  }
}

/** True when `child` is `parent` or lies below it, comparing whole path components. */
export function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}
