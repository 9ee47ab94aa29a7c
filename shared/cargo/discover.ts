import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import { UserError } from '../errors';
import type { Log } from '../agent';
import type { Component } from './component';
import { lineOf, readManifest, type Manifest } from './manifest';
import { walkTree, isWithin } from './tree';
import { CargoModel } from './workspace';

export interface DiscoverOptions {
  /** Receives warnings about crates Cargo itself would refuse to build as they stand. */
  log?: Pick<Log, 'warn'>;
}

/**
 * Every Cargo package under `root`, as `cargo metadata --no-deps` reports them for each workspace
 * root found there, without needing cargo:
 * - each `[workspace]` manifest is a root; its members follow Cargo's rules (see workspace.ts);
 * - a package no workspace claims is its own root (standalone). When Cargo would refuse it as it
 *   stands (an enclosing workspace that neither lists nor excludes it, or a `package.workspace` that
 *   names no workspace), it is still reported, with a warning naming its Cargo.toml;
 * - `target/`, `.git/` and `node_modules/` are never entered; above `root`, only the Cargo.toml files of
 *   its ancestors are read, to warn when `root` lies inside a workspace whose root it cannot see.
 * Sorted by name, then manifest path.
 */
export async function discoverComponents(root: string, options: DiscoverOptions = {}): Promise<Component[]> {
  const searched = path.resolve(root);
  const stat = await fs.stat(searched).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UserError(`componentsPath '${root}' is not a folder: point it at the repository (or workspace) holding the Cargo.toml files.`);
  if (options.log) warnIfInsideWorkspace(searched, options.log);
  const tree = walkTree(searched);
  const parsed = tree.manifests.map((file) => readManifest(file));
  const manifests = new Map(parsed.map((m) => [m.file, m]));
  const model = new CargoModel(tree, manifests, (message, where) => options.log?.warn(message, where));

  const claimedBy = new Map<string, Manifest>();
  for (const manifest of parsed) {
    if (!manifest.workspace) continue;
    for (const member of model.workspace(manifest).members) claimedBy.set(member.file, manifest);
  }

  const components: Component[] = [];
  for (const manifest of parsed) {
    const pkg = manifest.package;
    if (!pkg) continue;
    let workspaceRoot = claimedBy.get(manifest.file);
    if (!workspaceRoot) {
      warnIfRefused(model, manifest, options.log);
      workspaceRoot = manifest;
    }
    const { version, versionSource } = resolveVersion(model, manifest);
    components.push({
      name: pkg.name,
      version,
      versionSource,
      path: path.relative(searched, manifest.dir).split(path.sep).join('/') || '.',
      manifestPath: manifest.file,
      workspaceRoot: workspaceRoot.dir,
      pathDependencies: transitivePathDependencies(model, manifest),
    });
  }
  return components.sort((a, b) => compare(a.name, b.name) || compare(a.manifestPath, b.manifestPath));
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

/** The directories of every package this one reaches through path dependencies under the searched root. */
function transitivePathDependencies(model: CargoModel, start: Manifest): string[] {
  const seen = new Set<string>([start.dir]);
  const stack = [start];
  while (stack.length) {
    const manifest = stack.pop()!;
    for (const dep of model.pathDependencies(manifest)) {
      if (seen.has(dep.dir)) continue;
      const target = model.dependencyManifest(manifest, dep);
      if (!target) continue;
      seen.add(dep.dir);
      stack.push(target);
    }
  }
  seen.delete(start.dir);
  return [...seen].sort();
}

/** Cargo refuses a package whose own root lookup lands on a workspace that does not list it. */
function warnIfRefused(model: CargoModel, manifest: Manifest, log: Pick<Log, 'warn'> | undefined): void {
  const rootFile = model.findRoot(manifest.file);
  if (!rootFile || !log) return;
  const where = { file: manifest.file, line: lineOf(manifest.text, 'package') };
  const root = model.manifests.get(rootFile);
  if (manifest.package?.workspacePointer && !root?.workspace) {
    const reason = isWithin(rootFile, model.tree.root) ? 'which has no [workspace]' : 'outside the searched folder';
    log.warn(`package.workspace names ${rootFile}, ${reason}; Cargo refuses to build this package until it names a workspace root that lists it. Discovered as a standalone crate.`, where);
    return;
  }
  log.warn(
    `${model.display(manifest.file)} lies inside the workspace defined by ${model.display(rootFile)} but is not one of its members, so Cargo refuses to build it as it stands: add it to workspace.members or workspace.exclude there, or give it an empty [workspace] table. Discovered as a standalone crate.`,
    where,
  );
}

/**
 * Discovery reads nothing above the searched folder; when that folder lies inside a Cargo workspace,
 * its packages would be reported as standalone crates, so say so.
 */
function warnIfInsideWorkspace(searched: string, log: Pick<Log, 'warn'>): void {
  for (let dir = path.dirname(searched); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'Cargo.toml');
    if (existsSync(file)) {
      let manifest: Manifest | undefined;
      try {
        manifest = readManifest(file);
      } catch {
        manifest = undefined; // not ours to judge: it is outside the searched folder
      }
      if (manifest?.workspace && !manifest.workspace.exclude.some((entry) => isWithin(searched, path.resolve(dir, entry)))) {
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
