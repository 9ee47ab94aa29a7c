import { run } from '../../shared/process';
import { type Answer, type ApiRequest, type Area, HttpError, list, parseEnum } from './http';
import type { Repo, StatusRecord, Store } from './store';

/**
 * Statuses: a pull request's (<project>/_apis/git/repositories/{repo}/pullRequests/{id}/statuses) and a commit's
 * (<project>/_apis/git/repositories/{repo}/commits/{sha}/statuses), POST to add one and GET to list them. What
 * it copies from the service, because clients rely on it:
 * - `context.name` is required; `state` is an enum given as a number or a name, answered as a camelCase name;
 *   a status is never replaced: a new one with the same genre and name is the newest, and reads list every one;
 * - a pull request status needs the Git permission `PullRequestContribute`, a commit status `GenericContribute`
 *   (403 TF401027 otherwise); a commit status needs the commit to exist in the repository (404);
 * - the commit list is newest first, `latestOnly=true` keeps the newest per genre and name, `top`/`skip` page;
 *   the pull request list is oldest first; ids count up per pull request, and per commit.
 */

const STATES = ['notSet', 'pending', 'succeeded', 'failed', 'error', 'notApplicable', 'partiallySucceeded'];

export function statusesArea(store: Store): Area {
  return async (request) => {
    const p = request.path;
    if (p[0] !== 'git' || p[1] !== 'repositories' || p[5]?.toLowerCase() !== 'statuses' || p.length !== 6) return undefined;
    const kind = p[3]?.toLowerCase();
    if (kind !== 'pullrequests' && kind !== 'commits') return undefined;
    const repo = store.repository(request.project, p[2]);
    return kind === 'pullrequests' ? pullRequestStatuses(store, repo, p[4], request) : commitStatuses(store, repo, p[4], request);
  };
}

function pullRequestStatuses(store: Store, repo: Repo, id: string, { method, body, caller }: ApiRequest): Answer {
  const pr = store.pulls.find((p) => p.repo === repo && p.pullRequestId === Number(id));
  if (!pr) throw new HttpError(404, `TF401180: The requested pull request was not found.`, 'GitPullRequestNotFoundException');
  const key = `${repo.id}|${pr.pullRequestId}`;
  const statuses = store.pullRequestStatuses.get(key) ?? [];
  if (method === 'GET') return { status: 200, body: list(statuses.map((s) => statusJson(store, s))) };
  if (method !== 'POST') throw new HttpError(405, `The requested resource does not support http method '${method}'.`, 'MethodNotAllowed');
  store.demand(caller, 'PullRequestContribute');
  const status = statusFrom(body, statuses.length + 1, caller.id);
  store.pullRequestStatuses.set(key, [...statuses, status]);
  return { status: 200, body: statusJson(store, status) };
}

async function commitStatuses(store: Store, repo: Repo, commit: string, { method, body, caller, query }: ApiRequest): Promise<Answer> {
  const sha = await resolveCommit(repo, commit);
  const key = `${repo.id}|${sha ?? commit.toLowerCase()}`;
  const statuses = store.commitStatuses.get(key) ?? [];
  if (method === 'GET') {
    let newest = [...statuses].reverse();
    if (query.get('latestOnly') === 'true') newest = newest.filter((s, i) => newest.findIndex((t) => t.context.name === s.context.name && t.context.genre === s.context.genre) === i);
    const skip = Number(query.get('skip') ?? 0) || 0;
    const top = Number(query.get('top') ?? 1000) || 1000;
    return { status: 200, body: list(newest.slice(skip, skip + top).map((s) => statusJson(store, s, `${store.collectionUrl}${repo.project.id}/_apis/git/repositories/${repo.id}/commits/${sha}/statuses`))) };
  }
  if (method !== 'POST') throw new HttpError(405, `The requested resource does not support http method '${method}'.`, 'MethodNotAllowed');
  store.demand(caller, 'GenericContribute');
  if (!sha) throw new HttpError(404, `TF401175: The version descriptor <Commit: ${commit}> could not be resolved to a version in the repository ${repo.name}`, 'GitUnresolvableToCommitException');
  const status = statusFrom(body, statuses.length + 1, caller.id);
  store.commitStatuses.set(key, [...statuses, status]);
  return { status: 200, body: statusJson(store, status) };
}

/** The full commit id `commit` names in the repository, or undefined. */
async function resolveCommit(repo: Repo, commit: string): Promise<string | undefined> {
  if (!/^[0-9a-f]{4,64}$/i.test(commit)) return undefined;
  const result = await run('git', ['rev-parse', '--verify', '--quiet', `${commit}^{commit}`], { cwd: repo.dir, allowFailure: true });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

function statusFrom(body: unknown, id: number, caller: string): StatusRecord {
  const input = (body ?? {}) as { state?: unknown; description?: unknown; context?: { name?: unknown; genre?: unknown }; targetUrl?: unknown; iterationId?: unknown };
  const name = input.context?.name;
  if (typeof name !== 'string' || !name.trim()) throw new HttpError(400, 'Invalid argument value.\r\nParameter name: The status context name cannot be null or empty.');
  const state = input.state === undefined ? 'notSet' : parseEnum(input.state, STATES);
  if (!state) throw new HttpError(400, `The status state ${JSON.stringify(input.state)} is not valid.`);
  if (input.iterationId !== undefined && !(Number.isInteger(input.iterationId) && (input.iterationId as number) >= 1)) {
    throw new HttpError(400, 'Invalid argument value.\r\nParameter name: The iteration id must be 1 or more.');
  }
  const now = new Date().toISOString();
  return {
    id,
    state,
    description: typeof input.description === 'string' ? input.description : undefined,
    context: { name, ...(typeof input.context?.genre === 'string' && input.context.genre ? { genre: input.context.genre } : {}) },
    targetUrl: typeof input.targetUrl === 'string' ? input.targetUrl : undefined,
    iterationId: input.iterationId as number | undefined,
    createdBy: caller,
    creationDate: now,
  };
}

function statusJson(store: Store, status: StatusRecord, url?: string) {
  const { createdBy, creationDate, ...rest } = status;
  return { ...rest, createdBy: store.identityRef(createdBy), creationDate, updatedDate: creationDate, ...(url ? { url } : {}) };
}
