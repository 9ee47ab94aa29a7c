import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../shared/process';
import { RegistryClient } from '../../shared/registry/client';
import { repoRoot } from './run-task';

export const workspaceFixture = path.join(repoRoot, 'test', 'fixtures', 'build', 'workspace');

/**
 * Private container storage for podman and buildah as these machines need it: the vfs driver and
 * chroot isolation, in a temporary graph root so tests never touch the machine's own images.
 */
export async function builderEnvironment(dir: string): Promise<Record<string, string>> {
  await fs.mkdir(dir, { recursive: true });
  const conf = path.join(dir, 'storage.conf');
  await fs.writeFile(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${path.join(dir, 'graph')}"\nrunroot = "${path.join(dir, 'run')}"\n`);
  return { STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot', CONTAINERS_STORAGE_CONF: conf };
}

/** A copy of the fixture workspace as a git repository with one commit. */
export async function workspaceRepo(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rust-ws-'));
  await fs.cp(workspaceFixture, dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'workspace');
  return dir;
}

export async function git(dir: string, ...args: string[]): Promise<string> {
  const env = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' };
  return (await run('git', args, { cwd: dir, env })).stdout.trim();
}

/** The config (labels, os, architecture) of each platform image behind a tag. */
export async function imageConfigs(client: RegistryClient, repository: string, tag: string) {
  const top = await client.manifest(repository, tag);
  if (!top) throw new Error(`${repository}:${tag} is not in the registry`);
  const body = top.body as { manifests?: Array<{ digest: string }>; config?: { digest: string } };
  const digests = body.manifests ? body.manifests.map((m) => m.digest) : [top.digest];
  const configs = [];
  for (const digest of digests) {
    const manifest = digest === top.digest ? top : await client.manifest(repository, digest);
    const configDigest = (manifest!.body as { config: { digest: string } }).config.digest;
    configs.push((await client.blobJson(repository, configDigest)) as { os: string; architecture: string; config: { Labels?: Record<string, string> } });
  }
  return { mediaType: top.mediaType, configs };
}

/**
 * `podman system service` on a private socket: the Docker engine API, for the real docker CLI.
 * Like dockerd, it is told that the loopback test registry speaks plain HTTP (docker assumes that for
 * 127.0.0.0/8 itself; podman reads it from registries.conf).
 */
export class PodmanService {
  private constructor(private readonly child: ChildProcess, readonly dockerHost: string) {}

  static async start(dir: string, env: Record<string, string>, insecureRegistry: string): Promise<PodmanService> {
    const registries = path.join(dir, 'registries.conf');
    await fs.writeFile(registries, `[[registry]]\nlocation = "${insecureRegistry}"\ninsecure = true\n`);
    const socket = path.join(dir, 'podman.sock');
    const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
      env: { ...process.env, ...env, CONTAINERS_REGISTRIES_CONF: registries },
      stdio: 'ignore',
    });
    const dockerHost = `unix://${socket}`;
    for (let i = 0; i < 100; i++) {
      const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { env: { DOCKER_HOST: dockerHost }, allowFailure: true });
      if (info.code === 0) return new PodmanService(child, dockerHost);
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill();
    throw new Error('podman system service did not answer the docker CLI');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    await exited;
  }
}
