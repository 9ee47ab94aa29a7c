import { type Area, HttpError, list } from './http';
import type { Project, Store } from './store';

/**
 * Pipeline runs (the build area): GET <project>/_apis/build/builds with the filters azure-devops-node-api's
 * BuildApi.getBuilds sends (definitions, branchName, statusFilter, resultFilter, queryOrder, $top), and
 * GET <project>/_apis/build/builds/{id}. Runs are added by tests (AdoServer.addBuild).
 */

export type BuildStatus = 'inProgress' | 'completed' | 'cancelling' | 'postponed' | 'notStarted';
export type BuildResult = 'succeeded' | 'partiallySucceeded' | 'failed' | 'canceled';

export interface Build {
  id: number;
  buildNumber: string;
  project: Project;
  definition: { id: number; name: string };
  sourceBranch: string;
  sourceVersion: string;
  status: BuildStatus;
  result?: BuildResult;
  queueTime: string;
  finishTime?: string;
}

/** What a test says of a run; the rest is filled in as the service would. */
export interface BuildSpec {
  definitionId: number;
  sourceBranch: string;
  sourceVersion: string;
  /** Default completed. */
  status?: BuildStatus;
  /** Default succeeded for a completed run. */
  result?: BuildResult;
  /** Default now. */
  finishTime?: Date;
}

/** The build area's resource location, as BuildApi asks for it (OPTIONS <collection>/_apis/build). */
export const BUILD_LOCATIONS: Array<[string, string, string]> = [['0cd358e1-9217-4d94-8269-1c1ee6f93dcf', 'builds', '{project}/_apis/{area}/{resource}/{buildId}']];

// The service's flag enums, by the names it answers with and the numbers the client sends.
const STATUS: Record<string, number> = { none: 0, inProgress: 1, completed: 2, cancelling: 4, postponed: 8, notStarted: 32, all: 47 };
const RESULT: Record<string, number> = { none: 0, succeeded: 2, partiallySucceeded: 4, failed: 8, canceled: 32 };
const ORDER: Record<string, [keyof Build, number]> = {
  '2': ['finishTime', 1],
  finishtimeascending: ['finishTime', 1],
  '3': ['finishTime', -1],
  finishtimedescending: ['finishTime', -1],
  '4': ['queueTime', -1],
  queuetimedescending: ['queueTime', -1],
  '5': ['queueTime', 1],
  queuetimeascending: ['queueTime', 1],
};

/** A flags filter given as a number or comma-separated names (any case); undefined when absent. */
function flags(value: string | null, names: Record<string, number>, parameter: string): number | undefined {
  if (value === null || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  let bits = 0;
  for (const part of value.split(',')) {
    const name = Object.keys(names).find((n) => n.toLowerCase() === part.trim().toLowerCase());
    if (name === undefined) throw new HttpError(400, `The value '${value}' is not valid for ${parameter}.`);
    bits |= names[name];
  }
  return bits;
}

export function addBuild(store: Store, project: Project, spec: BuildSpec): Build {
  const status = spec.status ?? 'completed';
  const finished = status === 'completed' ? (spec.finishTime ?? new Date()) : undefined;
  const id = store.builds.length + 1;
  const build: Build = {
    id,
    buildNumber: `20260101.${id}`,
    project,
    definition: { id: spec.definitionId, name: `pipeline-${spec.definitionId}` },
    sourceBranch: spec.sourceBranch,
    sourceVersion: spec.sourceVersion,
    status,
    ...(status === 'completed' ? { result: spec.result ?? 'succeeded' } : {}),
    queueTime: new Date((finished ?? new Date()).getTime() - 60_000).toISOString(),
    ...(finished ? { finishTime: finished.toISOString() } : {}),
  };
  store.builds.push(build);
  return build;
}

export function buildsArea(store: Store): Area {
  return ({ method, project, path: p, query }) => {
    if (p[0] !== 'build' || p[1] !== 'builds' || method !== 'GET' || !project) return undefined;
    if (p[2] && p.length === 3) {
      const build = store.builds.find((b) => b.project === project && String(b.id) === p[2]);
      if (!build) throw new HttpError(404, `The requested build ${p[2]} could not be found.`, 'BuildNotFoundException');
      return { status: 200, body: buildJson(store, build) };
    }
    if (p.length !== 2) return undefined;
    const definitions = query.get('definitions')?.split(',').map(Number);
    const branch = query.get('branchName');
    const status = flags(query.get('statusFilter'), STATUS, 'statusFilter');
    const result = flags(query.get('resultFilter'), RESULT, 'resultFilter');
    const top = query.has('$top') ? Number(query.get('$top')) : undefined;
    const order = ORDER[(query.get('queryOrder') ?? '4').toLowerCase()];
    if (!order) throw new HttpError(400, `The value '${query.get('queryOrder')}' is not valid for queryOrder.`);
    const [key, direction] = order;
    const found = store.builds
      .filter((b) => b.project === project)
      .filter((b) => !definitions || definitions.includes(b.definition.id))
      .filter((b) => !branch || b.sourceBranch === branch)
      .filter((b) => status === undefined || (STATUS[b.status] & status) !== 0)
      .filter((b) => result === undefined || (b.result !== undefined && (RESULT[b.result] & result) !== 0))
      .sort((a, b) => direction * String(a[key] ?? '').localeCompare(String(b[key] ?? '')) || direction * (a.id - b.id));
    return { status: 200, body: list(found.slice(0, top).map((b) => buildJson(store, b))) };
  };
}

function buildJson(store: Store, build: Build) {
  const url = `${store.collectionUrl}${build.project.id}/_apis/build/Builds/${build.id}`;
  return {
    id: build.id,
    buildNumber: build.buildNumber,
    status: build.status,
    ...(build.result ? { result: build.result } : {}),
    queueTime: build.queueTime,
    ...(build.finishTime ? { finishTime: build.finishTime } : {}),
    url,
    uri: `vstfs:///Build/Build/${build.id}`,
    definition: { id: build.definition.id, name: build.definition.name, path: '\\', type: 'build', queueStatus: 'enabled', project: store.projectJson(build.project) },
    project: store.projectJson(build.project),
    sourceBranch: build.sourceBranch,
    sourceVersion: build.sourceVersion,
    reason: 'individualCI',
    repository: { type: 'TfsGit' },
    _links: { self: { href: url } },
  };
}
