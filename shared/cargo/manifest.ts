import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { SourceLocation } from '../agent';
import { UserError } from '../errors';
import { decodeUtf8 } from '../files';
import { validateRepository } from '../images/names';

/**
 * One Cargo.toml, parsed once and reduced to what discovery needs: the package's name, version and
 * workspace pointer, its path dependencies, and the `[workspace]` table when it is a workspace root.
 */

type Table = Record<string, unknown>;

/** `package.version`: a literal, inherited with `version.workspace = true`, or omitted (Cargo: 0.0.0). */
export type VersionSpec = { kind: 'explicit'; value: string } | { kind: 'workspace' } | { kind: 'default' };

/** A dependency that lives on disk: `path = "..."` here, or `dep.workspace = true` (resolved later). */
export interface PathDependency {
  name: string;
  /** The table that declares it, e.g. 'dependencies' or 'target.cfg(unix).dev-dependencies'. */
  table: string;
  /** Absolute directory of its `path`; undefined when inherited with `workspace = true`. */
  dir?: string;
}

export interface PackageSection {
  name: string;
  version: VersionSpec;
  /** Absolute Cargo.toml of the workspace root named by `package.workspace`, when set. */
  workspacePointer?: string;
  dependencies: PathDependency[];
  /** `[package.metadata]` as written (Cargo ignores it; read with imageMetadata). */
  metadata?: unknown;
}

export interface WorkspaceSection {
  /** `workspace.members` as written (globs relative to the root); undefined when absent. */
  members?: string[];
  /** `workspace.exclude` as written (path prefixes relative to the root). */
  exclude: string[];
  /** `[workspace.package].version`, when set. */
  packageVersion?: string;
  /** `[workspace.dependencies]`: name to the absolute directory of its `path`, or undefined when it has none. */
  dependencies: Map<string, string | undefined>;
}

export interface Manifest {
  /** Absolute path of the Cargo.toml. */
  file: string;
  /** Its directory. */
  dir: string;
  text: string;
  package?: PackageSection;
  workspace?: WorkspaceSection;
}

const DEPENDENCY_TABLES = ['dependencies', 'dev-dependencies', 'dev_dependencies', 'build-dependencies', 'build_dependencies'];

/** A strict SemVer 2.0.0 version, as Cargo's `semver` crate accepts it. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function isSemVer(text: string): boolean {
  return SEMVER.test(text);
}

/**
 * Why Cargo refuses `name` as a package name, or undefined when it accepts it: the first character a
 * Unicode XID start character or `_` (not a digit), the rest XID continue characters or `-`. So names
 * never carry spaces, quotes, `$`, `;`, backticks or control characters into tags and image references.
 */
export function packageNameProblem(name: string): string | undefined {
  if (!name) return 'package name cannot be empty';
  const first = [...name][0];
  const show = (c: string) => JSON.stringify(c);
  if (/^\d/u.test(first)) return `the name cannot start with a digit (${show(first)})`;
  if (!/^[\p{XID_Start}_]$/u.test(first)) return `invalid first character ${show(first)}: use a letter or '_'`;
  const bad = [...name].slice(1).find((c) => !/^[\p{XID_Continue}-]$/u.test(c));
  if (bad !== undefined) return `invalid character ${show(bad)}: use letters, digits, '-' and '_'`;
  return undefined;
}

/**
 * The 1-based line where `key` is set inside table `table` (dotted, e.g. 'package' or
 * 'workspace.package'), or the table's header line, or undefined. A plain scan, good enough to point
 * a user at the right place; TOML itself has already been validated by the parser.
 */
export function lineOf(text: string, table: string, key?: string): number | undefined {
  const lines = text.split(/\r?\n/);
  const clean = (s: string) => s.replace(/["'\s]/g, '');
  let current = '';
  let header: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const head = /^\s*\[\[?([^\]]+)\]\]?\s*(#.*)?$/.exec(line);
    if (head) {
      current = clean(head[1]);
      if (current === table && header === undefined) header = i + 1;
      continue;
    }
    const assign = /^\s*([^=#]+?)\s*=/.exec(line);
    if (!assign) continue;
    const full = clean(current ? `${current}.${assign[1]}` : assign[1]);
    if (key !== undefined && (full === `${table}.${key}` || full.startsWith(`${table}.${key}.`))) return i + 1;
    if (header === undefined && (full === table || full.startsWith(`${table}.`))) header = i + 1;
  }
  return header;
}

/**
 * The `package.name` a Cargo.toml that does not parse still shows on a line of its own
 * (`name = "..."` under `[package]`), when it is a name Cargo accepts; else undefined.
 */
export function readableName(text: string): string | undefined {
  const line = lineOf(text, 'package', 'name');
  const match = line ? /=\s*(?:"([^"\\]*)"|'([^']*)')\s*(?:#.*)?$/.exec(text.split(/\r?\n/)[line - 1]) : null;
  const name = match?.[1] ?? match?.[2];
  return name !== undefined && !packageNameProblem(name) ? name : undefined;
}

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

class ManifestReader {
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  fail(message: string, table: string, key?: string): never {
    throw new UserError(message, { file: this.file, line: lineOf(this.text, table, key) });
  }

  stringList(table: Table, key: string, where: string): string[] | undefined {
    const value = table[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
      this.fail(`\`${where}.${key}\` must be an array of strings.`, where, key);
    }
    return value as string[];
  }

  packageSection(pkg: unknown, dir: string): PackageSection | undefined {
    if (pkg === undefined) return undefined;
    if (!isTable(pkg)) this.fail('`package` must be a table.', 'package');
    if (typeof pkg.name !== 'string' || !pkg.name) {
      this.fail('[package] has no `name`: every Cargo package needs `name = "..."` (the component name).', 'package', 'name');
    }
    const nameProblem = packageNameProblem(pkg.name);
    if (nameProblem) {
      const shown = pkg.name.length > 80 ? `${JSON.stringify(pkg.name.slice(0, 80))}...` : JSON.stringify(pkg.name);
      this.fail(`package.name ${shown} is not a valid Cargo package name (Cargo refuses it): ${nameProblem}.`, 'package', 'name');
    }
    let version: VersionSpec;
    if (pkg.version === undefined) version = { kind: 'default' };
    else if (typeof pkg.version === 'string') {
      if (!isSemVer(pkg.version)) {
        this.fail(`package.version '${pkg.version}' is not a SemVer version such as 1.2.3 (Cargo refuses it).`, 'package', 'version');
      }
      version = { kind: 'explicit', value: pkg.version };
    } else if (isTable(pkg.version) && pkg.version.workspace === true) version = { kind: 'workspace' };
    else this.fail('package.version must be a string such as "1.2.3" or `{ workspace = true }`.', 'package', 'version');
    let workspacePointer: string | undefined;
    if (pkg.workspace !== undefined) {
      if (typeof pkg.workspace !== 'string') this.fail('package.workspace must be a path string.', 'package', 'workspace');
      workspacePointer = path.resolve(dir, pkg.workspace, 'Cargo.toml');
    }
    return { name: pkg.name, version, workspacePointer, dependencies: [], metadata: pkg.metadata };
  }

  dependencies(toml: Table, dir: string): PathDependency[] {
    const found: PathDependency[] = [];
    const collect = (tables: Table, where: string) => {
      for (const kind of DEPENDENCY_TABLES) {
        const deps = tables[kind];
        if (deps === undefined) continue;
        if (!isTable(deps)) this.fail(`\`${where}${kind}\` must be a table.`, `${where}${kind}`);
        for (const [name, spec] of Object.entries(deps)) {
          if (!isTable(spec)) continue;
          if (typeof spec.path === 'string') found.push({ name, table: `${where}${kind}`, dir: path.resolve(dir, spec.path) });
          else if (spec.workspace === true) found.push({ name, table: `${where}${kind}` });
        }
      }
    };
    collect(toml, '');
    if (isTable(toml.target)) {
      for (const [cfg, tables] of Object.entries(toml.target)) {
        if (isTable(tables)) collect(tables, `target.${cfg}.`);
      }
    }
    return found;
  }

  workspaceSection(ws: unknown, dir: string): WorkspaceSection | undefined {
    if (ws === undefined) return undefined;
    if (!isTable(ws)) this.fail('`workspace` must be a table.', 'workspace');
    const dependencies = new Map<string, string | undefined>();
    if (ws.dependencies !== undefined) {
      if (!isTable(ws.dependencies)) this.fail('`workspace.dependencies` must be a table.', 'workspace.dependencies');
      for (const [name, spec] of Object.entries(ws.dependencies)) {
        dependencies.set(name, isTable(spec) && typeof spec.path === 'string' ? path.resolve(dir, spec.path) : undefined);
      }
    }
    let packageVersion: string | undefined;
    if (isTable(ws.package) && ws.package.version !== undefined) {
      if (typeof ws.package.version !== 'string' || !isSemVer(ws.package.version)) {
        this.fail(`workspace.package.version '${String(ws.package.version)}' is not a SemVer version such as 1.2.3.`, 'workspace.package', 'version');
      }
      packageVersion = ws.package.version;
    }
    return {
      members: this.stringList(ws, 'members', 'workspace'),
      exclude: this.stringList(ws, 'exclude', 'workspace') ?? [],
      packageVersion,
      dependencies,
    };
  }
}

/** Parses the text of one Cargo.toml; a TOML syntax error or a malformed key is a UserError naming file and line. */
export function parseManifest(file: string, text: string): Manifest {
  const reader = new ManifestReader(file, text);
  const dir = path.dirname(file);
  let toml: Table;
  try {
    toml = parse(text) as Table;
  } catch (error) {
    if (error instanceof TomlError) {
      const detail = error.message.replace(/^Invalid TOML document: /, '').split('\n')[0];
      throw new UserError(`Invalid TOML in Cargo.toml: ${detail} (line ${error.line}, column ${error.column}).`, {
        file,
        line: error.line,
      });
    }
    throw error;
  }
  const pkg = reader.packageSection(toml.package, dir);
  if (pkg) pkg.dependencies = reader.dependencies(toml, dir);
  const workspace = reader.workspaceSection(toml.workspace, dir);
  if (pkg?.workspacePointer && workspace) {
    reader.fail('package.workspace cannot be set in a manifest that has its own [workspace] (Cargo refuses both).', 'package', 'workspace');
  }
  return { file, dir, text, package: pkg, workspace };
}

/** Reads and parses one Cargo.toml (synchronously: see walkTree for why); bytes that are not UTF-8 are refused, as Cargo does. */
export function readManifest(file: string): Manifest {
  // A leading byte order mark is dropped, as Cargo accepts it.
  return parseManifest(file, decodeUtf8(readFileSync(file), file, { message: 'Cargo.toml is not valid UTF-8 (Cargo refuses it): save it as UTF-8.' }));
}

/** The table under `[package.metadata]` this extension reads (its Marketplace id). */
export const METADATA_KEY = 'rust-gitops-release';

/**
 * `[package.metadata.rust-gitops-release]`: how the component's image is built and named, where the
 * component is defined. Paths are relative to the package's folder (the Cargo.toml's), made absolute here.
 */
export interface ImageMetadata {
  /** Image repository name used instead of package.name (registry and repositoryPrefix still apply). */
  image?: string;
  /** Absolute path of the Dockerfile. */
  dockerfile?: string;
  /** Absolute path of the build context. */
  context?: string;
  platforms?: string[];
  buildArgs?: Record<string, string>;
  /** The table's header line, for messages. */
  where: SourceLocation;
}

const METADATA_FIELDS = ['image', 'dockerfile', 'context', 'platforms', 'buildArgs'];
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The image settings a Cargo.toml gives in `[package.metadata.rust-gitops-release]`, checked; undefined
 * when it has none. Cargo itself ignores the table, so discovery does not read it: only the tasks that
 * build images do, and a wrong key or value is a UserError naming the file and line.
 */
export function imageMetadata(manifest: Manifest): ImageMetadata | undefined {
  const metadata = manifest.package?.metadata;
  const table = `package.metadata.${METADATA_KEY}`;
  const reader: ManifestReader = new ManifestReader(manifest.file, manifest.text);
  if (metadata === undefined || (isTable(metadata) && metadata[METADATA_KEY] === undefined)) return undefined;
  const value = isTable(metadata) ? metadata[METADATA_KEY] : undefined;
  if (!isTable(value)) reader.fail(`[${table}] must be a table of ${METADATA_FIELDS.join(', ')}.`, table);
  const unknown = Object.keys(value).find((key) => !METADATA_FIELDS.includes(key));
  if (unknown !== undefined) reader.fail(`[${table}] has no key ${JSON.stringify(unknown)}: use ${METADATA_FIELDS.join(', ')}.`, table, unknown);
  const text = (key: string): string | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v.trim()) reader.fail(`${table}.${key} must be a non-empty string.`, table, key);
    return v.trim();
  };
  const relativePath = (key: string): string | undefined => {
    const v = text(key);
    if (v === undefined) return undefined;
    if (path.isAbsolute(v)) reader.fail(`${table}.${key} ${JSON.stringify(v)} must be relative to the package's folder (${path.dirname(manifest.file)}).`, table, key);
    return path.resolve(manifest.dir, v);
  };
  const image = text('image');
  if (image !== undefined) {
    try {
      validateRepository(image);
    } catch (error) {
      reader.fail(`${table}.image: ${(error as Error).message}`, table, 'image');
    }
  }
  let platforms: string[] | undefined;
  if (value.platforms !== undefined) {
    const list = typeof value.platforms === 'string' ? value.platforms.split(',') : value.platforms;
    if (!Array.isArray(list) || list.some((p) => typeof p !== 'string')) reader.fail(`${table}.platforms must be an array of strings such as ["linux/amd64", "linux/arm64"].`, table, 'platforms');
    platforms = (list as string[]).map((p) => p.trim()).filter(Boolean);
  }
  let buildArgs: Record<string, string> | undefined;
  if (value.buildArgs !== undefined) {
    if (!isTable(value.buildArgs)) reader.fail(`${table}.buildArgs must be a table such as { BACKEND = "onnx" }.`, table, 'buildArgs');
    buildArgs = {};
    for (const [key, arg] of Object.entries(value.buildArgs)) {
      if (!BUILD_ARG_NAME.test(key)) reader.fail(`${table}.buildArgs key ${JSON.stringify(key)} is not a build argument name: use letters, digits and '_'.`, table, 'buildArgs');
      if (!['string', 'number', 'bigint', 'boolean'].includes(typeof arg)) reader.fail(`${table}.buildArgs.${key} must be a string, number or boolean.`, table, 'buildArgs');
      buildArgs[key] = String(arg);
    }
  }
  return {
    ...(image !== undefined ? { image } : {}),
    ...(value.dockerfile !== undefined ? { dockerfile: relativePath('dockerfile') } : {}),
    ...(value.context !== undefined ? { context: relativePath('context') } : {}),
    ...(platforms ? { platforms } : {}),
    ...(buildArgs ? { buildArgs } : {}),
    where: { file: manifest.file, line: lineOf(manifest.text, table) },
  };
}
