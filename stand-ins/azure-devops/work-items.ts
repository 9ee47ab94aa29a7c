import { type Area, HttpError, list } from './http';
import type { PullRequest, Store } from './store';

/**
 * Work items: those linked to a build (GET <project>/_apis/build/builds/{id}/workitems) and the link
 * from a work item to a pull request (PATCH <project>/_apis/wit/workitems/{id}).
 */
export function workItemsArea(store: Store): Area {
  return ({ method, path: p, body, contentType }) => {
    if (p[0] === 'build' && p[1] === 'builds' && p[3] === 'workitems' && method === 'GET') return { status: 200, body: list((store.buildWorkItems.get(p[2]) ?? []).map((id) => store.workItemRef(id))) };
    if (p[0] === 'wit' && p[1]?.toLowerCase() === 'workitems' && p[2] && method === 'PATCH') return linkPullRequest(store, p[2], body, contentType);
    return undefined;
  };
}

/** Work items the service reports as linked to a build; they exist from now on. */
export function linkWorkItems(store: Store, buildId: string, ids: string[]): void {
  store.buildWorkItems.set(buildId, ids);
  for (const id of ids) store.workItems.add(id);
}

/**
 * A JSON Patch document with only what linking a pull request takes: `add /relations/-` of an
 * ArtifactLink to vstfs:///Git/PullRequestId/{project}%2F{repository}%2F{id}, which the service then
 * lists among the pull request's work items.
 */
function linkPullRequest(store: Store, id: string, body: unknown, contentType: string): { status: number; body?: unknown } {
  if (contentType !== 'application/json-patch+json')
    throw new HttpError(415, `The request indicated a Content-Type of "${contentType}" for method type "PATCH" which is not supported. Valid content types for this method are: application/json-patch+json.`, 'VssRequestContentTypeNotSupportedException');
  if (!store.workItems.has(id)) throw new HttpError(404, `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`, 'WorkItemUnauthorizedAccessException');
  if (!Array.isArray(body) || body.length === 0) throw new HttpError(400, 'You must pass a valid patch document in the body of the request.', 'VssPropertyValidationException');
  const linked: PullRequest[] = [];
  for (const operation of body as Array<{ op?: unknown; path?: unknown; value?: { rel?: unknown; url?: unknown } }>) {
    if (!(operation.op === 'add' || operation.op === 0) || operation.path !== '/relations/-' || operation.value?.rel !== 'ArtifactLink')
      throw new HttpError(400, `This stand-in supports only adding an ArtifactLink relation, not ${JSON.stringify(operation)}.`);
    const match = /^vstfs:\/\/\/Git\/PullRequestId\/([^%]+)%2f([^%]+)%2f(\d+)$/i.exec(String(operation.value.url ?? ''));
    const pr = match && store.pulls.find((p) => p.repo.project.id === match[1] && p.repo.id === match[2] && p.pullRequestId === Number(match[3]));
    if (!pr) throw new HttpError(400, `The artifact ${String(operation.value.url)} was not found.`, 'WorkItemLinkInvalidException');
    if (pr.workItems.includes(id) || linked.includes(pr)) throw new HttpError(400, `Relation already exists.`, 'WorkItemLinkAlreadyExistsException');
    linked.push(pr);
  }
  for (const pr of linked) pr.workItems.push(id);
  return { status: 200, body: { id: Number(id), rev: linked.length + 1, fields: {}, url: `${store.collectionUrl}_apis/wit/workItems/${id}` } };
}
