import { UserError } from '../errors';
import { run } from '../process';
import { BuildahBuilder } from './buildah';
import { DockerBuilder } from './docker';
import { PodmanBuilder } from './podman';
import { BUILDER_NAMES, type Builder, type BuilderName, type BuilderOptions } from './types';

export { BUILDER_NAMES } from './types';
export type { Builder, BuilderName, BuilderOptions, BuildRequest } from './types';

/** Checks the `builder` input: `auto` or one of the builders; anything else is a UserError listing them. */
export function parseBuilderChoice(value: string): BuilderName | 'auto' {
  const choice = (value || 'auto').trim().toLowerCase();
  if (choice === 'auto' || (BUILDER_NAMES as readonly string[]).includes(choice)) return choice as BuilderName | 'auto';
  throw new UserError(`builder '${value}' is not known: use auto, ${BUILDER_NAMES.join(', ')}.`);
}

async function works(command: string, args: string[]): Promise<boolean> {
  try {
    return (await run(command, args, { allowFailure: true })).code === 0;
  } catch {
    return false;
  }
}

/** The first builder this agent can use: docker when it reaches an engine, then podman, then buildah. */
export async function detectBuilder(): Promise<BuilderName | undefined> {
  if (await works('docker', ['info', '--format', '{{.ServerVersion}}'])) return 'docker';
  if (await works('podman', ['--version'])) return 'podman';
  if (await works('buildah', ['--version'])) return 'buildah';
  return undefined;
}

/** Opens the chosen (or found) builder, logged in to the registry through a temporary auth file. */
export async function openBuilder(choice: string, options: BuilderOptions): Promise<Builder> {
  let name = parseBuilderChoice(choice);
  if (name === 'auto') {
    const found = await detectBuilder();
    if (!found) throw new UserError('No container builder was found on this agent: install docker (with a running engine), podman or buildah, or set builder.');
    name = found;
  }
  const builder = name === 'docker' ? new DockerBuilder(options) : name === 'podman' ? new PodmanBuilder(options) : new BuildahBuilder(options);
  return builder.open();
}
