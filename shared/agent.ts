/**
 * The build agent as the shared library sees it. Tasks implement this over azure-pipelines-task-lib
 * (tasks/common/task-lib-agent.ts); tests implement it in memory. Nothing in shared/ imports task-lib.
 */

/** Where a message points: a file, and a 1-based line when one is known. */
export interface SourceLocation {
  file: string;
  line?: number;
}

/** A service connection as tasks use it: its URL, its credentials (the password masked) and data fields. */
export interface ServiceConnection {
  url?: string;
  /** `username` (Docker registry), `registryid` or `serviceprincipalid` (Azure Container Registry). */
  username?: string;
  /** `password`, `apitoken` (Azure Repos / TFS) or `serviceprincipalkey`. */
  password?: string;
  /** `registry`, `registrytype`, `loginServer` when the connection has them. */
  data: Record<string, string>;
}

/** What library code may say while it works. */
export interface Log {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string, where?: SourceLocation): void;
  /** Registers a value the agent must mask in every log line from now on. */
  setSecret(value: string): void;
}

export interface Agent extends Log {
  /** The input's value, trimmed; '' when it is not set. (Required and boolean inputs: shared/inputs.ts.) */
  input(name: string): string;
  /** A secret input (a password), masked before anything logs it; '' when not set. */
  secretInput(name: string): string;
  variable(name: string): string | undefined;
  /** The job's access token (System.AccessToken via the SystemVssConnection endpoint), masked. */
  accessToken(): string | undefined;
  /** The organisation's collection URL, e.g. https://dev.azure.com/org/. */
  collectionUrl(): string | undefined;
  /** A service connection by id (what a connectedService input holds); undefined when missing or not authorized. */
  endpoint(id: string): ServiceConnection | undefined;
  error(message: string, where?: SourceLocation): void;
  setOutput(name: string, value: string): void;
  /** Attaches a Markdown section to the run's summary tab; returns the file attached (under tempDir). */
  summary(title: string, markdown: string): string;
  /** A directory that the agent cleans after the job. */
  tempDir(): string;
  succeed(message?: string): void;
  fail(message: string): void;
}
