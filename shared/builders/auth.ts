import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../agent';
import { DOCKER_HUB, registryHost } from '../images/registry-host';
import type { RegistryCredentials } from '../registry/client';

/** The key Docker uses for Docker Hub in config.json; every other registry is keyed by its host. */
export function authKey(registry: string, style: 'docker' | 'containers'): string {
  const host = registryHost(registry);
  return style === 'docker' && host === DOCKER_HUB ? 'https://index.docker.io/v1/' : host;
}

/** `{"auths": {...}}` with one registry, the `auth` value (base64 user:password) masked in logs. */
export function authEntry(credentials: RegistryCredentials, log: Log): { auth: string } | undefined {
  if (!credentials.username && !credentials.password) return undefined;
  const auth = Buffer.from(`${credentials.username ?? ''}:${credentials.password ?? ''}`).toString('base64');
  log.setSecret(auth);
  return { auth };
}

/** A private (0700) temporary directory; its files are written 0600. */
export async function privateDir(parent: string | undefined, prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(parent ?? os.tmpdir(), prefix));
  await fs.chmod(dir, 0o700);
  return dir;
}

export async function writePrivateJson(file: string, value: unknown): Promise<void> {
  await fs.writeFile(file, JSON.stringify(value, null, 2), { mode: 0o600 });
  await fs.chmod(file, 0o600);
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
}
