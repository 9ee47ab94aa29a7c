import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../agent';
import { discoverCargo, type Discovery } from '../cargo/discover';
import type { Component } from '../cargo/component';
import type { SkippedManifest } from '../cargo/problems';
import { selectComponents } from '../cargo/select';
import { formatError, shown, UserError } from '../errors';
import { Git, isPlainRefName } from '../git/git';
import { localTags, makeTagObjects, resetTags, setTagRefs, type TagRef } from '../git/local-tags';
import { configuredRemoteUrl, Remote, safeUrl, type FailureHints } from '../git/remote';
import { pushTags, remoteTags } from '../git/remote-tags';
import { identityEnv, uncommitted } from '../git/working-copy';
import { fillTemplate } from '../template';
import type { RetryOptions } from '../retry';
import { gitTag, tagValues } from '../git/tag-name';
import type { NetworkSettings } from '../net/network';

export type OnExisting = 'skip' | 'fail' | 'move';
export const ON_EXISTING: readonly OnExisting[] = ['skip', 'fail', 'move'];

export interface TagComponentsOptions {
  /** Directory searched for Cargo packages; must be inside a git working copy. */
  componentsPath: string;
  /** The `components` input: names or globs, `!` excludes; empty selects every component. */
  components?: string | string[];
  /** Folders (globs relative to componentsPath) not searched for Cargo.toml files. */
  excludePaths?: string[];
  /** Default `{name}/{version}`; `{dir}` is the component's folder name (`{dir}/{version}`: the original scripts' tags). */
  tagFormat?: string;
  /** Default true. */
  annotated?: boolean;
  /** Annotated tag message; `{name}`, `{version}`, `{dir}`, `{tag}` and `{path}` are filled. Default `{name} {version}`. */
  message?: string;
  /** What to do with a tag that already exists on another commit. Default `skip`. */
  onExisting?: OnExisting | string;
  /** Default true. */
  push?: boolean;
  /** Default `origin`. */
  remote?: string;
  dryRun?: boolean;
  /** Why this run only plans (e.g. a pull request build), said in the log and the summary; the run is a dry run. */
  dryRunReason?: string;
  /** Bearer token for the remote, handed to git only through its environment. */
  token?: string;
  /** The agent's proxy and CA file (agent.network()): every request and git command goes the way they say. */
  network?: NetworkSettings;
  /** Tagger identity used when git has none configured (a bare agent). */
  identity?: { name: string; email: string };
  /** Waits between attempts of a git network command (tests make them instant). */
  retry?: RetryOptions;
  /** Scratch space for the push (the agent's temp directory); default the OS temp directory. */
  tempDir?: string;
}

/** `planned`: a tag a dry run would create (never `created`, which a dry run does not do). */
export type TagStatus = 'created' | 'planned' | 'exists' | 'moved' | 'skipped' | 'failed';

export interface TaggedComponent {
  name: string;
  version: string;
  versionSource: Component['versionSource'];
  path: string;
  tag: string;
  status: TagStatus;
}

export interface TagComponentsResult {
  components: TaggedComponent[];
  /** Tags created or moved by this run (with dryRun: that a real run would create or move). */
  tags: string[];
  /** The commit every tag points at. */
  commit: string;
  dryRun: boolean;
  /** Why the run was a dry run when the user did not ask for one (a pull request build). */
  dryRunReason?: string;
  pushed: boolean;
  /** Cargo.toml files the run went on without: no selected component needs them. */
  skippedManifests?: SkippedManifest[];
}

/**
 * A failure after the components were resolved (a tag on another commit with onExisting: fail, or a
 * refused push): `result` reports each component (`failed` where its tag was the problem) so the task
 * can still set its outputs and summary.
 */
export class TagComponentsError extends UserError {
  constructor(message: string, readonly result: TagComponentsResult) {
    super(message);
  }
}

export const DEFAULT_IDENTITY = { name: 'Azure Pipelines', email: 'pipeline@dev.azure.com' };

/** What the project's build service identity needs on the app repository. */
const PERMISSIONS = `Give the project's build service identity the "Contribute" and "Create tag" permissions on the repository (and "Force push" to move tags).`;
const HINTS: FailureHints = {
  unauthorized: 'Check that the job can use System.AccessToken (the SystemVssConnection) and that the token belongs to this organisation.',
  forbidden: PERMISSIONS,
};

interface Plan {
  component: Component;
  tag: string;
  message: string;
  status: TagStatus;
  /** The tag must be (re)written in the local repository. */
  writeLocal: boolean;
  /** The tag must be sent to the remote. */
  push: boolean;
  /** Replace an existing tag (locally with -f, remotely with +). */
  force: boolean;
  /** The local ref before this run, to restore if the push fails. */
  previousLocal?: TagRef;
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

async function workingCopy(componentsPath: string): Promise<Git> {
  const dir = path.resolve(componentsPath);
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new UserError(`componentsPath '${componentsPath}' is not a directory: point it at the checked-out app repository.`);
  }
  const probe = new Git(dir);
  const top = await probe.run(['rev-parse', '--show-toplevel'], { allowFailure: true });
  if (top.code !== 0) {
    throw new UserError(`componentsPath '${componentsPath}' is not inside a git working copy: check out the app repository first.`);
  }
  return new Git(top.stdout.trim());
}

async function discover(root: string, excludePaths: string[] | undefined, log: Log): Promise<Discovery> {
  try {
    return await discoverCargo(root, { log, excludePaths });
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`Could not read the Cargo manifests under ${root}: ${formatError(error)}`);
  }
}

/**
 * Tags each selected Cargo component at HEAD (e.g. `heuristic/1.4.2`) and pushes every new or moved
 * tag in one `git push`. Everything is validated and compared with the local repository and the
 * remote before anything is written; a tag already on HEAD is left as it is, so re-runs are no-ops.
 */
export async function tagComponents(options: TagComponentsOptions, log: Log): Promise<TagComponentsResult> {
  const onExisting = (options.onExisting || 'skip') as OnExisting;
  if (!ON_EXISTING.includes(onExisting)) {
    throw new UserError(`onExisting '${options.onExisting}' is not one of ${ON_EXISTING.join(', ')}.`);
  }
  const tagFormat = options.tagFormat || '{name}/{version}';
  const messageTemplate = options.message || '{name} {version}';
  const annotated = options.annotated ?? true;
  const push = options.push ?? true;
  const remote = options.remote || 'origin';
  const dryRunReason = options.dryRunReason;
  const dryRun = (options.dryRun ?? false) || !!dryRunReason;
  if (dryRunReason) log.info(`Dry run: ${dryRunReason}.`);

  // 1. Read and validate everything: working copy, components, tags, messages, remote state.
  const local = await workingCopy(options.componentsPath);
  const root = path.resolve(options.componentsPath);
  const { selected, skipped } = selectComponents(await discover(root, options.excludePaths, log), options.components, log);
  if (selected.length === 0) {
    throw new UserError(`The components input ${shown(String(options.components))} excludes every component: nothing to tag.`);
  }
  // A tag names the version in HEAD's Cargo.toml: a manifest changed since would make it lie.
  const manifests = [...new Set(selected.flatMap((c) => [c.manifestPath, path.join(c.workspaceRoot, 'Cargo.toml')]))];
  const dirty = await uncommitted(local, manifests);
  if (dirty.length) {
    const what = dirty.length > 1 ? `These Cargo manifests differ from HEAD: ${dirty.join(', ')}` : 'This Cargo manifest differs from HEAD';
    throw new UserError(
      `${what} (modified, staged or untracked), so the tags would name versions the tagged commit does not have. Commit the change first, or tag before making it.`,
      { file: dirty[0] },
    );
  }
  const tags = new Map<string, Component>();
  const planned: { component: Component; tag: string; message: string }[] = [];
  for (const component of selected) {
    // A plainly valid name needs no git process; anything else (an unknown `{placeholder}` left in it,
    // unusual characters) goes through gitTag, which asks `git check-ref-format` and explains a refusal.
    const values = tagValues(component, root);
    const filled = fillTemplate('tagFormat', tagFormat, values);
    const tag = isPlainRefName(filled) ? filled : await gitTag(tagFormat, values);
    const other = tags.get(tag);
    if (other) {
      throw new UserError(
        `tagFormat '${tagFormat}' gives the same tag '${tag}' to ${other.name} (${other.manifestPath}) and ${component.name} (${component.manifestPath}): include {name}.`,
      );
    }
    tags.set(tag, component);
    const message = fillTemplate('message', messageTemplate, { ...values, tag, path: component.path });
    planned.push({ component, tag, message });
  }

  const head = await local.resolve('HEAD');
  if (!head) throw new UserError(`The repository at ${local.dir} has no commit checked out (HEAD does not resolve): nothing to tag.`);

  let origin: Remote | undefined;
  let remoteState = new Map<string, TagRef>();
  if (push) {
    const url = safeUrl(await configuredRemoteUrl(local, remote));
    origin = new Remote(local, remote, { settings: { token: options.token, ...options.network }, label: `remote '${remote}' (${url})`, hints: HINTS, retry: options.retry, log });
    log.debug(`Reading the tags of ${remote} (${url})`);
    remoteState = await remoteTags(origin);
  }
  const localState = await localTags(local);

  // 2. Decide, per component, what to do. Nothing has been written yet.
  const plans: Plan[] = [];
  const conflicts: string[] = [];
  for (const { component, tag, message } of planned) {
    const here = localState.get(tag);
    const there = push ? remoteState.get(tag) : undefined;
    const elsewhere = [
      here && here.commit !== head ? `locally on ${short(here.commit)}` : undefined,
      there && there.commit !== head ? `on ${remote} on ${short(there.commit)}` : undefined,
    ].filter((s): s is string => !!s);
    const plan: Plan = { component, tag, message, status: 'exists', writeLocal: false, push: false, force: false, previousLocal: here };
    if (elsewhere.length === 0) {
      // Missing, or already on HEAD: create what is missing, leave what is there.
      plan.writeLocal = !here && (!push || !there);
      plan.push = push && !there;
      plan.status = plan.writeLocal || plan.push ? (dryRun ? 'planned' : 'created') : 'exists';
    } else if (onExisting === 'skip') {
      plan.status = 'skipped';
      log.warn(`Tag '${tag}' already exists ${elsewhere.join(' and ')}, not on HEAD ${short(head)}: left as it is (onExisting: skip).`);
    } else if (onExisting === 'fail') {
      plan.status = 'failed';
      conflicts.push(`'${tag}' exists ${elsewhere.join(' and ')}`);
    } else {
      plan.status = 'moved';
      plan.writeLocal = true;
      plan.force = true;
      plan.push = push && there?.commit !== head;
    }
    plans.push(plan);
  }
  const report = (status: (p: Plan) => TagStatus): TagComponentsResult => {
    const components = plans.map<TaggedComponent>((p) => ({
      name: p.component.name,
      version: p.component.version,
      versionSource: p.component.versionSource,
      path: p.component.path,
      tag: p.tag,
      status: status(p),
    }));
    const tags = components.filter((c) => c.status === 'created' || c.status === 'planned' || c.status === 'moved').map((c) => c.tag);
    return { components, tags, commit: head, dryRun, ...(dryRunReason ? { dryRunReason } : {}), pushed: false, skippedManifests: skipped };
  };
  if (conflicts.length) {
    throw new TagComponentsError(
      `${conflicts.length} tag(s) already exist on another commit than HEAD ${short(head)}: ${conflicts.join('; ')}. ` +
        `Nothing was tagged. Bump the component versions, or set onExisting to skip or move.`,
      // Nothing is written: the tags this run would have made are reported as skipped.
      report((p) => (p.status === 'created' || p.status === 'planned' || p.status === 'moved' ? 'skipped' : p.status)),
    );
  }
  const result = report((p) => p.status);
  for (const p of plans) {
    const verb = { created: 'create', planned: 'create', moved: 'move', exists: 'keep', skipped: 'skip', failed: 'fail' }[p.status];
    log.info(`${dryRun ? '[dry run] would ' : ''}${verb} ${p.tag} (${p.component.name} ${p.component.version}, ${p.component.path})${p.status === 'exists' ? ': already on HEAD' : ''}`);
  }
  if (dryRun) return result;

  // 3. Make the tag objects, then write the local tags (one transaction: all or none) while pushing every
  // new or moved tag in one push; undo the local writes if the push fails. Both are mostly file-system work
  // (a loose ref file per tag, here and on the server), so they go at once.
  const written = plans.filter((p) => p.writeLocal);
  let tagEnv: Record<string, string> = {};
  if (annotated && written.length) {
    const fallback = options.identity ?? DEFAULT_IDENTITY;
    tagEnv = await identityEnv(local, fallback);
    if (tagEnv.GIT_COMMITTER_NAME || tagEnv.GIT_COMMITTER_EMAIL) log.debug(`git has no committer identity: tagging as ${fallback.name} <${fallback.email}>`);
  }
  const writes = written.map((p) => ({ tag: p.tag, message: p.message, previous: p.previousLocal }));
  const { objects, refsWritten } = await makeTagObjects(local, head, writes, { annotated, env: tagEnv });
  const object = new Map(written.map((p, i) => [p.tag, objects[i]]));
  const toPush = origin ? plans.filter((p) => p.push) : [];
  if (origin && toPush.length) log.info(`Pushing ${toPush.length} tag(s) to ${origin.label} in one push`);
  const [localWrite, pushing] = await Promise.allSettled([
    refsWritten ? undefined : setTagRefs(local, writes, objects),
    origin && toPush.length ? pushTags(origin, toPush.map((p) => ({ tag: p.tag, object: object.get(p.tag) ?? p.previousLocal!.object, force: p.force })), options.tempDir) : undefined,
  ]);
  // A push that failed, or never ran (a git process that could not start): the local tags it did not land are undone.
  const undo = async (accepted: Set<string>) => {
    if (localWrite.status === 'fulfilled') await restore(local, written.filter((p) => !accepted.has(p.tag)), log);
  };
  if (pushing.status === 'rejected') {
    await undo(new Set());
    throw pushing.reason;
  }
  const pushed = pushing.value;
  if (pushed && !pushed.ok) {
    // Atomic: nothing landed. (A server without atomic push may have taken some tags: those stay, locally and remotely.)
    await undo(pushed.accepted);
    const rejected = toPush.filter((p) => !pushed.accepted.has(p.tag)).map((p) => p.tag);
    const failed = new Set([...rejected, ...written.filter((p) => !pushed.accepted.has(p.tag)).map((p) => p.tag)]);
    const error = origin!.failure('push tags to', pushed.stderr);
    throw new TagComponentsError(
      `${error.message} Not pushed: ${rejected.join(', ')}; the local tags this run created for them were removed, so a re-run starts clean.`,
      report((p) => (failed.has(p.tag) ? 'failed' : p.status)),
    );
  }
  if (localWrite.status === 'rejected') {
    if (!pushed) throw localWrite.reason;
    // The remote holds every tag; only this working copy lacks them (a tag written here meanwhile, a full disk).
    throw new TagComponentsError(
      `The tags were pushed to ${origin!.label}, but writing them in the local repository failed: ${formatError(localWrite.reason).replace(/\.$/, '')}. ` +
        `The remote holds them; fetch them (git fetch --tags) where this working copy needs them.`,
      { ...result, pushed: true },
    );
  }
  result.pushed = !!pushed;
  return result;
}

/** Puts back the local tags of `plans` as they were before this run (deleting those it created). */
async function restore(git: Git, plans: Plan[], log: Log): Promise<void> {
  if (await resetTags(git, plans.map((p) => ({ tag: p.tag, object: p.previousLocal?.object })))) return;
  // One ref could not be put back: restore the others one by one, saying which failed.
  for (const p of plans) {
    const ref = `refs/tags/${p.tag}`;
    const args = p.previousLocal ? ['update-ref', ref, p.previousLocal.object] : ['update-ref', '-d', ref];
    const result = await git.run(args, { allowFailure: true });
    if (result.code !== 0) log.warn(`Could not restore local tag '${p.tag}': ${result.stderr.trim()}`);
  }
}
