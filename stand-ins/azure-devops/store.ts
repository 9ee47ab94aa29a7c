import { randomUUID } from 'node:crypto';
import type { Build } from './builds';
import { HttpError } from './http';

/** What the Azure DevOps stand-in holds, with the lookups and JSON shapes every API area shares. */

export interface AdoIdentity {
  id: string;
  displayName: string;
  uniqueName: string;
  mail?: string;
}

export interface Project {
  id: string;
  name: string;
}

export interface Repo {
  id: string;
  name: string;
  project: Project;
  /** The bare repository on disk. */
  dir: string;
}

export interface Reviewer {
  id: string;
  isRequired: boolean;
  vote: number;
}

export interface PullRequest {
  pullRequestId: number;
  repo: Repo;
  status: 'active' | 'abandoned' | 'completed';
  title: string;
  description: string;
  sourceRefName: string;
  targetRefName: string;
  isDraft: boolean;
  createdBy: string;
  creationDate: string;
  reviewers: Reviewer[];
  labels: string[];
  workItems: string[];
  autoCompleteSetBy?: string;
  completionOptions?: Record<string, unknown>;
  lastMergeSourceCommit?: string;
}

/** A pull request's or a commit's status, as the service keeps it. */
export interface StatusRecord {
  id: number;
  state: string;
  description?: string;
  context: { name: string; genre?: string };
  targetUrl?: string;
  iterationId?: number;
  createdBy: string;
  creationDate: string;
}

export class Store {
  readonly identities: AdoIdentity[] = [];
  /** Token -> identity id. */
  readonly tokens = new Map<string, string>();
  readonly projects: Project[] = [];
  readonly repos: Repo[] = [];
  readonly pulls: PullRequest[] = [];
  /** Build id -> the work items linked to it. */
  readonly buildWorkItems = new Map<string, string[]>();
  /** Ids of the work items that exist (those linked to a build). */
  readonly workItems = new Set<string>();
  /** Pipeline runs, oldest first (id = position + 1). */
  readonly builds: Build[] = [];
  /** `<repository id>|<pull request id>` -> its statuses, oldest first. */
  readonly pullRequestStatuses = new Map<string, StatusRecord[]>();
  /** `<repository id>|<commit>` -> its statuses, oldest first. */
  readonly commitStatuses = new Map<string, StatusRecord[]>();
  /** Identity id -> the Git permissions it is denied (`PullRequestContribute`, `GenericContribute`, ...). */
  readonly denied = new Map<string, Set<string>>();
  nextPullRequestId = 1;
  nextLabelId = 1;

  /** `root` holds the bare repositories; `collectionUrl` is the clients' (the fault proxy's) address of the collection. */
  constructor(readonly root: string, private readonly collection: () => string) {}

  /** The collection URL with its trailing slash, as the agent gives it (System.CollectionUri). */
  get collectionUrl(): string {
    return this.collection();
  }

  addIdentity(identity: Omit<AdoIdentity, 'id'> & { id?: string }): AdoIdentity {
    const full = { id: identity.id ?? randomUUID(), ...identity };
    this.identities.push(full);
    return full;
  }

  /** The identity of a `Bearer <token>` (or Basic with the token as password, as git sends it), if known. */
  identityOf(header: string | undefined): AdoIdentity | undefined {
    if (!header) return undefined;
    const [scheme, value] = header.split(' ', 2);
    let token: string | undefined;
    if (scheme.toLowerCase() === 'bearer') token = value;
    else if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value ?? '', 'base64').toString('utf8');
      token = decoded.slice(decoded.indexOf(':') + 1);
    }
    const id = token === undefined ? undefined : this.tokens.get(token);
    return this.identities.find((i) => i.id === id);
  }

  /** The service's 403 when `caller` lacks a Git permission on a repository. */
  demand(caller: AdoIdentity, permission: string): void {
    if (this.denied.get(caller.id)?.has(permission))
      throw new HttpError(403, `TF401027: You need the Git '${permission}' permission to perform this action. Details: identity 'Build\\${caller.id}', scope 'repository'.`, 'GitNeedsPermissionException');
  }

  addProject(name: string): Project {
    const project = { id: randomUUID(), name };
    this.projects.push(project);
    return project;
  }

  findProject(nameOrId: string): Project | undefined {
    const key = nameOrId.toLowerCase();
    return this.projects.find((p) => p.id === key || p.name.toLowerCase() === key);
  }

  /** The project, or the service's 404. */
  project(nameOrId: string): Project {
    const project = this.findProject(nameOrId);
    if (!project)
      throw new HttpError(404, `TF200016: The following project does not exist: ${nameOrId}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`, 'ProjectDoesNotExistWithNameException');
    return project;
  }

  /** By id the project is optional; by name it is required. */
  findRepo(project: Project | undefined, nameOrId: string | undefined): Repo | undefined {
    if (!nameOrId) return undefined;
    const key = nameOrId.toLowerCase();
    return this.repos.find((r) => (r.id === key && (!project || r.project === project)) || (project && r.project === project && r.name.toLowerCase() === key));
  }

  /** The repository, or the service's 404. */
  repository(project: Project | undefined, nameOrId: string | undefined): Repo {
    const repo = this.findRepo(project, nameOrId);
    if (!repo)
      throw new HttpError(404, `TF401019: The Git repository with name or identifier ${nameOrId} does not exist or you do not have permissions for the operation you are attempting.`, 'GitRepositoryNotFoundException');
    return repo;
  }

  /** A repository by project and repository name, for the stand-in's own API (throws a plain error). */
  repoByName(projectName: string, repoName: string): Repo {
    const repo = this.findRepo(this.findProject(projectName), repoName);
    if (!repo) throw new Error(`no repository ${projectName}/${repoName} in the stand-in`);
    return repo;
  }

  /** The clone URL of a repository, as `remoteUrl` in the REST answers. */
  remoteUrl(projectName: string, repoName: string): string {
    return `${this.collectionUrl}${encodeURIComponent(projectName)}/_git/${encodeURIComponent(repoName)}`;
  }

  identityRef(id: string) {
    const identity = this.identities.find((i) => i.id === id);
    return { id, displayName: identity?.displayName ?? id, uniqueName: identity?.uniqueName ?? id, url: `${this.collectionUrl}_apis/Identities/${id}` };
  }

  projectJson(project: Project) {
    return { id: project.id, name: project.name, url: `${this.collectionUrl}_apis/projects/${project.id}`, state: 'wellFormed', visibility: 'private', revision: 1 };
  }

  repoJson(repo: Repo) {
    return {
      id: repo.id,
      name: repo.name,
      url: `${this.collectionUrl}${repo.project.id}/_apis/git/repositories/${repo.id}`,
      project: this.projectJson(repo.project),
      defaultBranch: 'refs/heads/main',
      size: 0,
      remoteUrl: this.remoteUrl(repo.project.name, repo.name),
      webUrl: this.remoteUrl(repo.project.name, repo.name),
      isDisabled: false,
    };
  }

  workItemRef(id: string) {
    return { id, url: `${this.collectionUrl}_apis/wit/workItems/${id}` };
  }
}
