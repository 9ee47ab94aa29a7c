import type { SourceLocation } from './agent';

/**
 * A failure the user can act on: the message says what is wrong and what to do, and `where`
 * names the file (and line) at fault. Anything else that escapes a task is a bug.
 */
export class UserError extends Error {
  constructor(message: string, readonly where?: SourceLocation) {
    super(message);
    this.name = 'UserError';
  }
}

/** 'path/to/file:12: message', the form editors and the pipeline log link. */
export function describe(error: unknown): string {
  if (error instanceof UserError && error.where) {
    const at = error.where.line ? `${error.where.file}:${error.where.line}` : error.where.file;
    return `${at}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
