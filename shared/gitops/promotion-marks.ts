import type { Log } from '../agent';
import { bestEffort } from '../repos/rest-retry';
import type { StatusClient } from '../repos/statuses';

/**
 * Promotion marks: a commit status `gitops/<environment>` (genre rust-gitops-release) on the app repository's
 * commit that built an image (its `org.opencontainers.image.revision`), so the app repository shows where each
 * commit runs. CreateEnvPR posts `pending` ("PR !12 into main") when it opens or updates the environment's pull
 * request; ValidateGitOps, run on the GitOps repository's branch after the merge, turns each pending mark of the
 * lock's revisions to `succeeded`. A missing permission is a warning, never a failed task.
 */

export const markName = (environment: string): string => `gitops/${environment}`;

/** The permission commit statuses need, on the app repository. */
export const MARK_PERMISSION = 'Contribute';

/** An Azure Repos repository: its collection, project and name, as read from a clone URL. */
export interface RepositoryRef {
  collectionUrl: string;
  project: string;
  repository: string;
}

/**
 * The Azure Repos repository of a clone or web URL (an image's `org.opencontainers.image.source`, which
 * BuildRustContainers sets to Build.Repository.Uri): `https://dev.azure.com/<org>/<project>/_git/<repo>`,
 * `https://<org>.visualstudio.com/<project>/_git/<repo>`, a server's `https://host/tfs/<collection>/<project>/_git/<repo>`
 * (a user before `@` ignored; no project means the repository's name). Undefined for anything else (GitHub, a path).
 */
export function azureReposRepository(url: string | undefined): RepositoryRef | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  const parts = parsed.pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const git = parts.indexOf('_git');
  if (git < 1 || git !== parts.length - 2) return undefined;
  const repository = parts[git + 1];
  const azure = parsed.hostname === 'dev.azure.com' ? 1 : parsed.hostname.endsWith('.visualstudio.com') ? 0 : undefined;
  // dev.azure.com/<org>/... and <org>.visualstudio.com/...: the collection is fixed; a server's is everything before the project
  const collectionParts = azure ?? Math.max(1, git - 1);
  const project = git > collectionParts ? parts[git - 1] : repository;
  const collection = parts.slice(0, collectionParts).map(encodeURIComponent).join('/');
  return { collectionUrl: `${parsed.protocol}//${parsed.host}/${collection ? `${collection}/` : ''}`, project, repository };
}

/** One mark to post: which environment, which app commit, in which repository. */
export interface Mark {
  environment: string;
  revision: string;
  project: string;
  repository: string;
}

const collectionKey = (url: string) => url.toLowerCase().replace(/\/+$/, '');

/**
 * The marks of an environment's changes: each change with an app commit (`revision`) is marked in the repository
 * its `source` URL names, when that is in `collectionUrl` (the token reaches no other organisation), else in
 * `fallback` (the run's own repository, when it builds the images). What cannot be marked is said in `skipped`.
 */
export function marksFor(
  changes: ReadonlyArray<{ component: string; revision?: string; source?: string }>,
  environment: string,
  collectionUrl: string,
  fallback?: { project: string; repository: string },
): { marks: Mark[]; skipped: string[] } {
  const marks: Mark[] = [];
  const skipped: string[] = [];
  for (const change of changes) {
    if (!change.revision) continue;
    const source = azureReposRepository(change.source);
    const repo = source && collectionKey(source.collectionUrl) === collectionKey(collectionUrl) ? source : change.source ? undefined : fallback;
    if (repo) marks.push({ environment, revision: change.revision, project: repo.project, repository: repo.repository });
    else skipped.push(`${change.component} (${change.source ? `built in ${change.source}, outside ${collectionUrl}` : 'no app repository known'})`);
  }
  return { marks, skipped };
}

/** Posts `pending` marks for a pull request (`PR !<id> into <target>`, linking it). Returns how many landed. */
export async function markPending(client: StatusClient, marks: readonly Mark[], pullRequest: { id: number; url: string; targetBranch: string }, log: Log): Promise<number> {
  let posted = 0;
  for (const mark of unique(marks)) {
    const status = { name: markName(mark.environment), state: 'pending' as const, description: `PR !${pullRequest.id} into ${pullRequest.targetBranch}`, targetUrl: pullRequest.url };
    if (await bestEffort(log, `mark commit ${mark.revision.slice(0, 12)} of ${mark.project}/${mark.repository} ${status.name}: pending`, MARK_PERMISSION, `the app repository '${mark.repository}'`, () => client.onCommit(mark.project, mark.repository, mark.revision, status))) posted++;
  }
  return posted;
}

/**
 * Turns the pending mark of each (environment, app commit) to `succeeded` (`merged into <branch> (<commit>)`),
 * looking for the commit in each of `repositories` in turn; a commit without a pending mark is left as it is, so
 * running it again posts nothing. Returns how many marks were turned.
 */
export async function markMerged(
  client: StatusClient,
  revisions: ReadonlyArray<{ environment: string; revision: string }>,
  repositories: readonly RepositoryRef[],
  merged: { branch: string; commit: string; url?: string },
  log: Log,
): Promise<number> {
  let turned = 0;
  const byRevision = new Map<string, string[]>();
  for (const { environment, revision } of revisions) byRevision.set(revision, [...new Set([...(byRevision.get(revision) ?? []), environment])]);
  for (const [revision, environments] of byRevision) {
    for (const repo of repositories) {
      let latest: Map<string, string> | undefined;
      const read = await bestEffort(log, `read the marks of commit ${revision.slice(0, 12)} in ${repo.project}/${repo.repository}`, 'Read', `the app repository '${repo.repository}'`, async () => {
        latest = await client.latestOnCommit(repo.project, repo.repository, revision);
      });
      const pending = read ? environments.filter((environment) => latest!.get(markName(environment)) === 'pending') : [];
      for (const environment of pending) {
        const status = { name: markName(environment), state: 'succeeded' as const, description: `merged into ${merged.branch} (${merged.commit.slice(0, 12)})`, targetUrl: merged.url };
        if (await bestEffort(log, `mark commit ${revision.slice(0, 12)} of ${repo.project}/${repo.repository} ${status.name}: succeeded`, MARK_PERMISSION, `the app repository '${repo.repository}'`, () => client.onCommit(repo.project, repo.repository, revision, status))) turned++;
      }
      if (latest?.size) break;
    }
  }
  return turned;
}

/** One mark per environment and commit (a commit is in one repository, however it was named: by name, by id). */
function unique(marks: readonly Mark[]): Mark[] {
  return marks.filter((m, i) => marks.findIndex((o) => o.environment === m.environment && o.revision === m.revision) === i);
}
