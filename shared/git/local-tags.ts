import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { Git } from './git';

/** A tag as one side (local repository or remote) holds it. */
export interface TagRef {
  /** What refs/tags/<name> points to: a tag object for annotated tags, else the commit. */
  object: string;
  /** The commit it peels to. */
  commit: string;
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
 * The objects the tags of `writes` are to point at, made in a fixed number of git processes whatever
 * their count (for 1,000 tags, one `git tag` each took seconds): for annotated tags, tag objects made as
 * `git tag -a -m` makes them (tagger: `git var GIT_COMMITTER_IDENT`, honouring `env`), in one pack to
 * `git index-pack`; for lightweight tags, `commit` itself. No ref is written (`setTagRefs` does), except
 * where git is configured to sign tags (tag.gpgSign): each is then made, ref and all, by `git tag -s`
 * (`refsWritten`), and all are undone if one fails.
 */
export async function makeTagObjects(
  git: Git,
  commit: string,
  writes: TagWrite[],
  options: { annotated: boolean; env?: Record<string, string> },
): Promise<{ objects: string[]; refsWritten: boolean }> {
  if (!options.annotated || writes.length === 0) return { objects: writes.map(() => commit), refsWritten: false };
  const env = options.env ?? {};
  const config = await git.config(['tag.gpgsign', 'core.commentchar']);
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
    const written = await localTags(git);
    return { objects: writes.map((write) => written.get(write.tag)!.object), refsWritten: true };
  }
  const commentChar = config.get('core.commentchar');
  const tagger = await git.text(['var', 'GIT_COMMITTER_IDENT'], { env });
  const bodies = writes.map((write) =>
    Buffer.from(`object ${commit}\ntype commit\ntag ${write.tag}\ntagger ${tagger}\n\n${cleanTagMessage(write.message, commentChar === 'auto' ? '#' : (commentChar ?? '#'))}`),
  );
  // A SHA-256 repository names its commits with 64 hex digits.
  const hash = commit.length === 64 ? 'sha256' : 'sha1';
  // --strict: git checks every tag object (fsck) and that the commit exists before the pack is kept.
  await git.run(['index-pack', '--stdin', '--strict'], { input: packOf(bodies, hash) });
  return { objects: bodies.map((body) => createHash(hash).update(`tag ${body.length}\0`).update(body).digest('hex')), refsWritten: false };
}

/**
 * Points each tag of `writes` at its object in ONE `git update-ref --stdin` transaction: all are written
 * or none, a tag that appeared meanwhile is refused (`create`) and a replaced one must still be what was
 * read (`update` with its old value).
 */
export async function setTagRefs(git: Git, writes: TagWrite[], objects: string[]): Promise<void> {
  if (writes.length === 0) return;
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
