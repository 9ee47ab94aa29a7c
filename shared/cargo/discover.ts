// PROVISIONAL: a minimal walk that finds packages and resolves workspace-inherited versions.
// Being replaced by the full Cargo-rules discovery (members globs, exclude, path deps, nested roots).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'smol-toml';
import type { Component } from './component';

type Toml = Record<string, unknown>;

export async function discoverComponents(root: string): Promise<Component[]> {
  const found: Component[] = [];
  const walk = async (dir: string, workspace?: { dir: string; toml: Toml }) => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    let here = workspace;
    if (entries.some((e) => e.isFile() && e.name === 'Cargo.toml')) {
      const manifestPath = path.join(dir, 'Cargo.toml');
      const toml = parse(await fs.readFile(manifestPath, 'utf8')) as Toml;
      if (toml.workspace) here = { dir, toml };
      const pkg = toml.package as Toml | undefined;
      if (pkg) {
        const inherited = (pkg.version as Toml | undefined)?.workspace === true;
        const wsVersion = ((here?.toml.workspace as Toml | undefined)?.package as Toml | undefined)?.version;
        const version = inherited ? String(wsVersion) : typeof pkg.version === 'string' ? pkg.version : '0.0.0';
        found.push({
          name: String(pkg.name),
          version,
          versionSource: inherited ? 'workspace' : typeof pkg.version === 'string' ? 'explicit' : 'default',
          path: path.relative(root, dir).split(path.sep).join('/') || '.',
          manifestPath,
          workspaceRoot: here?.dir ?? dir,
          pathDependencies: [],
        });
      }
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !['target', '.git', 'node_modules'].includes(entry.name)) await walk(path.join(dir, entry.name), here);
    }
  };
  await walk(path.resolve(root));
  return found.sort((a, b) => a.name.localeCompare(b.name));
}
