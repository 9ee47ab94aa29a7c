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
  /** Absolute directories of the path dependencies it has inside its workspace root. */
  pathDependencies: string[];
}
