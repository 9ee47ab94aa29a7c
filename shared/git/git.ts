import { run, type RunResult } from '../process';

export interface GitOptions {
  /**
   * Bearer token for the remote. It reaches git only through the child's environment
   * (GIT_CONFIG_* -> http.extraheader): never argv, never .git/config.
   */
  token?: string;
  input?: string | Buffer;
  allowFailure?: boolean;
  env?: Record<string, string>;
}

/** A git working copy, driven through the git CLI without a shell. */
export class Git {
  constructor(readonly dir: string, private readonly token?: string) {}

  /** A copy of this handle that authenticates to remotes with `token`. */
  withToken(token: string | undefined): Git {
    return new Git(this.dir, token);
  }

  async run(args: string[], options: GitOptions = {}): Promise<RunResult> {
    const token = options.token ?? this.token;
    const env: Record<string, string | null> = {
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: null,
      SSH_ASKPASS: null,
      LC_ALL: 'C',
      ...options.env,
    };
    if (token) {
      env.GIT_CONFIG_COUNT = '1';
      env.GIT_CONFIG_KEY_0 = 'http.extraheader';
      env.GIT_CONFIG_VALUE_0 = `AUTHORIZATION: bearer ${token}`;
    }
    try {
      return await run('git', args, { cwd: this.dir, env, input: options.input, allowFailure: options.allowFailure });
    } catch (error) {
      // eslint-disable-next-line preserve-caught-error -- the cause would carry the token unredacted
      throw new Error(redact((error as Error).message, token));
    }
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

function redact(message: string, token: string | undefined): string {
  return token ? message.split(token).join('***') : message;
}
