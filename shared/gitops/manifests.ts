import { promises as fs, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { decodeUtf8 } from '../files';

/** A YAML file under the manifests path: where it is read from and written to, and how to name it. */
export interface ManifestFile {
  /** Real path (symlinks resolved) that is read and replaced. */
  real: string;
  /** Path relative to the GitOps repository, with '/', for messages and outputs. */
  relative: string;
}

const YAML_FILE = /(\.ya?ml|^Kustomization)$/;

/**
 * Every YAML file under `dir`, in a stable order. Symlinks are followed only when they stay inside
 * `root`; one that leads outside is refused. Hidden directories (.git) are never entered, nor the
 * `templates/` of a Helm chart (a folder with Chart.yaml): templates are not YAML until Helm renders
 * them; the chart's values files are read like any other.
 */
export async function listManifests(root: string, dir: string): Promise<ManifestFile[]> {
  const realRoot = await fs.realpath(root);
  const seen = new Set<string>();
  const files: ManifestFile[] = [];
  const relative = (p: string) => path.relative(realRoot, p).split(path.sep).join('/');
  const inside = (p: string) => {
    const rel = path.relative(realRoot, p);
    return !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  async function walk(current: string, shown: string): Promise<void> {
    const entries = readdirSync(current, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const chart = entries.some((e) => e.name === 'Chart.yaml' && !e.isDirectory());
    for (const entry of entries) {
      if (entry.name.startsWith('.') || (chart && entry.name === 'templates')) continue;
      const full = path.join(current, entry.name);
      const named = `${shown}/${entry.name}`;
      let real = full;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          real = await fs.realpath(full);
        } catch {
          throw new UserError(`${named} is a broken symbolic link: fix or remove it.`, { file: named });
        }
        if (!inside(real)) {
          throw new UserError(`${named} is a symbolic link to ${real}, outside the GitOps repository: this task edits only files inside it.`, { file: named });
        }
        const stat = await fs.stat(real);
        isDir = stat.isDirectory();
        isFile = stat.isFile();
      }
      if (seen.has(real)) continue;
      seen.add(real);
      if (isDir) await walk(real, named);
      else if (isFile && YAML_FILE.test(entry.name)) files.push({ real, relative: relative(real) });
    }
  }
  const realDir = await fs.realpath(dir);
  await walk(realDir, relative(realDir));
  return files;
}

/**
 * Largest YAML file read. Kubernetes objects are limited to about 1.5 MB (etcd), and the YAML parser
 * needs hundreds of bytes of memory and microseconds per node: a 20 MB file of one-character items
 * would exhaust the agent's memory instead of failing with a message.
 */
export const MAX_YAML_BYTES = 4 * 1024 * 1024;

/** A lock or manifest file's text: UTF-8 (a BOM kept, as the file is rewritten byte for byte), at most MAX_YAML_BYTES. */
export function yamlText(bytes: Buffer, shown: string): string {
  if (bytes.length > MAX_YAML_BYTES) {
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    throw new UserError(`${shown} is ${mb(bytes.length)}, more than the ${mb(MAX_YAML_BYTES)} this task reads (a Kubernetes object cannot exceed 1.5 MB): split it, or keep it out of manifestsPath.`, { file: shown });
  }
  return decodeUtf8(bytes, shown, { keepBom: true });
}
