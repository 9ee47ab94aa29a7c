import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Agent, ServiceConnection, SourceLocation } from '../../shared/agent';

/** What the pipeline gives the task: inputs as the agent hands them over (after applying defaults and macros). */
export interface MemoryAgentSetup {
  inputs?: Record<string, string>;
  /** Pipeline variables by name (case-insensitive, as on the agent). */
  variables?: Record<string, string>;
  /** Service connections by id; one not listed is missing or not authorized. */
  endpoints?: Record<string, Omit<ServiceConnection, 'data'> & { data?: Record<string, string> }>;
  accessToken?: string;
  collectionUrl?: string;
}

export interface Issue {
  message: string;
  where?: SourceLocation;
}

/**
 * The Agent in memory, for in-process tests of a task's boundary: it answers inputs, variables and
 * service connections from `setup`, and records what the task tells the agent (outputs, secrets to
 * mask, log lines, warnings and errors with their locations, summaries, the result).
 */
export class MemoryAgent implements Agent {
  readonly outputs: Record<string, string> = {};
  /** Values registered for masking, in order, each once. */
  readonly secrets: string[] = [];
  /** debug and info lines, with `##[group]<title>` and `##[endgroup]` where sections open and close. */
  readonly lines: string[] = [];
  /** Progress reports, in order. */
  readonly progressReports: Array<{ percent: number; message: string }> = [];
  readonly warnings: Issue[] = [];
  readonly errors: Issue[] = [];
  readonly summaries: Array<{ title: string; markdown: string; file: string }> = [];
  result?: { succeeded: boolean; message?: string };
  private scratch?: string;

  constructor(private readonly setup: MemoryAgentSetup = {}) {}

  input(name: string): string {
    return (this.setup.inputs?.[name] ?? '').trim();
  }

  secretInput(name: string): string {
    const value = this.input(name);
    if (value) this.setSecret(value);
    return value;
  }

  variable(name: string): string | undefined {
    const found = Object.entries(this.setup.variables ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase());
    return found?.[1] || undefined;
  }

  accessToken(): string | undefined {
    if (this.setup.accessToken) this.setSecret(this.setup.accessToken);
    return this.setup.accessToken;
  }

  collectionUrl(): string | undefined {
    return this.setup.collectionUrl;
  }

  endpoint(id: string): ServiceConnection | undefined {
    const endpoint = this.setup.endpoints?.[id];
    if (!endpoint) return undefined;
    if (endpoint.password) this.setSecret(endpoint.password);
    return { ...endpoint, data: { ...endpoint.data } };
  }

  debug(message: string): void {
    this.lines.push(message);
  }

  info(message: string): void {
    this.lines.push(message);
  }

  group(title: string): void {
    this.lines.push(`##[group]${title}`);
  }

  endGroup(): void {
    this.lines.push('##[endgroup]');
  }

  progress(percent: number, message: string): void {
    this.progressReports.push({ percent, message });
  }

  warn(message: string, where?: SourceLocation): void {
    this.warnings.push({ message, where });
  }

  error(message: string, where?: SourceLocation): void {
    this.errors.push({ message, where });
  }

  setSecret(value: string): void {
    if (value && !this.secrets.includes(value)) this.secrets.push(value);
  }

  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
  }

  summary(title: string, markdown: string): string {
    const file = path.join(this.tempDir(), `${this.summaries.length + 1}-${title.replace(/[^A-Za-z0-9]+/g, '-')}.md`);
    writeFileSync(file, markdown);
    this.summaries.push({ title, markdown, file });
    return file;
  }

  tempDir(): string {
    this.scratch ??= mkdtempSync(path.join(os.tmpdir(), 'memory-agent-'));
    return this.scratch;
  }

  succeed(message?: string): void {
    this.result = { succeeded: true, message };
  }

  fail(message: string): void {
    this.result = { succeeded: false, message };
  }

  /** Every text the task gave the agent to show (log lines, issues, outputs, summaries): where a secret must never be. */
  shown(): string {
    const issues = [...this.warnings, ...this.errors].map((i) => i.message);
    const progress = this.progressReports.map((p) => p.message);
    return [...this.lines, ...progress, ...issues, ...Object.values(this.outputs), ...this.summaries.map((s) => s.markdown)].join('\n');
  }

  /** Removes the temporary directory. */
  dispose(): void {
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
  }
}

/** Makes MemoryAgents for the mocha suite it is called in, and disposes of every one after the suite. */
export function memoryAgents(): (setup?: MemoryAgentSetup) => MemoryAgent {
  const made: MemoryAgent[] = [];
  after(() => made.forEach((agent) => agent.dispose()));
  return (setup = {}) => {
    const agent = new MemoryAgent(setup);
    made.push(agent);
    return agent;
  };
}
