import * as path from 'node:path';
import { isLoopback } from '../registry/client';
import { authEntry, authKey, privateDir, removeDir, writePrivateJson } from './auth';
import { runBuilder } from './command';
import type { Builder, BuilderOptions, BuildRequest } from './types';

/**
 * What podman and buildah share: the containers/image and containers/storage CLI. Credentials live in
 * a 0600 auth file (`--authfile`) in a private temporary directory, removed by `dispose`.
 *
 * Storage and isolation follow the environment the agent gives: `STORAGE_DRIVER` (e.g. `vfs`, where
 * overlay is unavailable) and `BUILDAH_ISOLATION` (e.g. `chroot`, where the OCI runtime cannot create
 * cgroups) are passed on explicitly, since podman does not read them all by itself.
 */
export abstract class ContainersTool implements Builder {
  abstract readonly name: 'podman' | 'buildah';
  private authDir?: string;
  private authFile?: string;
  /** The password and the encoded auth: never in argv, and hidden should the builder echo them. */
  private secrets: string[] = [];

  constructor(protected readonly options: BuilderOptions) {}

  /** Writes the auth file; called once before the first build. */
  async open(): Promise<this> {
    const entry = authEntry(this.options.credentials, this.options.log);
    this.secrets = [this.options.credentials.password ?? '', entry?.auth ?? ''];
    if (entry) {
      this.authDir = await privateDir(this.options.tempDir, 'registry-auth-');
      this.authFile = path.join(this.authDir, 'auth.json');
      await writePrivateJson(this.authFile, { auths: { [authKey(this.options.registry, 'containers')]: entry } });
    }
    return this;
  }

  async dispose(): Promise<void> {
    await removeDir(this.authDir);
    this.authDir = this.authFile = undefined;
  }

  async build(request: BuildRequest): Promise<void> {
    const [primary, ...others] = request.references;
    const several = request.platforms.length > 1;
    const args = ['build', ...this.isolation(), ...this.auth(), '-f', request.dockerfile];
    if (request.platforms.length) args.push('--platform', request.platforms.join(','));
    for (const [key, value] of Object.entries(request.labels)) args.push('--label', `${key}=${value}`);
    for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
    if (several) {
      // A manifest list (image index) collects one image per platform; an old list of the same name
      // would be added to, not replaced, so it goes first.
      await this.tool(['manifest', 'rm', primary], true);
      // The layer cache does not tell platforms apart for a step whose base is the same (e.g. `FROM
      // scratch`): podman would put the first platform's image under every platform.
      args.push('--layers=false', '--manifest', primary);
    } else {
      for (const reference of request.references) args.push('-t', reference);
    }
    args.push(request.context);
    await this.tool(args);
    if (!request.push) return;
    for (const reference of [primary, ...others]) {
      const push = several
        ? ['manifest', 'push', '--all', ...this.tls(), ...this.auth(), primary, `docker://${reference}`]
        : ['push', ...this.tls(), ...this.auth(), primary, `docker://${reference}`];
      await this.tool(push);
    }
  }

  /** Runs the tool, its output streamed to the log; `cleanUp` is a step whose failure is expected and kept quiet. */
  private async tool(args: string[], cleanUp = false): Promise<void> {
    const global = process.env.STORAGE_DRIVER ? ['--storage-driver', process.env.STORAGE_DRIVER] : [];
    await runBuilder(this.name, [...global, ...args], {
      env: this.authFile ? { REGISTRY_AUTH_FILE: this.authFile } : {},
      log: this.options.log,
      secrets: this.secrets,
      probe: cleanUp,
    });
  }

  private isolation(): string[] {
    return process.env.BUILDAH_ISOLATION ? ['--isolation', process.env.BUILDAH_ISOLATION] : [];
  }

  private auth(): string[] {
    return this.authFile ? ['--authfile', this.authFile] : [];
  }

  /** Loopback registries speak plain HTTP (as docker assumes); every other one is verified TLS. */
  private tls(): string[] {
    return isLoopback(this.options.registry) ? ['--tls-verify=false'] : [];
  }
}
