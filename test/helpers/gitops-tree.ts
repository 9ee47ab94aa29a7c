import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import { updateGitOps, type UpdateGitOpsOptions } from '../../shared/flows/update-gitops';
import { repoRoot } from './run-task';

const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'gitops');

export function testLog(): Log & { warnings: string[]; lines: string[] } {
  const warnings: string[] = [];
  const lines: string[] = [];
  return {
    warnings,
    lines,
    debug: (m) => lines.push(m),
    info: (m) => lines.push(m),
    warn: (m) => warnings.push(m),
    setSecret: () => undefined,
  };
}

/** A copy of a fixture GitOps tree (`tree`, or `layouts/<name>`) with `{{REGISTRY}}` (and any `{{NAME}}` of `values`) filled in. */
export async function gitopsTree(registry: string, fixture = 'tree', values: Record<string, string> = {}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gitops-'));
  async function copy(from: string, to: string): Promise<void> {
    await fs.mkdir(to, { recursive: true });
    for (const entry of await fs.readdir(from, { withFileTypes: true })) {
      if (entry.isDirectory()) await copy(path.join(from, entry.name), path.join(to, entry.name));
      else await fs.writeFile(path.join(to, entry.name), (await fs.readFile(path.join(from, entry.name), 'utf8')).replace(/\{\{(\w+)\}\}/g, (whole, name: string) => (name === 'REGISTRY' ? registry : (values[name] ?? whole))));
    }
  }
  await copy(path.join(FIXTURES, fixture), dir);
  return dir;
}

/** Every file's bytes and mtime, to prove nothing was written. */
export async function snapshot(dir: string): Promise<Map<string, { bytes: string; mtime: number }>> {
  const out = new Map<string, { bytes: string; mtime: number }>();
  async function walk(current: string): Promise<void> {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const stat = await fs.lstat(full);
        if (stat.isSymbolicLink()) {
          out.set(path.relative(dir, full), { bytes: await fs.readlink(full), mtime: stat.mtimeMs });
          continue;
        }
        out.set(path.relative(dir, full), { bytes: (await fs.readFile(full)).toString('base64'), mtime: stat.mtimeMs });
      }
    }
  }
  await walk(dir);
  return out;
}


/**
 * Runs updateGitOps expecting the failure a user can act on: a UserError naming `file` (and `line`), with
 * `message`, and no file of `dir` changed, the lock included.
 */
export async function refuses(dir: string, options: UpdateGitOpsOptions, file: string, line: number | undefined, message: RegExp): Promise<void> {
  const before = await snapshot(dir);
  await assert.rejects(updateGitOps(options, testLog()), (error: unknown) => {
    assert.ok(error instanceof UserError, String(error));
    assert.equal(error.where?.file, file);
    assert.equal(error.where?.line, line);
    assert.match(error.message, message);
    return true;
  });
  assert.deepEqual(await snapshot(dir), before);
}
