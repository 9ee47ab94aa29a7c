/** A Rust component: one Cargo package, as Cargo itself would report it. */
export interface Component {
  /** `package.name`, never the folder name. */
  name: string;
  /** The resolved `package.version` ('0.0.0' when omitted). */
  version: string;
  versionSource: 'explicit' | 'workspace' | 'default';
  /** The package's directory relative to the searched root, with '/' separators ('.' for the root itself). */
  path: string;
  /** Absolute path of the package's Cargo.toml. */
  manifestPath: string;
  /** Absolute directory of the workspace root that claims it (its own directory when standalone). */
  workspaceRoot: string;
  /**
   * Absolute directories of the packages it reaches through path dependencies (normal, dev, build,
   * target-specific, and `workspace = true` ones resolving to a path), transitively, sorted; only those
   * under the searched root (and so in the repository), whether or not they are in its workspace.
   */
  pathDependencies: string[];
}
