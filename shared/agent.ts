/**
 * The build agent as the shared library sees it. Tasks implement it over azure-pipelines-task-lib
 * (tasks/common/task-lib-agent.ts); tests implement it in memory (test/helpers/memory-agent.ts).
 * Library code needs only the Log part. Nothing in shared/ imports task-lib.
 */
import { formatError, UserError } from './errors';

/** Where a message points: a file, and a 1-based line when one is known. */
export interface SourceLocation {
  file: string;
  line?: number;
}

/** A service connection as tasks use it: its URL, its credentials (the password masked) and data fields. */
export interface ServiceConnection {
  /** Its URL, else its loginServer or registry. */
  url?: string;
  /** `username` (Docker registry), `registryid` or `serviceprincipalid` (Azure Container Registry). */
  username?: string;
  /** `password`, `apitoken` (Azure Repos / TFS) or `serviceprincipalkey`. */
  password?: string;
  /** `registry`, `registrytype`, `loginServer`; for Azure Resource Manager ones `environmentAuthorityUrl`, `activeDirectoryAuthority`, `msiclientId`; when the connection has them. */
  data: Record<string, string>;
  /** The authorization scheme: `UsernamePassword`, `Token`, `WorkloadIdentityFederation`, `ServicePrincipal`, `ManagedServiceIdentity`... */
  scheme?: string;
  /** Every authorization parameter by its lower-case name (`tenantid`, `serviceprincipalid`, `authenticationtype`...); the secret ones masked. */
  parameters?: Record<string, string>;
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
  /** Opens a collapsible section of the log titled `title` (closed by endGroup); see inGroup. Optional: a plain log has no sections. */
  group?(title: string): void;
  endGroup?(): void;
  /** How far the task is (0-100) and what it is doing now, shown beside the running step. Optional, like group. */
  progress?(percent: number, message: string): void;
}

/** Runs `body` with what it logs inside a collapsible section titled `title`, closed however `body` ends. */
export async function inGroup<T>(log: Log, title: string, body: () => Promise<T>): Promise<T> {
  log.group?.(title);
  try {
    return await body();
  } finally {
    log.endGroup?.();
  }
}

/**
 * Counts finished items of `total`, reporting progress after each one when there are ten or fewer,
 * else each time another tenth is done (and at the end), with `message(done)`.
 */
export function progressCounter(log: Log, total: number, message: (done: number) => string): () => void {
  let done = 0;
  let reported = 0;
  return () => {
    done++;
    const percent = Math.floor((done / total) * 100);
    if (total > 10 && percent < reported + 10 && done < total) return;
    reported = percent;
    log.progress?.(percent, message(done));
  };
}

export interface Agent extends Log {
  group(title: string): void;
  endGroup(): void;
  progress(percent: number, message: string): void;
  /** The input's value, trimmed; '' when it is not set. (Required and boolean inputs: shared/inputs.ts.) */
  input(name: string): string;
  /** A secret input (a password), trimmed, masked before anything logs it (read without task-lib's debug echo); '' when not set. */
  secretInput(name: string): string;
  /** A pipeline variable; undefined when unset or empty. */
  variable(name: string): string | undefined;
  /** The job's access token (the SystemVssConnection endpoint's AccessToken, else the System.AccessToken variable), masked. */
  accessToken(): string | undefined;
  /** The organisation's collection URL, e.g. https://dev.azure.com/org/ (the SystemVssConnection endpoint's URL, else System.CollectionUri). */
  collectionUrl(): string | undefined;
  /** A service connection by id (what a connectedService input holds); undefined when missing or not authorized. */
  endpoint(id: string): ServiceConnection | undefined;
  /** An error issue on the run, linked to the file and line when given. */
  error(message: string, where?: SourceLocation): void;
  /** An output variable (isOutput=true), readable by later steps and jobs. */
  setOutput(name: string, value: string): void;
  /** Attaches a Markdown section to the run's summary tab; returns the file attached (under tempDir). */
  summary(title: string, markdown: string): string;
  /**
   * A private scratch directory of this task, made on first use under Agent.TempDirectory (which the agent
   * empties after the job), or under the system's temporary directory outside a pipeline.
   */
  tempDir(): string;
  /** Ends the task as succeeded with `message`. */
  succeed(message?: string): void;
  /** Ends the task as failed, saying `message` (without logging another error issue). */
  fail(message: string): void;
}

/**
 * Runs a task's body on `agent`: succeeds with the message it returns; any failure becomes one error
 * issue pointing at its file and line, and a failed result. Anything but a UserError is a bug: its stack goes to the debug log.
 */
export async function runWithAgent(agent: Agent, body: (agent: Agent) => Promise<string | void>): Promise<void> {
  try {
    agent.succeed((await body(agent)) || undefined);
  } catch (error) {
    if (!(error instanceof UserError)) agent.debug(String((error as Error)?.stack ?? error));
    agent.error(formatError(error), error instanceof UserError ? error.where : undefined);
    agent.fail(formatError(error));
  }
}
