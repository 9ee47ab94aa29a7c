import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { UserError } from '../errors';
import { withRetry, TransientError, type RetryOptions } from '../retry';
import type { Git } from './git';
import type { RunResult } from '../process';

/** Whether a failed git network command is worth running again (HTTP 429/5xx, a dropped connection). */
export function isTransientGitFailure(stderr: string): boolean {
  return /returned error: (429|5\d\d)|RPC failed|Connection reset|timed out|unexpected disconnect|early EOF/i.test(stderr);
}

/** Runs a git network command, again after a transient failure (up to `attempts` times in all). */
async function networked(run: () => Promise<RunResult>, retry: RetryOptions = {}): Promise<RunResult> {
  let last: RunResult | undefined;
  try {
    return await withRetry(async () => {
      last = await run();
      if (last.code !== 0 && isTransientGitFailure(last.stderr)) throw new TransientError(last.stderr);
      return last;
    }, { attempts: 3, baseMs: 500, ...retry });
  } catch (error) {
    if (error instanceof TransientError && last) return last;
    throw error;
  }
}

/** A tag as one side (local repository or remote) holds it. */
export interface TagRef {
  /** What refs/tags/<name> points to: a tag object for annotated tags, else the commit. */
  object: string;
  /** The commit it peels to. */
  commit: string;
}

/** A remote URL fit for messages: any user:password@ part is dropped. */
export function safeUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}

/** Every tag of the local repository, by tag name, peeled to its commit. */
export async function localTags(git: Git): Promise<Map<string, TagRef>> {
  const out = await git.text(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(*objectname)', 'refs/tags']);
  const tags = new Map<string, TagRef>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [ref, object, peeled] = line.split('\0');
    tags.set(ref.slice('refs/tags/'.length), { object, commit: peeled || object });
  }
  return tags;
}

/** The configured URL of `remote`; a UserError when the repository has no such remote. */
export async function remoteUrl(git: Git, remote: string): Promise<string> {
  const result = await git.run(['remote', 'get-url', '--', remote], { allowFailure: true });
  if (result.code !== 0) {
    const known = (await git.text(['remote'])).split('\n').filter(Boolean);
    throw new UserError(
      `The repository at ${git.dir} has no remote '${remote}' (it has: ${known.join(', ') || 'none'}): set the remote input, or push: false to tag locally only.`,
    );
  }
  return result.stdout.trim();
}

/** What a failed git network command said, as a user can act on it. */
export function remoteFailure(action: string, remote: string, url: string, output: string, secret?: string): UserError {
  const stderr = secret ? output.split(secret).join('***') : output;
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  // What the server and git said (`remote:` lines carry a server's reason, e.g. Azure Repos' TF401027), else the tail.
  const said = lines.filter((line) => /^(remote:|fatal:|error:|rejected )/.test(line) && !/^error: failed to push some refs/.test(line));
  const detail = (said.length ? said : lines.slice(-3)).slice(-6).join(' | ');
  // Refused credentials show as "Authentication failed", or (a 401 that makes git want a username) "could not read Username".
  const refused = /Authentication failed|could not read (Username|Password)/i.test(stderr);
  const status = /returned error: (\d{3})/.exec(stderr)?.[1] ?? (refused ? '401' : undefined);
  if (status === '401') {
    return new UserError(
      `Could not ${action} remote '${remote}' (${safeUrl(url)}): the job's access token was refused (HTTP 401). ` +
        `Check that the job can use System.AccessToken (the SystemVssConnection) and that the token belongs to this organisation.`,
    );
  }
  if (status === '403') {
    return new UserError(
      `Could not ${action} remote '${remote}' (${safeUrl(url)}): access denied (HTTP 403). ` +
        `Give the project's build service identity the "Contribute" and "Create tag" permissions on the repository (and "Force push" to move tags).`,
    );
  }
  const hint = /permission|TF401027|TF401028/i.test(stderr)
    ? ` Give the project's build service identity the "Contribute" and "Create tag" permissions on the repository (and "Force push" to move tags).`
    : '';
  return new UserError(`Could not ${action} remote '${remote}' (${safeUrl(url)}): ${detail}.${hint}`);
}

/** Every tag of `remote`, by tag name, peeled to its commit (read with `git ls-remote`; writes nothing). */
export async function remoteTags(git: Git, remote: string, url: string, secret?: string, retry?: RetryOptions): Promise<Map<string, TagRef>> {
  const result = await networked(() => git.run(['ls-remote', '--tags', '--', remote], { allowFailure: true }), retry);
  if (result.code !== 0) throw remoteFailure('read the tags of', remote, url, result.stderr, secret);
  const tags = new Map<string, TagRef>();
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const [sha, ref] = line.split('\t');
    if (!ref?.startsWith('refs/tags/')) continue;
    const peeled = ref.endsWith('^{}');
    const name = ref.slice('refs/tags/'.length, peeled ? -3 : undefined);
    const known = tags.get(name);
    if (peeled) tags.set(name, { object: known?.object ?? sha, commit: sha });
    else tags.set(name, { object: sha, commit: known && known.commit !== known.object ? known.commit : sha });
  }
  return tags;
}

/** Paths (relative to the working copy's top) among `paths` that differ from HEAD: modified, staged, or untracked. */
export async function uncommitted(git: Git, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const out = (await git.run(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...paths])).stdout;
  return out
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}

/** The committer identity git would use, or undefined when it has none configured. */
export async function configuredIdentity(git: Git): Promise<{ name?: string; email?: string }> {
  const get = async (key: string) => {
    const result = await git.run(['config', '--get', key], { allowFailure: true });
    return result.code === 0 && result.stdout.trim() ? result.stdout.trim() : undefined;
  };
  return {
    name: process.env.GIT_COMMITTER_NAME || (await get('user.name')),
    email: process.env.GIT_COMMITTER_EMAIL || (await get('user.email')),
  };
}

export interface PushRef {
  tag: string;
  /** Replace a tag the remote holds on another commit. */
  force: boolean;
}

/** Per-ref outcome of `git push --porcelain`: tag name -> accepted. */
function porcelainResults(stdout: string): Map<string, { ok: boolean; summary: string }> {
  const results = new Map<string, { ok: boolean; summary: string }>();
  for (const line of stdout.split('\n')) {
    const match = /^([ +\-*=!])\t([^:]*):refs\/tags\/(\S+)\t(.*)$/.exec(line);
    if (match) results.set(match[3], { ok: match[1] !== '!', summary: match[4] });
  }
  return results;
}

export interface PushResult {
  ok: boolean;
  /** Tags the remote accepted (or already had). */
  accepted: Set<string>;
  stderr: string;
}

/**
 * Pushes every ref in ONE `git push` (`refs/tags/x:refs/tags/x`, `+` only where `force`), atomically
 * when the remote supports it, so that either all tags land or none do. A transient failure (HTTP 429/5xx,
 * a dropped connection) is retried with the same refspecs.
 */
export async function pushTags(git: Git, remote: string, refs: PushRef[], retry?: RetryOptions): Promise<PushResult> {
  const refspecs = refs.map((ref) => `${ref.force ? '+' : ''}refs/tags/${ref.tag}:refs/tags/${ref.tag}`);
  // Pushing the same refspecs again is safe: tags that already landed are reported up to date.
  const attempt = (atomic: boolean) =>
    networked(() => git.run(['push', '--porcelain', ...(atomic ? ['--atomic'] : []), '--', remote, ...refspecs], { allowFailure: true }), retry);
  let result = await attempt(true);
  // A server without atomic push refuses before any pack is sent: pushing again is still one push.
  if (result.code !== 0 && /does not support --atomic/i.test(result.stderr)) result = await attempt(false);
  const perRef = porcelainResults(result.stdout);
  const accepted = new Set([...perRef].filter(([, r]) => r.ok).map(([tag]) => tag));
  // --porcelain reports each ref's fate on stdout: keep the reasons of the refused ones with stderr.
  const reasons = [...perRef].filter(([, r]) => !r.ok).map(([tag, r]) => `rejected ${tag}: ${r.summary}`);
  return {
    ok: result.code === 0,
    accepted: result.code === 0 ? new Set(refs.map((r) => r.tag)) : accepted,
    stderr: [result.stderr.trim(), ...reasons].filter(Boolean).join('\n'),
  };
}

/**
 * A tag message as `git tag -m` stores it (its default `--cleanup=strip`): comment lines dropped,
 * trailing whitespace cut, blank lines at either end removed and runs of them collapsed, one final newline.
 */
export function cleanTagMessage(message: string, commentChar = '#'): string {
  const lines: string[] = [];
  let blank = false;
  for (const raw of message.split('\n')) {
    if (commentChar && raw.startsWith(commentChar)) continue;
    const line = raw.replace(/[ \t\n\v\f\r]+$/, '');
    if (!line) {
      blank = true;
      continue;
    }
    if (blank && lines.length) lines.push('');
    blank = false;
    lines.push(line);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

export interface TagWrite {
  tag: string;
  /** Message of an annotated tag. */
  message: string;
  /** What refs/tags/<tag> holds locally now (replaced), or undefined when it does not exist (created). */
  previous?: TagRef;
}

/**
 * Points every tag of `writes` at `commit` in a fixed number of git processes, whatever their count
 * (for 1,000 tags, one `git tag` each took seconds): annotated tag objects, made as `git tag -a -m`
 * makes them (tagger: `git var GIT_COMMITTER_IDENT`, honouring `env`), go in one pack to `git index-pack`,
 * then every ref set in ONE `git update-ref --stdin` transaction: all tags are written or none, a tag
 * that appeared meanwhile is refused (`create`) and a replaced one must still be what was read (`update`
 * with its old value). Where git is configured to sign tags (tag.gpgSign), each is made by `git tag -s`.
 */
export async function writeTags(git: Git, commit: string, writes: TagWrite[], options: { annotated: boolean; env?: Record<string, string> }): Promise<void> {
  if (writes.length === 0) return;
  const env = options.env ?? {};
  let objects = writes.map(() => commit);
  if (options.annotated) {
    const config = await gitConfig(git, ['tag.gpgsign', 'core.commentchar']);
    if (/^(true|yes|on|1)$/i.test(config.get('tag.gpgsign') ?? '')) {
      // Signing needs git tag (and the user's gpg): one process per tag, as git itself would do.
      const done: TagWrite[] = [];
      try {
        for (const write of writes) {
          await git.run(['tag', ...(write.previous ? ['-f'] : []), '-a', '-m', write.message, '--', write.tag, commit], { env });
          done.push(write);
        }
      } catch (error) {
        await resetTags(git, done.map((write) => ({ tag: write.tag, object: write.previous?.object })));
        throw error;
      }
      return;
    }
    const commentChar = config.get('core.commentchar');
    const tagger = await git.text(['var', 'GIT_COMMITTER_IDENT'], { env });
    const bodies = writes.map((write) =>
      Buffer.from(
        `object ${commit}\ntype commit\ntag ${write.tag}\ntagger ${tagger}\n\n${cleanTagMessage(write.message, commentChar === 'auto' ? '#' : (commentChar ?? '#'))}`,
      ),
    );
    // A SHA-256 repository names its commits with 64 hex digits.
    const hash = commit.length === 64 ? 'sha256' : 'sha1';
    objects = bodies.map((body) => createHash(hash).update(`tag ${body.length}\0`).update(body).digest('hex'));
    // --strict: git checks every tag object (fsck) and that the commit exists before the pack is kept.
    await git.run(['index-pack', '--stdin', '--strict'], { input: packOf(bodies, hash) });
  }
  const commands = writes.map((write, i) =>
    write.previous ? `update refs/tags/${write.tag}\0${objects[i]}\0${write.previous.object}` : `create refs/tags/${write.tag}\0${objects[i]}`,
  );
  await git.run(['update-ref', '-z', '--stdin'], { input: commands.join('\0') + '\0' });
}

/** A version 2 packfile of tag objects (type 4), as `git index-pack --stdin` reads it: one write for any number of tags. */
function packOf(bodies: Buffer[], hash: 'sha1' | 'sha256'): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(bodies.length, 8);
  const parts = [header];
  for (const body of bodies) {
    // Type and size: 3 type bits and 4 size bits, then 7 size bits a byte, low first; the high bit says more follow.
    let rest = Math.floor(body.length / 16);
    const head = [(4 << 4) | (body.length % 16)];
    while (rest > 0) {
      head[head.length - 1] |= 0x80;
      head.push(rest % 128);
      rest = Math.floor(rest / 128);
    }
    parts.push(Buffer.from(head), deflateSync(body));
  }
  const pack = Buffer.concat(parts);
  return Buffer.concat([pack, createHash(hash).update(pack).digest()]);
}

/** Puts each ref back to `object`, or deletes it (undefined), in one transaction; false when git refused. */
export async function resetTags(git: Git, refs: Array<{ tag: string; object?: string }>): Promise<boolean> {
  if (refs.length === 0) return true;
  const commands = refs.map((ref) => (ref.object ? `update refs/tags/${ref.tag}\0${ref.object}\0` : `delete refs/tags/${ref.tag}\0`));
  const result = await git.run(['update-ref', '-z', '--stdin'], { input: commands.join('\0') + '\0', allowFailure: true });
  return result.code === 0;
}

/** The values of `keys` (lowercase) that are set in git's configuration, read in one process. */
async function gitConfig(git: Git, keys: string[]): Promise<Map<string, string>> {
  const pattern = `^(${keys.map((key) => key.replace(/\./g, '\\.')).join('|')})$`;
  const result = await git.run(['config', '-z', '--get-regexp', pattern], { allowFailure: true });
  const values = new Map<string, string>();
  for (const entry of result.stdout.split('\0').filter(Boolean)) {
    const newline = entry.indexOf('\n');
    values.set((newline < 0 ? entry : entry.slice(0, newline)).toLowerCase(), newline < 0 ? 'true' : entry.slice(newline + 1));
  }
  return values;
}
