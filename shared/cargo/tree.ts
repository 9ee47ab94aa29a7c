import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Directory names discovery never enters: build output, git metadata, JavaScript dependencies. */
export const SKIPPED_DIRECTORIES = new Set(['target', '.git', 'node_modules']);

/** The directories under a root (minus skipped ones) and the Cargo.toml files among them. */
export interface SourceTree {
  root: string;
  /** Absolute directory to the names of its subdirectories, sorted. */
  children: Map<string, string[]>;
  /** Absolute paths of every Cargo.toml found, sorted. */
  manifests: string[];
}

/**
 * Walks `root` reading directories concurrently. Symbolic links are not followed (a linked
 * directory would let the walk loop or leave the root); `target/`, `.git/` and `node_modules/`
 * are never entered, at any depth.
 */
export async function walkTree(root: string): Promise<SourceTree> {
  const children = new Map<string, string[]>();
  const manifests: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) subdirs.push(entry.name);
      } else if (entry.name === 'Cargo.toml' && entry.isFile()) {
        manifests.push(path.join(dir, entry.name));
      }
    }
    subdirs.sort();
    children.set(dir, subdirs);
    await Promise.all(subdirs.map((name) => visit(path.join(dir, name))));
  };
  await visit(root);
  manifests.sort();
  return { root, children, manifests };
}

/** True when `child` is `parent` or lies below it, comparing whole path components. */
export function isWithin(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}
