import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { UserError } from '../errors';
import { decodeUtf8 } from '../files';

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
    return { name: pkg.name, version, workspacePointer, dependencies: [] };
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
