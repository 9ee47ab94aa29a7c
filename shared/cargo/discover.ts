import * as path from 'node:path';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { UserError } from '../errors';
import type { Log } from '../agent';
import type { Component } from './component';
import { leftOutFolders } from './left-out';
import { lineOf, readableName, readManifest, type Manifest } from './manifest';
import { problemError, ProblemList, type ManifestProblem } from './problems';
import { SourceTree, isWithin } from './tree';
import { CargoModel } from './workspace';

export interface DiscoverOptions {
  /** Receives warnings about crates Cargo itself would refuse to build as they stand (and debug lines). */
  log?: Pick<Log, 'warn'> & Partial<Pick<Log, 'debug'>>;
  /** Folders not searched for Cargo.toml files: globs relative to the searched folder (`**` any depth). */
  excludePaths?: string[];
}

export interface Discovery {
  /** The searched folder, absolute. */
  root: string;
  /** Sorted by name, then manifest path. */
  components: Component[];
  /** The Cargo.toml files discovery could not use and what they leave out, sorted by file and line. */
  problems: ManifestProblem[];
}

/**
 * Every Cargo package under `root`, as `cargo metadata --no-deps` reports them for each workspace
 * root found there, without needing cargo:
 * - each `[workspace]` manifest is a root; its members follow Cargo's rules (see workspace.ts);
 * - a package no workspace claims is its own root (standalone). When Cargo would refuse it as it
 *   stands (an enclosing workspace that neither lists nor excludes it, or a `package.workspace` that
 *   names no workspace), it is still reported, with a warning naming its Cargo.toml;
 * - a root Cargo refuses (a Cargo.toml that cannot be parsed, or a workspace that cannot be resolved)
 *   is left out, with its packages, and returned as a problem; so is a path dependency a component
 *   cannot reach (its root is fine for Cargo, but it would not build);
 * - `target/`, `.git/` and `node_modules/` are never entered; folders git ignores and folders matching
 *   `excludePaths` are not searched for roots (see SourceTree); above `root`, only the Cargo.toml files of
 *   its ancestors are read, to warn when `root` lies inside a workspace whose root it cannot see.
 */
export async function discoverCargo(root: string, options: DiscoverOptions = {}): Promise<Discovery> {
  const searched = path.resolve(root);
  const stat = await fs.stat(searched).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UserError(`componentsPath '${root}' is not a folder: point it at the repository (or workspace) holding the Cargo.toml files.`);
  const leaveOut = await leftOutFolders(searched, options.excludePaths ?? [], options.log);
  const tree = new SourceTree(searched, leaveOut);
  const model = new CargoModel(tree, (message, where) => options.log?.warn(message, where));
  const problems = new ProblemList();

  // The root each Cargo.toml found belongs to (Cargo's find_root); where that fails, Cargo refuses it.
  const rootOf = new Map<string, string>();
  /** Workspace root to the Cargo.toml files found whose root lookup lands there. */
  const claims = new Map<string, string[]>();
  for (const file of tree.manifests) {
    try {
      const rootFile = model.findRoot(file) ?? file;
      if (model.manifest(rootFile)?.workspace) claims.set(rootFile, [...(claims.get(rootFile) ?? []), file]);
      rootOf.set(file, rootFile);
    } catch (error) {
      problems.refuse(error, file, packageNames(model, file));
    }
  }
  // A package that is no root's and not a root itself: Cargo looks above the searched folder for its workspace.
  const looksAbove = [...rootOf].filter(([file, rootFile]) => rootFile === file && !model.manifest(file)?.workspace).map(([file]) => file);
  if (options.log && looksAbove.length) warnIfInsideWorkspace(searched, looksAbove, options.log);

  const components: Component[] = [];
  const component = (manifest: Manifest, root: Manifest): Component => {
    const { version, versionSource } = resolveVersion(model, manifest);
    model.pathDependencies(manifest); // Cargo refuses a `workspace = true` dependency the root does not define
    return {
      name: manifest.package!.name,
      version,
      versionSource,
      path: path.relative(searched, manifest.dir).split(path.sep).join('/') || '.',
      manifestPath: manifest.file,
      workspaceRoot: root.dir,
      pathDependencies: [],
    };
  };
  // A workspace is all or nothing: Cargo refuses it when one member cannot be resolved.
  const done = new Set<string>();
  for (const [rootFile, would] of [...claims].sort(([a], [b]) => compare(a, b))) {
    try {
      const root = model.manifest(rootFile)!;
      const { members } = model.workspace(root);
      components.push(...members.map((member) => component(member, root)));
      for (const member of members) done.add(member.file);
    } catch (error) {
      problems.refuse(error, rootFile, would.flatMap((file) => packageNames(model, file)));
      for (const file of would) done.add(file);
    }
  }
  for (const [file, rootFile] of rootOf) {
    const manifest = model.manifest(file)!;
    if (done.has(file) || !manifest.package) continue;
    try {
      components.push(component(manifest, manifest));
    } catch (error) {
      problems.refuse(error, file, [manifest.package.name]);
      continue;
    }
    if (rootFile !== file) warnRefused(model, manifest, rootFile, options.log);
  }
  for (const c of components) {
    c.pathDependencies = transitivePathDependencies(model, model.manifest(c.manifestPath)!, (error) => problems.need(error, c.manifestPath));
  }
  components.sort((a, b) => compare(a.name, b.name) || compare(a.manifestPath, b.manifestPath));
  return { root: searched, components, problems: problems.list() };
}

/**
 * Every Cargo package under `root` (see discoverCargo), or the first Cargo.toml problem as a UserError
 * naming its file and line: for callers that need every manifest to be usable.
 */
export async function discoverComponents(root: string, options: DiscoverOptions = {}): Promise<Component[]> {
  const { components, problems } = await discoverCargo(root, options);
  if (problems.length) throw problemError(problems[0]);
  return components;
}

/** The package name of a Cargo.toml, also of one that does not parse when its name line is readable. */
function packageNames(model: CargoModel, file: string): string[] {
  let name: string | undefined;
  try {
    name = model.manifest(file)?.package?.name;
  } catch {
    name = readableName(readFileSync(file, 'utf8'));
  }
  return name ? [name] : [];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function resolveVersion(model: CargoModel, manifest: Manifest): Pick<Component, 'version' | 'versionSource'> {
  const spec = manifest.package!.version;
  if (spec.kind === 'explicit') return { version: spec.value, versionSource: 'explicit' };
  if (spec.kind === 'default') return { version: '0.0.0', versionSource: 'default' };
  const line = () => lineOf(manifest.text, 'package', 'version');
  const root = model.inheritanceRoot(manifest, 'package.version', line);
  const version = root.workspace!.packageVersion;
  if (version === undefined) {
    throw new UserError(
      `package.version is inherited with \`version.workspace = true\`, but the workspace root ${root.file} has no \`version\` in [workspace.package]: add it there, or write the version in ${manifest.file}.`,
      { file: manifest.file, line: line() },
    );
  }
  return { version, versionSource: 'workspace' };
}

/**
 * The directories of every package this one reaches through path dependencies under the searched root.
 * A dependency that cannot be read is left out and handed to `problem`.
 */
function transitivePathDependencies(model: CargoModel, start: Manifest, problem: (error: unknown) => void): string[] {
  const seen = new Set<string>([start.dir]);
  const stack = [start];
  while (stack.length) {
    const manifest = stack.pop()!;
    try {
      for (const dep of model.pathDependencies(manifest)) {
        if (seen.has(dep.dir)) continue;
        try {
          const target = model.dependencyManifest(manifest, dep);
          if (!target) continue;
          seen.add(dep.dir);
          stack.push(target);
        } catch (error) {
          problem(error);
        }
      }
    } catch (error) {
      problem(error);
    }
  }
  seen.delete(start.dir);
  return [...seen].sort();
}

/** Cargo refuses a package whose own root lookup lands on `rootFile`, a workspace that does not list it. */
function warnRefused(model: CargoModel, manifest: Manifest, rootFile: string, log: Pick<Log, 'warn'> | undefined): void {
  if (!log) return;
  const where = { file: manifest.file, line: lineOf(manifest.text, 'package') };
  if (manifest.package?.workspacePointer && !model.manifest(rootFile)?.workspace) {
    const reason = isWithin(rootFile, model.tree.root) ? 'which has no [workspace]' : 'outside the searched folder';
    log.warn(`package.workspace names ${rootFile}, ${reason}; Cargo refuses to build this package until it names a workspace root that lists it. Discovered as a standalone crate.`, where);
    return;
  }
  log.warn(
    `${model.display(manifest.file)} lies inside the workspace defined by ${model.display(rootFile)} but is not one of its members, so Cargo refuses it as it stands ("believes it's in a workspace when it's not"): add it to workspace.members or workspace.exclude there, give it an empty [workspace] table, or leave its folder out with excludePaths. Discovered as a standalone crate.`,
    where,
  );
}

/**
 * Discovery reads nothing above the searched folder; when a package there that is no workspace's (`looksAbove`:
 * neither claimed by a workspace under the folder nor a root itself, with a `[workspace]` table of its own) lies
 * inside a Cargo workspace above it that does not exclude it, Cargo would take that workspace as its root, so say so.
 */
function warnIfInsideWorkspace(searched: string, looksAbove: string[], log: Pick<Log, 'warn'>): void {
  for (let dir = path.dirname(searched); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'Cargo.toml');
    if (existsSync(file)) {
      let manifest: Manifest | undefined;
      try {
        manifest = readManifest(file);
      } catch {
        manifest = undefined; // not ours to judge: it is outside the searched folder
      }
      const excluded = (file: string) => manifest!.workspace!.exclude.some((entry) => isWithin(path.dirname(file), path.resolve(dir, entry)));
      if (manifest?.workspace && !looksAbove.every(excluded)) {
        log.warn(
          `componentsPath ${searched} lies inside the Cargo workspace ${file}, and discovery reads nothing above componentsPath: packages of that workspace are reported as standalone crates and inherited versions cannot be resolved. Set componentsPath to ${dir}.`,
          { file },
        );
        return;
      }
    }
    if (path.dirname(dir) === dir) return;
  }
}
