import { randomUUID } from 'node:crypto';
import { run } from '../../shared/process';
import { tip } from './git';
import { type Answer, type ApiRequest, type Area, HttpError, list, notFound, parseEnum } from './http';
import type { AdoIdentity, PullRequest, Repo, Reviewer, Store } from './store';

/**
 * Pull requests of a repository (<project>/_apis/git/repositories/{repo}/pullRequests[/{id}]) with their
 * reviewers, labels and work item refs. What it copies from the service, because the client relies on it:
 * - a description over 4,000 characters is a 400; the list cuts descriptions to 400 characters;
 * - a second active pull request for the same source and target is a 409 (TF401179); ids increase;
 * - PATCH ignores reviewers and labels (they have their own endpoints); create ignores auto-complete;
 * - the PR's `createdBy` is the caller's identity; enums are accepted as numbers or names and answered
 *   as camelCase names.
 */

const MAX_DESCRIPTION = 4000;
const LIST_DESCRIPTION = 400;
const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
const STATUS_NAMES = ['notSet', 'active', 'abandoned', 'completed', 'all'];
const MERGE_STRATEGIES = ['', 'noFastForward', 'squash', 'rebase', 'rebaseMerge'];

export function pullRequestsArea(store: Store): Area {
  return async (request) => {
    const p = request.path;
    if (p[0] !== 'git' || p[1] !== 'repositories' || p[3]?.toLowerCase() !== 'pullrequests') return undefined;
    return route(store, store.repository(request.project, p[2]), p.slice(4), request);
  };
}

async function route(store: Store, repo: Repo, s: string[], { method, query, body, caller }: ApiRequest): Promise<Answer> {
  if (s.length === 0 && method === 'GET') return { status: 200, body: list(await Promise.all(search(store, repo, query).map((pr) => pullJson(store, pr, true)))) };
  if (s.length === 0 && method === 'POST') return { status: 201, body: await pullJson(store, await create(store, repo, body, caller), false) };
  const pr = store.pulls.find((p) => p.repo === repo && p.pullRequestId === Number(s[0]));
  if (!pr) throw new HttpError(404, `TF401180: The requested pull request was not found.`, 'GitPullRequestNotFoundException');
  if (s.length === 1 && method === 'GET') return { status: 200, body: await pullJson(store, pr, false) };
  if (s.length === 1 && method === 'PATCH') {
    await update(store, pr, (body ?? {}) as Record<string, unknown>);
    return { status: 200, body: await pullJson(store, pr, false) };
  }
  if (s[1] === 'reviewers') {
    if (method === 'GET') return { status: 200, body: list(pr.reviewers.map((r) => reviewerJson(store, r))) };
    if (method === 'POST' && s.length === 2) {
      const added = reviewersFrom(store, body);
      for (const reviewer of added) upsertReviewer(pr, reviewer);
      return { status: 200, body: list(added.map((r) => reviewerJson(store, r))) };
    }
    if (method === 'PUT' && s.length === 3) {
      const [reviewer] = reviewersFrom(store, [{ ...(body as object), id: s[2] }]);
      upsertReviewer(pr, reviewer);
      return { status: 200, body: reviewerJson(store, reviewer) };
    }
  }
  if (s[1] === 'labels') {
    if (method === 'GET') return { status: 200, body: list(pr.labels.map((name) => labelJson(store, name))) };
    if (method === 'POST') {
      const name = String((body as { name?: string })?.name ?? '').trim();
      if (!name) throw new HttpError(400, 'A label needs a name.');
      if (!pr.labels.some((l) => l.toLowerCase() === name.toLowerCase())) pr.labels.push(name);
      return { status: 200, body: labelJson(store, name) };
    }
  }
  if (s[1] === 'workitems' && method === 'GET') return { status: 200, body: list(pr.workItems.map((id) => store.workItemRef(id))) };
  throw notFound();
}

/** The list's searchCriteria (status, default active; source and target ref), newest first. */
function search(store: Store, repo: Repo, query: URLSearchParams): PullRequest[] {
  const criterion = (name: string) => query.get(`searchCriteria.${name}`) ?? undefined;
  const status = parseEnum(criterion('status') ?? 'active', STATUS_NAMES) ?? 'active';
  return store.pulls
    .filter(
      (pr) =>
        pr.repo === repo &&
        (status === 'all' || pr.status === status) &&
        (!criterion('sourceRefName') || pr.sourceRefName === criterion('sourceRefName')) &&
        (!criterion('targetRefName') || pr.targetRefName === criterion('targetRefName')),
    )
    .reverse();
}

async function create(store: Store, repo: Repo, body: unknown, caller: AdoIdentity): Promise<PullRequest> {
  const input = (body ?? {}) as Record<string, unknown>;
  const source = String(input.sourceRefName ?? '');
  const target = String(input.targetRefName ?? '');
  if (!source || !target) throw new HttpError(400, 'The sourceRefName and targetRefName of a pull request are required.');
  checkDescription(input.description);
  if (!(await tip(repo, source)) || !(await tip(repo, target)))
    throw new HttpError(400, 'TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches', 'GitPullRequestCannotBeActivated');
  if (store.pulls.some((pr) => pr.repo === repo && pr.status === 'active' && pr.sourceRefName === source && pr.targetRefName === target))
    throw new HttpError(409, 'TF401179: An active pull request for the source and target branch already exists.', 'GitPullRequestExistsException');
  const reviewers = reviewersFrom(store, input.reviewers);
  const pr: PullRequest = {
    pullRequestId: store.nextPullRequestId++,
    repo,
    status: 'active',
    title: String(input.title ?? ''),
    description: String(input.description ?? ''),
    sourceRefName: source,
    targetRefName: target,
    isDraft: input.isDraft === true,
    createdBy: caller.id,
    creationDate: new Date().toISOString(),
    reviewers,
    labels: Array.isArray(input.labels) ? (input.labels as Array<{ name: string }>).map((l) => l.name) : [],
    workItems: Array.isArray(input.workItemRefs) ? (input.workItemRefs as Array<{ id: string }>).map((w) => String(w.id)) : [],
  };
  store.pulls.push(pr);
  return pr;
}

async function update(store: Store, pr: PullRequest, input: Record<string, unknown>): Promise<void> {
  if (input.description !== undefined) checkDescription(input.description);
  if (input.title !== undefined) pr.title = String(input.title);
  if (input.description !== undefined) pr.description = String(input.description);
  if (input.isDraft !== undefined) pr.isDraft = input.isDraft === true;
  if (input.status !== undefined) {
    pr.status = (parseEnum(input.status, STATUS_NAMES) as PullRequest['status']) ?? pr.status;
    // A closed pull request keeps the source commit it was closed at.
    if (pr.status !== 'active') pr.lastMergeSourceCommit = await tip(pr.repo, pr.sourceRefName);
  }
  if (input.autoCompleteSetBy !== undefined) {
    const id = String((input.autoCompleteSetBy as { id?: string })?.id ?? '');
    if (id === ZERO_GUID || !id) pr.autoCompleteSetBy = undefined;
    else if (!store.identities.some((i) => i.id === id)) throw new HttpError(400, `The identity ${id} for autoCompleteSetBy was not found.`, 'IdentityNotFoundException');
    else pr.autoCompleteSetBy = id;
  }
  if (input.completionOptions !== undefined) {
    const options = { ...(input.completionOptions as Record<string, unknown>) };
    if (options.mergeStrategy !== undefined) options.mergeStrategy = parseEnum(options.mergeStrategy, MERGE_STRATEGIES);
    pr.completionOptions = options;
  }
}

/**
 * Completes a pull request as a squash merge would: the source branch's tree becomes one new commit
 * on the target, the pull request is completed, and the source branch is deleted unless kept.
 */
export async function completePullRequest(store: Store, repoName: string, id: number, options: { deleteSourceBranch?: boolean } = {}): Promise<void> {
  const pr = store.pulls.find((p) => p.repo.name === repoName && p.pullRequestId === id);
  if (!pr || pr.status !== 'active') throw new Error(`no active pull request ${id} in ${repoName}`);
  const dir = pr.repo.dir;
  const source = (await tip(pr.repo, pr.sourceRefName))!;
  const target = (await tip(pr.repo, pr.targetRefName))!;
  const env = { GIT_AUTHOR_NAME: 'Reviewer', GIT_AUTHOR_EMAIL: 'reviewer@example.com', GIT_COMMITTER_NAME: 'Reviewer', GIT_COMMITTER_EMAIL: 'reviewer@example.com' };
  const merged = (await run('git', ['commit-tree', `${source}^{tree}`, '-p', target, '-m', `Merged PR ${id}: ${pr.title}`], { cwd: dir, env })).stdout.trim();
  await run('git', ['update-ref', pr.targetRefName, merged, target], { cwd: dir });
  pr.lastMergeSourceCommit = source;
  pr.status = 'completed';
  if (options.deleteSourceBranch ?? true) await run('git', ['update-ref', '-d', pr.sourceRefName, source], { cwd: dir });
}

function checkDescription(description: unknown): void {
  if (typeof description === 'string' && description.length > MAX_DESCRIPTION)
    throw new HttpError(400, `Invalid argument value.\r\nParameter name: The description of a pull request cannot be longer than ${MAX_DESCRIPTION} characters.`);
}

function reviewersFrom(store: Store, input: unknown): Reviewer[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new HttpError(400, 'Reviewers must be an array.');
  return input.map((r: { id?: string; isRequired?: boolean; vote?: number }) => {
    if (!r.id || !store.identities.some((i) => i.id === r.id)) throw new HttpError(400, `The identity ${r.id ?? ''} of a reviewer was not found.`, 'IdentityNotFoundException');
    return { id: r.id, isRequired: r.isRequired === true, vote: r.vote ?? 0 };
  });
}

function upsertReviewer(pr: PullRequest, reviewer: Reviewer): void {
  const existing = pr.reviewers.find((r) => r.id === reviewer.id);
  if (existing) existing.isRequired = reviewer.isRequired || existing.isRequired;
  else pr.reviewers.push(reviewer);
}

function reviewerJson(store: Store, reviewer: Reviewer) {
  return { ...store.identityRef(reviewer.id), vote: reviewer.vote, isRequired: reviewer.isRequired, hasDeclined: false, isFlagged: false };
}

function labelJson(store: Store, name: string) {
  return { id: `${store.nextLabelId++}`, name, active: true };
}

async function pullJson(store: Store, pr: PullRequest, listed: boolean) {
  const sourceTip = pr.status === 'active' ? await tip(pr.repo, pr.sourceRefName) : pr.lastMergeSourceCommit;
  const targetTip = await tip(pr.repo, pr.targetRefName);
  const description = listed && pr.description.length > LIST_DESCRIPTION ? pr.description.slice(0, LIST_DESCRIPTION) : pr.description;
  return {
    repository: store.repoJson(pr.repo),
    pullRequestId: pr.pullRequestId,
    codeReviewId: pr.pullRequestId,
    status: pr.status,
    createdBy: store.identityRef(pr.createdBy),
    creationDate: pr.creationDate,
    title: pr.title,
    description,
    sourceRefName: pr.sourceRefName,
    targetRefName: pr.targetRefName,
    mergeStatus: 'succeeded',
    isDraft: pr.isDraft,
    mergeId: randomUUID(),
    lastMergeSourceCommit: sourceTip ? { commitId: sourceTip } : undefined,
    lastMergeTargetCommit: targetTip ? { commitId: targetTip } : undefined,
    reviewers: pr.reviewers.map((r) => reviewerJson(store, r)),
    labels: pr.labels.map((name) => labelJson(store, name)),
    ...(pr.autoCompleteSetBy ? { autoCompleteSetBy: store.identityRef(pr.autoCompleteSetBy) } : {}),
    ...(pr.completionOptions && !listed ? { completionOptions: pr.completionOptions } : {}),
    url: `${store.collectionUrl}${pr.repo.project.id}/_apis/git/repositories/${pr.repo.id}/pullRequests/${pr.pullRequestId}`,
    supportsIterations: true,
  };
}
