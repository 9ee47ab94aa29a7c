import type { Log } from '../agent';
import { run } from '../process';

/** How many of a failed command's last output lines its error carries. */
export const TAIL_LINES = 30;

/** A builder command that failed: what ran (its argv, which never holds a credential) and the end of what it printed. */
export class BuilderCommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number,
    readonly tail: string[],
  ) {
    super(`${step(argv)} exited with code ${code}`);
  }
}

/** `buildah build`, `podman manifest push`, `docker buildx build`: the program and its subcommand (past `--storage-driver vfs`). */
function step(argv: string[]): string {
  const words = argv.filter((arg, i) => !arg.startsWith('-') && !argv[i - 1]?.startsWith('--storage'));
  return words.slice(0, words[1] === 'manifest' || words[1] === 'buildx' ? 3 : 2).join(' ');
}

function redact(line: string, secrets: readonly string[]): string {
  return secrets.reduce((text, secret) => text.split(secret).join('***'), line);
}

export interface BuilderRun {
  env: Record<string, string>;
  log: Log;
  /** Values no log line may show (the password, the encoded auth): replaced by *** should the builder echo one. */
  secrets: readonly string[];
  /** A probe or a clean-up, whose failure is expected: its output stays out of the log, and its exit code is returned, never thrown. */
  probe?: boolean;
}

/**
 * Runs one builder command, logging it and then each line of its output as it comes (a build of many
 * minutes shows that it is alive). A non-zero exit throws a BuilderCommandError with the last lines.
 */
export async function runBuilder(program: string, args: string[], options: BuilderRun): Promise<number> {
  const argv = [program, ...args];
  const secrets = options.secrets.filter(Boolean);
  const tail: string[] = [];
  if (!options.probe) options.log.info(`[command]${argv.join(' ')}`);
  const { code } = await run(program, args, {
    env: options.env,
    allowFailure: true,
    onLine: (_, raw) => {
      const line = redact(raw, secrets);
      if (!options.probe) options.log.info(line);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    },
  });
  if (code !== 0 && !options.probe) throw new BuilderCommandError(argv, code, tail);
  return code;
}
