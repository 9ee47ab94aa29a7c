import { BUILD_LOCATIONS } from './builds';
import { type Area, HttpError, list } from './http';
import type { Store } from './store';

/**
 * Collection-level areas: resource-location discovery (OPTIONS <collection>/_apis/<area>, which
 * azure-devops-node-api asks before its first call to an area), projects, and identity search.
 */

/** Resource locations of the git area, GUIDs as azure-devops-node-api's GitApi asks for them. */
const GIT_LOCATIONS: Array<[string, string, string]> = [
  ['225f7195-f9c7-4d14-ab28-a83f7ff77e1f', 'repositories', '{project}/_apis/{area}/{resource}/{repositoryId}'],
  ['2d874a60-a811-4f62-9c9f-963a6ea0a55b', 'refs', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*filter}'],
  ['9946fd70-0d40-406e-b686-b4744cbbcc37', 'pullRequests', '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}'],
  ['01a46dea-7d46-4d40-bc84-319e7c260d99', 'pullRequests', '{project}/_apis/{area}/{resource}/{pullRequestId}'],
  ['4b6702c7-aa35-4b89-9c96-b9abf6d3e540', 'reviewers', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}/{reviewerId}'],
  ['f22387e3-984e-4c52-9c6d-fbb8f14c812d', 'labels', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}/{labelIdOrName}'],
  ['0a637fcc-5370-4ce8-b0e8-98091f5f9482', 'workitems', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}'],
  ['b5f6bb4f-8d1e-4d79-8d11-4c9172c99c35', 'statuses', '{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}/{statusId}'],
  ['428dd4fb-fda5-4722-af02-9313b80305da', 'statuses', '{project}/_apis/{area}/repositories/{repositoryId}/commits/{commitId}/{resource}'],
];

export function coreArea(store: Store): Area {
  return ({ method, project, path, query }) => {
    if (project) return undefined;
    if (method === 'OPTIONS') {
      const area = path[0]?.toLowerCase() ?? '';
      const locations = { git: GIT_LOCATIONS, build: BUILD_LOCATIONS }[area] ?? [];
      return {
        status: 200,
        body: list(
          locations.map(([id, resourceName, routeTemplate]) => ({ id, area, resourceName, routeTemplate, resourceVersion: 2, minVersion: '1.0', maxVersion: '7.2', releasedVersion: '7.1' })),
        ),
      };
    }
    if (path[0] === 'projects' && method === 'GET') {
      if (path[1]) return { status: 200, body: store.projectJson(store.project(path[1])) };
      return { status: 200, body: list(store.projects.map((p) => store.projectJson(p))) };
    }
    if (path[0] === 'identities' && method === 'GET') return { status: 200, body: searchIdentities(store, query) };
    return undefined;
  };
}

function searchIdentities(store: Store, query: URLSearchParams): unknown {
  const filter = (query.get('searchFilter') ?? '').toLowerCase();
  const value = (query.get('filterValue') ?? '').toLowerCase();
  if (!filter) throw new HttpError(400, 'Either descriptors, identityIds or searchFilter must be given.');
  const hits = store.identities.filter((i) =>
    filter === 'mailaddress'
      ? i.mail?.toLowerCase() === value
      : filter === 'accountname'
        ? i.uniqueName.toLowerCase() === value
        : [i.displayName, i.uniqueName, i.mail].some((v) => v?.toLowerCase() === value),
  );
  return list(
    hits.map((i) => ({
      id: i.id,
      descriptor: `Microsoft.IdentityModel.Claims.ClaimsIdentity;${i.uniqueName}`,
      subjectDescriptor: `aad.${Buffer.from(i.id).toString('base64url')}`,
      providerDisplayName: i.displayName,
      isActive: true,
      properties: {
        Account: { $type: 'System.String', $value: i.uniqueName },
        ...(i.mail ? { Mail: { $type: 'System.String', $value: i.mail } } : {}),
      },
    })),
  );
}
