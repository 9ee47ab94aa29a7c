import * as path from 'node:path';
import { UserError } from '../errors';
import { expandMember, GlobSyntaxError } from './glob';
import { lineOf, readManifest, type Manifest } from './manifest';
import { isWithin, type SourceTree } from './tree';

/**
 * Cargo's workspace rules over the manifests found under one searched root:
 * - the root of a package is its own `[workspace]`, else the manifest named by `package.workspace`,
 *   else the nearest ancestor `[workspace]` that does not exclude it (Cargo's `find_root`);
 * - a root's members are its `members` (globs) minus `exclude` (path prefixes; a member listed by
 *   an explicit path wins over an exclude), the root package itself, and the path dependencies of
 *   members, transitively, that lie inside the root directory (or point back at it), unless excluded;
 * - every member must have that root as its own root, and names are unique within a workspace.
 * Manifests outside the searched root are not read.
 */

export interface Workspace {
  root: Manifest;
  /** Member manifests with a [package], sorted by file. */
  members: Manifest[];
}

export interface ResolvedDependency {
  name: string;
  table: string;
  /** Absolute directory. */
  dir: string;
}

function unreachable(): never {
  throw new Error('unreachable: the manifest was loaded');
}

export type Warn = (message: string, where: { file: string; line?: number }) => void;

export class CargoModel {
  private readonly loaded = new Map<string, Manifest | UserError | undefined>();
  private readonly roots = new Map<string, string | undefined>();
  private readonly resolved = new Map<string, ResolvedDependency[]>();

  constructor(
    readonly tree: SourceTree,
    private readonly warn: Warn,
  ) {}

  /**
   * The Cargo.toml `file` under the searched root, read and parsed once (also in folders the walk left
   * out); undefined when there is none. One that cannot be read or parsed throws its UserError, the
   * same object each time, so every root that needs it fails with it.
   */
  manifest(file: string): Manifest | undefined {
    if (!this.loaded.has(file)) {
      let entry: Manifest | UserError | undefined;
      if (path.basename(file) === 'Cargo.toml' && this.tree.hasManifest(path.dirname(file))) {
        try {
          entry = readManifest(file);
        } catch (error) {
          if (!(error instanceof UserError)) throw error;
          entry = error;
        }
      }
      this.loaded.set(file, entry);
    }
    const entry = this.loaded.get(file);
    if (entry instanceof UserError) throw entry;
    return entry;
  }

  /** Path of a file relative to the searched root, for messages. */
  display(file: string): string {
    return path.relative(this.tree.root, file).split(path.sep).join('/') || '.';
  }

  /** Whether `root`'s `exclude` keeps `file` out, unless a `members` entry names it by path. */
  isExcluded(root: Manifest, file: string): boolean {
    const ws = root.workspace;
    if (!ws) return false;
    const under = (entry: string) => isWithin(file, path.resolve(root.dir, entry));
    return ws.exclude.some(under) && !(ws.members ?? []).some(under);
  }

  /**
   * Cargo's `find_root`: the Cargo.toml of the workspace root `file` belongs to, or undefined. An
   * ancestor Cargo.toml that cannot be parsed throws, as Cargo fails there too.
   */
  findRoot(file: string): string | undefined {
    if (this.roots.has(file)) return this.roots.get(file);
    const own = this.manifest(file);
    let found: string | undefined;
    if (own?.workspace) found = file;
    else if (own?.package?.workspacePointer) found = own.package.workspacePointer;
    else {
      for (let dir = path.dirname(path.dirname(file)); isWithin(dir, this.tree.root); dir = path.dirname(dir)) {
        const ancestor = this.manifest(path.join(dir, 'Cargo.toml'));
        if (ancestor?.workspace && !this.isExcluded(ancestor, file)) found = ancestor.file;
        else if (ancestor?.package?.workspacePointer) found = ancestor.package.workspacePointer;
        if (found || dir === this.tree.root) break;
      }
    }
    this.roots.set(file, found);
    return found;
  }

  /** The root manifest that `manifest` inherits `workspace = true` keys from; a UserError when there is none. */
  inheritanceRoot(manifest: Manifest, what: string, line: () => number | undefined): Manifest {
    const rootFile = this.findRoot(manifest.file);
    const root = rootFile ? this.manifest(rootFile) : undefined;
    if (!root?.workspace) {
      const reason = rootFile
        ? `its workspace root ${this.display(rootFile)} is not a readable [workspace] manifest under the searched folder`
        : 'no [workspace] root contains it under the searched folder';
      throw new UserError(`${what} is inherited with \`workspace = true\`, but ${reason}: set componentsPath to the workspace root, or write the value in this Cargo.toml.`, {
        file: manifest.file,
        line: line(),
      });
    }
    return root;
  }

  /** The direct path dependencies of a package, `workspace = true` ones resolved through its workspace root. */
  pathDependencies(manifest: Manifest): ResolvedDependency[] {
    const cached = this.resolved.get(manifest.file);
    if (cached) return cached;
    const found: ResolvedDependency[] = [];
    for (const dep of manifest.package?.dependencies ?? []) {
      if (dep.dir) {
        found.push({ name: dep.name, table: dep.table, dir: dep.dir });
        continue;
      }
      const line = () => lineOf(manifest.text, dep.table, dep.name);
      const root = this.inheritanceRoot(manifest, `Dependency '${dep.name}' in [${dep.table}]`, line);
      const deps = root.workspace!.dependencies;
      if (!deps.has(dep.name)) {
        throw new UserError(
          `Dependency '${dep.name}' in [${dep.table}] is inherited with \`workspace = true\`, but ${this.display(root.file)} has no '${dep.name}' in [workspace.dependencies]: add it there.`,
          { file: manifest.file, line: line() },
        );
      }
      const dir = deps.get(dep.name);
      if (dir) found.push({ name: dep.name, table: dep.table, dir });
    }
    this.resolved.set(manifest.file, found);
    return found;
  }

  /** The manifest of a path dependency; undefined when it lies outside the searched root, a UserError when it has none or a broken one. */
  dependencyManifest(from: Manifest, dep: ResolvedDependency): Manifest | undefined {
    if (!isWithin(dep.dir, this.tree.root)) return undefined;
    const found = this.manifest(path.join(dep.dir, 'Cargo.toml'));
    if (found) return found;
    throw new UserError(`Path dependency '${dep.name}' in [${dep.table}] points at ${this.display(dep.dir)}, which has no Cargo.toml: fix its path.`, {
      file: from.file,
      line: lineOf(from.text, dep.table, dep.name),
    });
  }

  /** Cargo's members of the workspace rooted at `root` (which must have a [workspace]), validated. */
  workspace(root: Manifest): Workspace {
    const ws = root.workspace!;
    const membersLine = lineOf(root.text, 'workspace', 'members');
    const members = new Map<string, Manifest>();
    const add = (file: string, isPathDep: boolean, missing: () => never): void => {
      if (members.has(file)) return;
      if (isPathDep && !isWithin(path.dirname(file), root.dir) && this.findRoot(file) !== root.file) return;
      if (this.isExcluded(root, file)) return;
      const manifest = this.manifest(file);
      if (!manifest) missing();
      members.set(file, manifest);
      if (!manifest.package) return;
      for (const dep of this.pathDependencies(manifest)) {
        const target = this.dependencyManifest(manifest, dep);
        if (target) add(target.file, true, unreachable);
      }
    };
    for (const pattern of ws.members ?? []) {
      let dirs: string[];
      try {
        dirs = expandMember(pattern, root.dir, this.tree);
      } catch (error) {
        if (error instanceof GlobSyntaxError) throw new UserError(`workspace.members has an invalid glob ${error.message}.`, { file: root.file, line: membersLine });
        throw error;
      }
      if (!dirs.length) {
        throw new UserError(`workspace.members entry '${pattern}' matches no directory (Cargo refuses this workspace): remove the entry or add the crates it should match.`, {
          file: root.file,
          line: membersLine,
        });
      }
      for (const dir of dirs) {
        if (!isWithin(dir, this.tree.root)) {
          this.warn(`workspace.members entry '${pattern}' names ${dir}, outside the searched folder ${this.tree.root}: it is not discovered; set componentsPath to a folder containing it.`, {
            file: root.file,
            line: membersLine,
          });
          continue;
        }
        add(path.join(dir, 'Cargo.toml'), false, () => {
          throw new UserError(
            `workspace member ${this.display(dir)}${pattern !== this.display(dir) ? ` (from members entry '${pattern}')` : ''} has no Cargo.toml (Cargo refuses this workspace): add the crate, narrow the members glob, or list the folder in workspace.exclude.`,
            { file: root.file, line: membersLine },
          );
        });
      }
    }
    add(root.file, false, unreachable);

    const packages: Manifest[] = [];
    const names = new Map<string, Manifest>();
    for (const member of [...members.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
      const actual = this.findRoot(member.file);
      if (member !== root && actual !== root.file) {
        throw new UserError(
          `${this.display(member.file)} is a member of this workspace (by members or a path dependency) but its own workspace root is ${actual ? this.display(actual) : 'missing'}; Cargo refuses this: add it to workspace.exclude, or remove its own [workspace] / package.workspace.`,
          { file: root.file, line: membersLine },
        );
      }
      if (!member.package) continue;
      const twin = names.get(member.package.name);
      if (twin) {
        throw new UserError(
          `Two packages named '${member.package.name}' in the workspace ${this.display(root.file)}: ${this.display(twin.file)} and ${this.display(member.file)}. Cargo refuses this: rename one.`,
          { file: member.file, line: lineOf(member.text, 'package', 'name') },
        );
      }
      names.set(member.package.name, member);
      packages.push(member);
    }
    return { root, members: packages };
  }
}
