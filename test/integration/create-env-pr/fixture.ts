import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Git } from '../../../shared/git/git';
import { remoteEnv } from '../../../shared/git/remote';
import type { AdoServer } from '../../../stand-ins/azure-devops';

/** What an environment pins: component -> tag (digests derived from the tag, so they change with it). */
export type Pins = Record<string, string>;

export const REGISTRY = 'registry.example.com/edge';

export const digestOf = (component: string, tag: string) =>
  `sha256:${Buffer.from(`${component}@${tag}`).toString('hex').padEnd(64, '0').slice(0, 64)}`;

/** versions.yaml as people write it (comment, key order), for the given environments. */
export function lockFile(environments: Record<string, Pins>): string {
  const lines = ['# versions.yaml: what runs where. Change it through pull requests.', 'schemaVersion: 1', 'environments:'];
  for (const [env, pins] of Object.entries(environments)) {
    lines.push(`  ${env}:`);
    for (const [component, tag] of Object.entries(pins)) {
      lines.push(`    ${component}:`, `      image: ${REGISTRY}/${component}   # repository, without tag`, `      tag: ${tag}`, `      digest: ${digestOf(component, tag)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** A kustomize overlay naming each component's image. */
export function kustomization(pins: Pins): string {
  const lines = ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources: []', 'images:'];
  for (const [component, tag] of Object.entries(pins)) {
    lines.push(`  - name: ${component}`, `    newName: ${REGISTRY}/${component}`, `    newTag: ${tag}`, `    digest: ${digestOf(component, tag)}`);
  }
  return lines.join('\n') + '\n';
}

export function gitopsFiles(environments: Record<string, Pins>): Record<string, string> {
  const files: Record<string, string> = { 'versions.yaml': lockFile(environments) };
  for (const [env, pins] of Object.entries(environments)) files[`environments/${env}/kustomization.yaml`] = kustomization(pins);
  return files;
}

export const BASE_PINS: Pins = { heuristic: 'v1.4.1', 'http-connector': 'v2.0.0', 'edge-agent': 'v0.9.3' };

/**
 * A fresh clone of the repository's main branch, as the pipeline's checkout step leaves it: shallow
 * (`fetchDepth: 1`, the default of new pipelines) and on a detached HEAD.
 */
export async function workingCopy(ado: AdoServer, project: string, repo: string, token: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gitops-wc-'));
  await new Git(os.tmpdir()).run(['clone', '--quiet', '--depth', '1', '--no-single-branch', ado.remoteUrl(project, repo), dir], { env: remoteEnv({ token }).env });
  await new Git(dir).run(['checkout', '--quiet', '--detach']);
  return dir;
}

/**
 * What UpdateGitOpsVersions does to the working copy for `env`: rewrites the lock entries and the
 * overlay of the changed components. Returns the `changes` JSON it would output.
 */
export async function applyBump(dir: string, env: string, bumps: Pins): Promise<string> {
  const lockPath = path.join(dir, 'versions.yaml');
  let lock = await fs.readFile(lockPath, 'utf8');
  const overlayPath = path.join(dir, 'environments', env, 'kustomization.yaml');
  let overlay = await fs.readFile(overlayPath, 'utf8');
  const changes = [];
  for (const [component, tag] of Object.entries(bumps)) {
    const section = new RegExp(`(\\n  ${env}:\\n(?:    .*\\n|      .*\\n)*?    ${component}:\\n      image: .*\\n      tag: )(\\S+)(\\n      digest: )(\\S+)`);
    const match = section.exec(lock);
    if (!match) throw new Error(`no ${component} in ${env}`);
    changes.push({ component, from: `${REGISTRY}/${component}:${match[2]}@${match[4]}`, to: `${REGISTRY}/${component}:${tag}@${digestOf(component, tag)}`, bump: 'minor', files: ['versions.yaml'] });
    lock = lock.replace(section, `$1${tag}$3${digestOf(component, tag)}`);
    overlay = overlay.replace(new RegExp(`(- name: ${component}\\n    newName: .*\\n    newTag: )\\S+(\\n    digest: )\\S+`), `$1${tag}$2${digestOf(component, tag)}`);
  }
  await fs.writeFile(lockPath, lock);
  await fs.writeFile(overlayPath, overlay);
  return JSON.stringify(changes);
}
