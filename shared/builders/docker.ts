import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import { authEntry, authKey, privateDir, removeDir, writePrivateJson } from './auth';
import { runBuilder } from './command';
import type { Builder, BuilderOptions, BuildRequest } from './types';

type DockerConfig = { auths?: Record<string, unknown>; credsStore?: string; credHelpers?: Record<string, string>; [key: string]: unknown };

/**
 * Docker: `docker build` + `docker push` for one platform; `docker buildx build --platform … --push`
 * for several (an image index). Credentials go into `config.json` of a private temporary
 * `DOCKER_CONFIG` (0600), which keeps the user's CLI plugins and buildx builders by linking them in,
 * and is removed by `dispose`. The engine decides plain HTTP for loopback registries itself.
 */
export class DockerBuilder implements Builder {
  readonly name = 'docker' as const;
  private configDir?: string;
  /** The password and the encoded auth: never in argv, and hidden should docker echo them. */
  private secrets: string[] = [];

  constructor(private readonly options: BuilderOptions) {}

  async open(): Promise<this> {
    const entry = authEntry(this.options.credentials, this.options.log);
    this.secrets = [this.options.credentials.password ?? '', entry?.auth ?? ''];
    if (!entry) return this;
    this.configDir = await privateDir(this.options.tempDir, 'docker-config-');
    const original = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
    let config: DockerConfig = {};
    try {
      for (const item of await fs.readdir(original)) {
        if (item !== 'config.json') await fs.symlink(path.join(original, item), path.join(this.configDir, item));
      }
      config = JSON.parse(await fs.readFile(path.join(original, 'config.json'), 'utf8')) as DockerConfig;
    } catch {
      // No docker configuration yet: start from an empty one.
    }
    const key = authKey(this.options.registry, 'docker');
    // A credential store or helper would be asked instead of `auths`, so neither applies to this registry.
    delete config.credsStore;
    if (config.credHelpers) delete config.credHelpers[key];
    config.auths = { ...(config.auths ?? {}), [key]: entry };
    await writePrivateJson(path.join(this.configDir, 'config.json'), config);
    return this;
  }

  async dispose(): Promise<void> {
    await removeDir(this.configDir);
    this.configDir = undefined;
  }

  async build(request: BuildRequest): Promise<void> {
    const several = request.platforms.length > 1;
    const args = several ? ['buildx', 'build'] : ['build'];
    args.push('-f', request.dockerfile);
    if (request.platforms.length) args.push('--platform', request.platforms.join(','));
    for (const [key, value] of Object.entries(request.labels)) args.push('--label', `${key}=${value}`);
    for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    for (const reference of request.references) args.push('-t', reference);
    if (several) {
      if ((await this.docker(['buildx', 'version'], true)) !== 0) {
        throw new UserError(
          `Building ${request.platforms.join(', ')} with docker needs the buildx plugin, which this agent lacks: install docker-buildx (with a builder that can do several platforms), or set builder to podman or buildah.`,
        );
      }
      if (request.push) args.push('--push');
      else this.options.log.warn(`docker: an image index for ${request.platforms.join(', ')} cannot be loaded into the engine; without push it stays in the buildx cache.`);
    }
    args.push(request.context);
    await this.docker(args);
    if (!request.push || several) return;
    for (const reference of request.references) await this.docker(['push', reference]);
  }

  /** Runs docker, its output streamed to the log; a `probe` is quiet and returns its exit code. */
  private docker(args: string[], probe = false): Promise<number> {
    return runBuilder('docker', args, {
      env: this.configDir ? { DOCKER_CONFIG: this.configDir } : {},
      log: this.options.log,
      secrets: this.secrets,
      probe,
    });
  }
}
