import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../agent';
import { Git } from '../git/git';
import { lockDiff, shortImage, type EnvChange } from './changes';
import { parseCommitMessage } from './commit-message';
import type { Reapply } from './reapply';

/**
 * This run's commit: the working copy's edit committed through a private index, or the change applied
 * again on a newer branch tip in a scratch worktree; and what a branch carries into its target. Nothing
 * is written to the working copy.
 */

/** A file as `commit` holds it, or undefined when it has no such file. */
export async function showFile(git: Git, commit: string, file: string): Promise<string | undefined> {
  const result = await git.run(['show', `${commit}:./${file}`], { allowFailure: true });
  return result.code === 0 ? result.stdout : undefined;
}

/** Commits the working tree's lock and manifests on top of HEAD, through a private index: the working copy is left as it is. */
export async function commitWorkingTree(git: Git, head: string, paths: string[], message: string, identity: Record<string, string>, scratch: string): Promise<string> {
  const env = { ...identity, GIT_INDEX_FILE: path.join(scratch, 'index') };
  await git.run(['read-tree', head], { env });
  await addAll(git, paths, env);
  const tree = await git.text(['write-tree'], { env });
  if (tree === (await git.text(['rev-parse', `${head}^{tree}`]))) return head;
  return git.text(['commit-tree', tree, '-p', head, '-F', '-'], { env, input: message });
}

/** `git add --all` of the lock and manifests that exist on disk or in the index (a missing one is not an error). */
async function addAll(git: Git, paths: string[], env: Record<string, string>): Promise<void> {
  const present: string[] = [];
  for (const p of paths.slice(1)) {
    const onDisk = await fs.stat(path.join(git.dir, p)).then(() => true, () => false);
    if (onDisk || (await git.text(['ls-files', '--', p], { env }))) present.push(p);
  }
  if (present.length) await git.run(['add', '--all', '--', ...present], { env });
}

interface ChangeContext {
  /** gitopsPath relative to the repository's top ('' or 'sub/dir/'). */
  prefix: string;
  environment: string;
  lockFile: string;
  manifestsPath: string;
  inventoryFile?: string;
  changes: EnvChange[];
  paths: string[];
  message: string;
  identity: Record<string, string>;
  scratch: string;
  reapply: Reapply;
  log: Log;
  /** `imageNames` lines: lock entries kept under an image's name. */
  imageNames?: string[];
}

/**
 * This run's change as a commit on `base`: the working-tree commit itself when it was made on `base`,
 * else the change applied again to `base`'s files in a scratch worktree. Returns `base` when `base`
 * already holds it.
 */
export async function changeOn(git: Git, base: string, head: string, working: string, context: ChangeContext): Promise<string> {
  if (base === head) return working;
  const dir = path.join(context.scratch, `apply-${base.slice(0, 12)}-${Date.now()}`);
  await git.run(['worktree', 'add', '--detach', '--quiet', dir, base]);
  try {
    // The same folder of the repository as the working copy's gitopsPath (which may be a subfolder).
    const folder = path.join(dir, context.prefix);
    const tree = new Git(folder);
    await context.reapply({
      dir: folder,
      git: tree,
      base,
      head,
      working,
      environment: context.environment,
      lockFile: context.lockFile,
      manifestsPath: context.manifestsPath,
      inventoryFile: context.inventoryFile,
      changes: context.changes,
      log: context.log,
      imageNames: context.imageNames,
    });
    const env = context.identity;
    await addAll(tree, context.paths, env);
    const written = await tree.text(['write-tree'], { env });
    if (written === (await tree.text(['rev-parse', `${base}^{tree}`]))) return base;
    return await tree.text(['commit-tree', written, '-p', base, '-F', '-'], { env, input: context.message });
  } finally {
    await git.run(['worktree', 'remove', '--force', dir], { allowFailure: true });
  }
}

/** The changes the branch carries into the target (lock diff), with bumps and producing builds from the commits. */
export async function branchChanges(git: Git, target: string, tip: string, environment: string, lockFile: string, runChanges: EnvChange[], imageNames?: string[]): Promise<EnvChange[]> {
  const diff = lockDiff(await showFile(git, target, lockFile), await showFile(git, tip, lockFile), environment, lockFile, imageNames);
  if (!diff.length) return [];
  const log = await git.text(['log', '--format=%B%x00', `${target}..${tip}`]);
  const records = log.split('\0').map((body) => body.trim()).filter(Boolean).map(parseCommitMessage);
  return diff.map((change) => {
    const own = runChanges.find((c) => c.component === change.component && shortImage(c.to) === shortImage(change.to));
    if (own) return { ...change, bump: own.bump ?? change.bump, files: own.files, build: own.build, ...(own.rollback ? { rollback: true } : {}) };
    // The newest commit that records this change names its build.
    const record = records.find((r) => r.changes.some((c) => c.component === change.component && c.to === change.to));
    return record?.build ? { ...change, build: record.build } : change;
  });
}
