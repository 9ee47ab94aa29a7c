import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Git } from '../git/git';
import { type Lock, type LockImage, lockReference, readLock } from '../lock/lockfile';

/**
 * When each entry of a lock last changed, from the git history of the lock file: one `git log` of the
 * file along the first parents (so a change counts when it landed on the branch, squash or merge commit
 * alike) with the file's blob ids, one `git cat-file --batch` for those blobs, and the blobs parsed
 * newest first only until every entry is dated. Bounded to `maxCommits` commits of the lock.
 */

/** When an entry last changed: the commit (on the branch's first-parent line) and its date. */
export interface ChangedAt {
  /** Committer date, UTC, `YYYY-MM-DD`. */
  date: string;
  commit: string;
  /** The history read ends (a shallow clone, or maxCommits) before the change: it is this old or older. */
  orEarlier?: boolean;
}

/** environment -> component -> when its image last changed. */
export type LockHistory = Map<string, Map<string, ChangedAt>>;

/**
 * Lock commits read at most. Parsing the lock is the cost (about 0.5 ms a blob for three environments of ten
 * components on an idle agent): 500 commits, a lock change a day for over a year, take about 0.2 s when one
 * entry never changed in them (the worst case) and 0.45 s on a machine loaded 3 times over. Entries older
 * than that are dated "on or before" the oldest commit read.
 */
export const MAX_HISTORY_COMMITS = 500;

interface LockCommit {
  commit: string;
  date: string;
  before?: string;
  after?: string;
}

const NO_BLOB = /^0+$/;

/** The commits that changed `file` in `rev`'s first-parent history, newest first, with its blob before and after each. */
function parseLog(text: string): LockCommit[] {
  const commits: LockCommit[] = [];
  for (const record of text.split('\x01').slice(1)) {
    const [head, ...rest] = record.split('\n');
    const [commit, iso] = head.split(' ');
    const raw = rest.find((line) => line.startsWith(':'));
    if (!raw) continue;
    const [, , before, after] = raw.slice(1).split(/\s+/);
    commits.push({ commit, date: new Date(iso).toISOString().slice(0, 10), before: NO_BLOB.test(before) ? undefined : before, after: NO_BLOB.test(after) ? undefined : after });
  }
  return commits;
}

/** Bytes of UTF-8 each UTF-16 position of `text` takes, to cut `git cat-file --batch` output (sized in bytes) from a string. */
function skipBytes(text: string, from: number, bytes: number): number {
  let at = from;
  for (let left = bytes; left > 0 && at < text.length; ) {
    const code = text.codePointAt(at)!;
    left -= code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    at += code > 0xffff ? 2 : 1;
  }
  return at;
}

/** The blobs' texts, read by one `git cat-file --batch`. */
async function readBlobs(git: Git, ids: string[]): Promise<Map<string, string>> {
  const blobs = new Map<string, string>();
  if (!ids.length) return blobs;
  const { stdout } = await git.run(['cat-file', '--batch'], { input: ids.join('\n') + '\n' });
  let at = 0;
  while (at < stdout.length) {
    const eol = stdout.indexOf('\n', at);
    const header = /^([0-9a-f]+) blob (\d+)$/.exec(stdout.slice(at, eol));
    if (!header) break; // missing, or not text this reader can cut: the entries stay undated
    const end = skipBytes(stdout, eol + 1, Number(header[2]));
    blobs.set(header[1], stdout.slice(eol + 1, end));
    at = end + 1;
  }
  return blobs;
}

async function shallowCommits(git: Git): Promise<Set<string>> {
  const file = await git.text(['rev-parse', '--git-path', 'shallow']).catch(() => '');
  const text = file ? await fs.readFile(path.resolve(git.dir, file), 'utf8').catch(() => '') : '';
  return new Set(text.split('\n').filter(Boolean));
}

const key = (image: LockImage | undefined) => (image ? lockReference(image) : '');

/**
 * When each entry of `lock` last changed in the history of `rev` (default HEAD) of the repository at
 * `dir`, with `lockFile` relative to `dir`. Undefined when `dir` is not in a git repository or `rev`
 * does not resolve; entries the history does not reach are dated `orEarlier` at its oldest commit.
 */
export async function lockHistory(dir: string, lockFile: string, lock: Lock, options: { rev?: string; maxCommits?: number } = {}): Promise<LockHistory | undefined> {
  const git = new Git(dir);
  const args = ['log', '--first-parent', '--diff-merges=first-parent', '--no-renames', '--raw', '--no-abbrev', '--format=%x01%H %cI', `-n${options.maxCommits ?? MAX_HISTORY_COMMITS}`];
  const log = await git.run([...args, options.rev ?? 'HEAD', '--', lockFile], { allowFailure: true });
  if (log.code !== 0) return undefined;
  const commits = parseLog(log.stdout);
  const blobs = await readBlobs(git, [...new Set(commits.flatMap((c) => [c.before, c.after]).filter((id): id is string => !!id))]);
  const shallow = commits.length ? await shallowCommits(git) : new Set<string>();
  const parsed = new Map<string, Lock['environments'] | undefined>();
  const environments = (blob: string | undefined) => {
    if (!blob) return undefined;
    if (!parsed.has(blob)) {
      try {
        parsed.set(blob, readLock(blobs.get(blob) ?? '', lockFile).environments);
      } catch {
        parsed.set(blob, undefined); // a broken lock in the history: its entries count as changed there
      }
    }
    return parsed.get(blob);
  };

  const history: LockHistory = new Map();
  const undated = new Set<string>();
  for (const [env, components] of lock.environments) {
    history.set(env, new Map());
    for (const component of components.keys()) undated.add(`${env}\0${component}`);
  }
  for (const commit of commits) {
    if (!undated.size) break;
    const before = environments(commit.before);
    const after = environments(commit.after);
    const boundary = shallow.has(commit.commit);
    for (const id of [...undated]) {
      const [env, component] = id.split('\0');
      if (key(before?.get(env)?.get(component)) === key(after?.get(env)?.get(component))) continue;
      history.get(env)!.set(component, { date: commit.date, commit: commit.commit, ...(boundary ? { orEarlier: true } : {}) });
      undated.delete(id);
    }
  }
  const oldest = commits[commits.length - 1];
  for (const id of undated) {
    const [env, component] = id.split('\0');
    if (oldest) history.get(env)!.set(component, { date: oldest.date, commit: oldest.commit, orEarlier: true });
  }
  return history;
}
