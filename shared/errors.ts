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
export function formatError(error: unknown): string {
  if (error instanceof UserError && error.where) {
    const at = error.where.line ? `${error.where.file}:${error.where.line}` : error.where.file;
    return `${at}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A value from an input or a file, fit to quote in a message: `'value'` as it is when short and
 * printable; otherwise JSON-escaped (control characters visible) and cut to `max` characters, so a
 * hostile 20 MB name cannot flood the log or hide a line break in it.
 */
export function shown(value: string, max = 100): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be made visible
  if (value.length <= max && !/[\u0000-\u001f\u007f\u2028\u2029]/.test(value)) return `'${value}'`;
  const cut = value.length > max ? value.slice(0, max) : value;
  return `${JSON.stringify(cut)}${value.length > max ? `... (${value.length} characters)` : ''}`;
}
