import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../../shared/process';

/** test/fixtures/cargo in the source tree (fixtures are not compiled into build/). */
export const FIXTURES = path.resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'cargo');

/** Fixture folders that are valid Cargo layouts, one shape each. */
export async function fixtureShapes(): Promise<string[]> {
  const entries = await fs.readdir(FIXTURES, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

export interface CargoPackage {
  name: string;
  version: string;
  manifest_path: string;
}

/** `cargo metadata --no-deps` for one root manifest; build output goes to a temp dir, never the fixture. */
export async function cargoMetadata(manifest: string, targetDir: string): Promise<{ code: number; packages: CargoPackage[]; stderr: string }> {
  const result = await run('cargo', ['metadata', '--no-deps', '--format-version', '1', '--offline', '--manifest-path', manifest], {
    allowFailure: true,
    env: { CARGO_TARGET_DIR: targetDir, CARGO_TERM_COLOR: 'never' },
  });
  const packages = result.code === 0 ? (JSON.parse(result.stdout) as { packages: CargoPackage[] }).packages : [];
  return { code: result.code, packages, stderr: result.stderr };
}

/** Writes `files` (relative path to content) under a new temp dir and returns it. */
export async function writeTree(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cargo-discovery-'));
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), content);
  }
  return dir;
}

/** `writeTree` inside a describe block: every tree written is removed after the block. */
export function tempTrees(): (files: Record<string, string>) => Promise<string> {
  const made: string[] = [];
  after(async () => Promise.all(made.map((dir) => fs.rm(dir, { recursive: true, force: true }))));
  return async (files) => {
    const dir = await writeTree(files);
    made.push(dir);
    return dir;
  };
}

/** A package manifest plus its src/lib.rs, so that cargo accepts it. */
export function crate(dir: string, name: string, body = 'version = "0.1.0"\n', extra = ''): Record<string, string> {
  const prefix = dir ? `${dir}/` : '';
  return { [`${prefix}Cargo.toml`]: `[package]\nname = "${name}"\n${body}edition = "2021"\n${extra}`, [`${prefix}src/lib.rs`]: '' };
}

/** Every file under `dir` with a hash of its content: to show a run changed nothing. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (current: string): Promise<void> => {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else files.set(path.relative(dir, full), createHash('sha256').update(await fs.readFile(full)).digest('hex'));
    }
  };
  await walk(dir);
  return files;
}

export function rel(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/') || '.';
}
