import { run, type RunResult } from '../process';

export interface GitOptions {
  input?: string | Buffer;
  allowFailure?: boolean;
  /** Added to the child's environment (a remote's settings reach git this way: shared/git/remote.ts). */
  env?: Record<string, string>;
}

/** A git working copy, driven through the git CLI without a shell, never prompting. */
export class Git {
  constructor(readonly dir: string) {}

  run(args: string[], options: GitOptions = {}): Promise<RunResult> {
    const env = { GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: null, SSH_ASKPASS: null, LC_ALL: 'C', ...options.env };
    return run('git', args, { cwd: this.dir, env, input: options.input, allowFailure: options.allowFailure });
  }

  /** stdout of a git command, trimmed. */
  async text(args: string[], options: GitOptions = {}): Promise<string> {
    return (await this.run(args, options)).stdout.trim();
  }

  /** The commit a ref points to, or undefined when it does not resolve. */
  async resolve(ref: string): Promise<string | undefined> {
    const result = await this.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true });
    return result.code === 0 ? result.stdout.trim() : undefined;
  }

  /** The values of `keys` (lowercase) that are set in git's configuration, read in one process. */
  async config(keys: string[]): Promise<Map<string, string>> {
    const pattern = `^(${keys.map((key) => key.replace(/\./g, '\\.')).join('|')})$`;
    const result = await this.run(['config', '-z', '--get-regexp', pattern], { allowFailure: true });
    const values = new Map<string, string>();
    for (const entry of result.stdout.split('\0').filter(Boolean)) {
      const newline = entry.indexOf('\n');
      values.set((newline < 0 ? entry : entry.slice(0, newline)).toLowerCase(), newline < 0 ? 'true' : entry.slice(newline + 1));
    }
    return values;
  }

  /** Whether `name` is a valid ref name, by git's own rules (git check-ref-format). */
  static async isValidRef(name: string): Promise<boolean> {
    // Not a ref, and not an argument a process can take (a NUL, or over the kernel's 128 KB per argument).
    if (name.includes('\0') || name.length > 65_536) return false;
    // The common case without a process (check-ref-format wants two levels or more, as callers give).
    if (name.includes('/') && isPlainRefName(name)) return true;
    const result = await run('git', ['check-ref-format', name], { allowFailure: true });
    return result.code === 0;
  }
}

/**
 * Whether `name` is a valid ref or tag name by git's rules without asking git: letters, digits and `._+-/`
 * only, no empty or dot-led path component, no `..`, no component ending in `.lock`, no trailing `.`.
 * Conservative: a name it refuses may still be valid (ask `git check-ref-format` then).
 */
export function isPlainRefName(name: string): boolean {
  return (
    /^[A-Za-z0-9._+\-/]+$/.test(name) &&
    !name.includes('..') &&
    !name.endsWith('.') &&
    // ASCII only, so length is bytes: a part over 255 bytes cannot be a file name (gitTag explains it).
    name.split('/').every((part) => part.length > 0 && part.length <= 255 && !part.startsWith('.') && !part.endsWith('.lock'))
  );
}
