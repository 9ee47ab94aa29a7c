/**
 * The build agent as the shared library sees it. Tasks implement it over azure-pipelines-task-lib
 * (tasks/common/task-lib-agent.ts); library code and its tests need only the Log part, which tests
 * implement in memory. Nothing in shared/ imports task-lib.
 */

/** Where a message points: a file, and a 1-based line when one is known. */
export interface SourceLocation {
  file: string;
  line?: number;
}

/** What library code may say while it works. */
export interface Log {
  /** A line shown only when the pipeline runs with system.debug. */
  debug(message: string): void;
  /** A line of the task's log. */
  info(message: string): void;
  /** A warning issue on the run, linked to the file and line when given. */
  warn(message: string, where?: SourceLocation): void;
  /** Registers a value the agent must mask in every log line from now on. */
  setSecret(value: string): void;
}

export interface Agent extends Log {
  /** The input's value, trimmed; '' when it is not set. */
  input(name: string): string;
  /** The input's value, trimmed; throws a UserError naming the input when it is empty. */
  requiredInput(name: string): string;
  /** 'true' or 'false' in any case; `defaultValue` when empty; anything else is a UserError naming the input. */
  boolInput(name: string, defaultValue: boolean): boolean;
  /** A secret input (a password), trimmed, masked before anything logs it (read without task-lib's debug echo); '' when not set. */
  secretInput(name: string): string;
  /** A pipeline variable; undefined when unset or empty. */
  variable(name: string): string | undefined;
  /** The job's access token (the SystemVssConnection endpoint's AccessToken, else the System.AccessToken variable), masked. */
  accessToken(): string | undefined;
  /** The organisation's collection URL, e.g. https://dev.azure.com/org/ (the SystemVssConnection endpoint's URL, else System.CollectionUri). */
  collectionUrl(): string | undefined;
  /**
   * A service connection: its URL (else its loginServer or registry), username and password (masked) under the
   * names Docker registry, Azure Container Registry and generic connections use, and its `registry`,
   * `registrytype` and `loginServer` data; undefined when the pipeline has no such connection.
   */
  endpoint(id: string): { url?: string; username?: string; password?: string; data: Record<string, string> } | undefined;
  /** An error issue on the run, linked to the file and line when given. */
  error(message: string, where?: SourceLocation): void;
  /** An output variable (isOutput=true), readable by later steps and jobs. */
  setOutput(name: string, value: string): void;
  /** Attaches Markdown to the run's summary tab (uploaded as a file named after `title`). */
  summary(title: string, markdown: string): void;
  /**
   * A private scratch directory of this task, made on first use under Agent.TempDirectory (which the agent
   * empties after the job), or under the system's temporary directory outside a pipeline.
   */
  tempDir(): string;
  /** Ends the task as succeeded with `message`. */
  succeed(message?: string): void;
  /** Ends the task as failed with `message`. */
  fail(message: string): void;
}
