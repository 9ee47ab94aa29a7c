import { GitApi } from 'azure-devops-node-api/GitApi';
import { BearerCredentialHandler } from 'azure-devops-node-api/handlers/bearertoken';
import { PersonalAccessTokenCredentialHandler } from 'azure-devops-node-api/handlers/personalaccesstoken';
import {
  GitPullRequestMergeStrategy,
  PullRequestStatus,
  type GitPullRequest,
  type GitRepository,
  type IdentityRefWithVote,
} from 'azure-devops-node-api/interfaces/GitInterfaces';
import type { IRequestOptions } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces';
import type { Log } from '../agent';
import type { NetworkSettings } from '../net/network';
import { UserError } from '../errors';
import { TransientError, type RetryOptions } from '../retry';
import type { MergeStrategy } from './merge-strategy';
import { asTransient, call, required, statusOf, type RestError } from './rest-retry';

/**
 * A small Azure Repos client for one repository: find the open pull request for a source and target
 * branch, and create or update it. Built on azure-devops-node-api's GitApi constructed directly (not
 * WebApi, which bundles every API client). Every call is retried on 429, 5xx and dropped connections;
 * a retried write that is not idempotent (opening the pull request, linking a work item) first re-reads
 * the service's state, so a pull request is never opened twice and no link is added twice.
 */

export type TokenKind = 'bearer' | 'pat';

export interface AzureReposOptions {
  /** The collection URL, e.g. https://dev.azure.com/org/ (System.CollectionUri). */
  collectionUrl: string;
  token: string;
  /** 'bearer' for the job's OAuth token (default), 'pat' for a personal access token (sent as Basic). */
  tokenKind?: TokenKind;
  /** Project name or id. */
  project: string;
  /** Repository name or id. */
  repository: string;
  log: Log;
  retry?: RetryOptions;
  /** The agent's proxy and CA file. */
  network?: NetworkSettings;
}

export interface RepositoryInfo {
  id: string;
  name: string;
  projectId: string;
  projectName: string;
  remoteUrl: string;
  webUrl: string;
}

export interface PullRequestSpec {
  sourceBranch: string;
  targetBranch: string;
  title: string;
  description: string;
  /** Names, e-mail addresses or account names: resolved through the identity API. */
  reviewers?: string[];
  requiredReviewers?: string[];
  labels?: string[];
  /** Work item ids to link when the pull request is opened. */
  workItems?: string[];
  isDraft?: boolean;
  autoComplete?: boolean;
  mergeStrategy?: MergeStrategy;
  deleteSourceBranch?: boolean;
  /** Commit message of the squash or merge commit that auto-complete makes. */
  mergeCommitMessage?: string;
}

export interface PullRequestInfo {
  id: number;
  /** The pull request's page in the web UI. */
  webUrl: string;
  title: string;
  sourceCommit?: string;
  status: string;
}

export interface PullRequestOutcome extends PullRequestInfo {
  created: boolean;
}

const MERGE_STRATEGIES: Record<MergeStrategy, GitPullRequestMergeStrategy> = {
  squash: GitPullRequestMergeStrategy.Squash,
  noFastForward: GitPullRequestMergeStrategy.NoFastForward,
  rebase: GitPullRequestMergeStrategy.Rebase,
  rebaseMerge: GitPullRequestMergeStrategy.RebaseMerge,
};

/**
 * The agent's proxy and CA file as typed-rest-client takes them: it tunnels through the proxy (CONNECT)
 * unless a bypass pattern matches the URL, and trusts the CA file (in place of Node's roots) for HTTPS.
 */
function requestOptions({ proxy, caFile }: NetworkSettings = {}): IRequestOptions {
  return {
    proxy: proxy && { proxyUrl: proxy.url, proxyUsername: proxy.username ?? '', proxyPassword: proxy.password ?? '', proxyBypassHosts: proxy.bypass ?? [] },
    cert: caFile ? { caFile } : undefined,
  };
}

const refName = (branch: string) => (branch.startsWith('refs/') ? branch : `refs/heads/${branch}`);

export class AzureRepos {
  private readonly identityCache = new Map<string, string>();

  private constructor(
    private readonly api: GitApi,
    readonly repository: RepositoryInfo,
    private readonly options: AzureReposOptions,
  ) {}

  /** Connects and resolves the project and repository (by name or id); unknown ones are UserErrors. */
  static async open(options: AzureReposOptions): Promise<AzureRepos> {
    const collectionUrl = withSlash(options.collectionUrl);
    const api = gitApi(collectionUrl, options.token, options.tokenKind, options.network);
    const opts = { ...options, collectionUrl };
    const ask = <T>(what: string, action: () => Promise<T>) => guard(what, opts, () => call(what, action, { ...options.retry, log: options.log }));
    let repo: GitRepository | null = await ask(`reading repository '${options.repository}'`, () => api.getRepository(options.repository, options.project));
    if (!repo) {
      // A null is a 404 of the project or of the repository; ask which, so the message names it.
      // A cut or dropped answer is asked again inside the retry; only a 404 means the project is missing.
      const project = await ask(`reading project '${options.project}'`, async () => {
        const answer = await api.rest.get<{ id: string }>(`${collectionUrl}_apis/projects/${encodeURIComponent(options.project)}?api-version=7.1`);
        return answer.statusCode === 404 ? null : required(answer.result, `reading project '${options.project}'`);
      });
      if (!project)
        throw new UserError(`The project '${options.project}' was not found in ${collectionUrl}: set 'project' to the project that holds the GitOps repository (name or id).`);
      // Only a 404 says the repository is missing: the client answers a cut or dropped answer with null too.
      repo = await ask(`reading repository '${options.repository}'`, async () => {
        const answer = await api.rest.get<GitRepository>(
          `${collectionUrl}${encodeURIComponent(options.project)}/_apis/git/repositories/${encodeURIComponent(options.repository)}?api-version=7.1`,
        );
        return answer.statusCode === 404 ? null : required(answer.result, `reading repository '${options.repository}'`);
      });
      if (!repo)
        throw new UserError(
          `The repository '${options.repository}' was not found in project '${options.project}' (${collectionUrl}): set 'repository' to its name or id, and 'project' to the project that holds it.`,
        );
    }
    const info: RepositoryInfo = {
      id: required(repo.id, 'repository id'),
      name: repo.name ?? options.repository,
      projectId: repo.project?.id ?? options.project,
      projectName: repo.project?.name ?? options.project,
      remoteUrl: repo.remoteUrl ?? `${collectionUrl}${encodeURIComponent(options.project)}/_git/${encodeURIComponent(options.repository)}`,
      webUrl: repo.webUrl ?? `${collectionUrl}${encodeURIComponent(options.project)}/_git/${encodeURIComponent(options.repository)}`,
    };
    return new AzureRepos(api, info, opts);
  }

  /** The active pull request from `source` into `target`, if any (the list cuts descriptions to 400 characters). */
  async findOpenPullRequest(source: string, target: string): Promise<PullRequestInfo | undefined> {
    const found = await this.findPullRequests(source, target, PullRequestStatus.Active);
    return found[0];
  }

  /** Pull requests from `source` into `target` in a status (newest first). */
  async findPullRequests(source: string, target: string, status = PullRequestStatus.All): Promise<PullRequestInfo[]> {
    const list = await this.ask(`listing pull requests from ${source} into ${target}`, async () =>
      required(
        await this.api.getPullRequests(this.repository.id, { sourceRefName: refName(source), targetRefName: refName(target), status }, this.repository.projectId),
        'the pull request list',
      ),
    );
    return list.map((pr) => this.info(pr));
  }

  /** Work items the service links to a build (the run's commits and its manual links). */
  async buildWorkItems(buildId: string): Promise<string[]> {
    const url = `${this.options.collectionUrl}${encodeURIComponent(this.repository.projectId)}/_apis/build/builds/${encodeURIComponent(buildId)}/workitems?api-version=7.1`;
    const answer = await this.ask(`reading work items of build ${buildId}`, () => this.api.rest.get<{ value: Array<{ id: string }> }>(url));
    if (answer.statusCode === 404) return [];
    return required(answer.result, `work items of build ${buildId}`).value.map((w) => String(w.id));
  }

  /**
   * Resolves a reviewer (display name, e-mail or account name, or a group such as `[Project]\Team`)
   * to its identity id through the identity API. Unknown or ambiguous names are UserErrors.
   */
  async identity(name: string): Promise<string> {
    const cached = this.identityCache.get(name.toLowerCase());
    if (cached) return cached;
    const url = `${identityHost(this.options.collectionUrl)}_apis/identities?searchFilter=General&filterValue=${encodeURIComponent(name)}&queryMembership=None&api-version=7.1`;
    const answer = await this.ask(`looking up reviewer '${name}'`, () =>
      this.api.rest.get<{ value: Array<{ id: string; providerDisplayName?: string; properties?: Record<string, { $value?: string }> }> }>(url),
    );
    const hits = required(answer.result, `the identity search for '${name}'`).value ?? [];
    if (hits.length === 0) throw new UserError(`The reviewer '${name}' was not found in the organisation: use a display name, e-mail address or account name that Azure DevOps knows.`);
    if (hits.length > 1) {
      const who = hits.map((h) => `${h.providerDisplayName ?? h.id} <${h.properties?.Mail?.$value ?? h.properties?.Account?.$value ?? '?'}>`).join(', ');
      throw new UserError(`The reviewer '${name}' matches ${hits.length} identities (${who}): give the e-mail address instead.`);
    }
    this.identityCache.set(name.toLowerCase(), hits[0].id);
    return hits[0].id;
  }

  /**
   * Opens the pull request, or updates the active one for the same source and target. A create is
   * retried only after re-reading: one whose answer was lost, or that lost a race (409 TF401179),
   * becomes an update of the pull request that now exists.
   */
  async createOrUpdate(spec: PullRequestSpec, existing?: PullRequestInfo | null): Promise<PullRequestOutcome> {
    const required_ = await Promise.all((spec.requiredReviewers ?? []).map((n) => this.identity(n)));
    const optional = (await Promise.all((spec.reviewers ?? []).map((n) => this.identity(n)))).filter((id) => !required_.includes(id));
    const reviewers: IdentityRefWithVote[] = [...required_.map((id) => ({ id, isRequired: true })), ...optional.map((id) => ({ id, isRequired: false }))];
    let current = existing === undefined ? await this.findOpenPullRequest(spec.sourceBranch, spec.targetBranch) : (existing ?? undefined);
    let created = false;
    let full: GitPullRequest | undefined;
    if (!current) {
      const outcome = await this.create(spec, reviewers);
      created = outcome.created;
      current = outcome.pr;
      full = outcome.full;
    }
    if (!created || spec.autoComplete) full = await this.update(current, spec, created);
    if (!created) {
      await this.addMissing(current.id, full, reviewers, spec.labels ?? []);
      await this.linkWorkItems(current.id, spec.workItems ?? []);
    }
    const result = full ? this.info(full) : current;
    return { ...result, created };
  }

  private async create(spec: PullRequestSpec, reviewers: IdentityRefWithVote[]): Promise<{ pr: PullRequestInfo; created: boolean; full?: GitPullRequest }> {
    const body: GitPullRequest = {
      sourceRefName: refName(spec.sourceBranch),
      targetRefName: refName(spec.targetBranch),
      title: spec.title,
      description: spec.description,
      isDraft: spec.isDraft ?? false,
      reviewers,
      labels: (spec.labels ?? []).map((name) => ({ name })),
      workItemRefs: (spec.workItems ?? []).map((id) => ({ id })),
    };
    let tried = false;
    return this.ask(`opening the pull request from ${spec.sourceBranch} into ${spec.targetBranch}`, async () => {
      if (tried) {
        // Before a retried create, look again: the lost answer may have been a success, or another run won.
        const found = await this.findOpenPullRequest(spec.sourceBranch, spec.targetBranch);
        if (found) return { pr: found, created: this.looksLikeOurs(found, spec) };
      }
      tried = true;
      try {
        const full = required(await this.api.createPullRequest(body, this.repository.id, this.repository.projectId), 'the new pull request');
        return { pr: this.info(full), created: true, full };
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        // 409 TF401179: an active pull request for this source and target appeared meanwhile.
        this.options.log.info(`Azure Repos: an active pull request from ${spec.sourceBranch} already exists; updating it instead.`);
        const found = await this.findOpenPullRequest(spec.sourceBranch, spec.targetBranch);
        if (!found) throw new TransientError('the service reported an active pull request (409) that the list does not show yet');
        return { pr: found, created: false };
      }
    });
  }

  /** After a lost answer, a pull request found with our title was most likely opened by us. */
  private looksLikeOurs(found: PullRequestInfo, spec: PullRequestSpec): boolean {
    return found.title === spec.title;
  }

  private async update(pr: PullRequestInfo, spec: PullRequestSpec, justCreated: boolean): Promise<GitPullRequest> {
    const body: GitPullRequest = justCreated ? {} : { title: spec.title, description: spec.description };
    if (spec.autoComplete) {
      body.autoCompleteSetBy = { id: await this.creatorOf(pr) };
      body.completionOptions = {
        mergeStrategy: MERGE_STRATEGIES[spec.mergeStrategy ?? 'squash'],
        deleteSourceBranch: spec.deleteSourceBranch ?? true,
        transitionWorkItems: true,
        ...(spec.mergeCommitMessage ? { mergeCommitMessage: spec.mergeCommitMessage } : {}),
      };
    }
    // Retried as it is, without a re-read: the PATCH sets the same fields to the same values however often it arrives.
    return this.ask(`updating pull request ${pr.id}`, async () =>
      required(await this.api.updatePullRequest(body, this.repository.id, pr.id, this.repository.projectId), `the updated pull request ${pr.id}`),
    );
  }

  private creatorIds = new Map<number, string>();

  /** Auto-complete is set by the identity that opened the pull request (this run's, normally). */
  private async creatorOf(pr: PullRequestInfo): Promise<string> {
    const known = this.creatorIds.get(pr.id);
    if (known) return known;
    const full = await this.ask(`reading pull request ${pr.id}`, async () =>
      required(await this.api.getPullRequest(this.repository.id, pr.id, this.repository.projectId), `pull request ${pr.id}`),
    );
    return required(full.createdBy?.id, 'the pull request creator');
  }

  private async addMissing(id: number, full: GitPullRequest | undefined, reviewers: IdentityRefWithVote[], labels: string[]): Promise<void> {
    const have = new Map((full?.reviewers ?? []).map((r) => [r.id, r.isRequired === true]));
    const missing = reviewers.filter((r) => !have.has(r.id) || (r.isRequired && !have.get(r.id)));
    if (missing.length) {
      await this.ask(`adding reviewers to pull request ${id}`, () => this.api.createPullRequestReviewers(missing, this.repository.id, id, this.repository.projectId));
    }
    const haveLabels = new Set((full?.labels ?? []).map((l) => (l.name ?? '').toLowerCase()));
    for (const name of labels.filter((l) => !haveLabels.has(l.toLowerCase()))) {
      await this.ask(`labelling pull request ${id} '${name}'`, () => this.api.createPullRequestLabel({ name }, this.repository.id, id, this.repository.projectId));
    }
  }

  /**
   * Links to an open pull request the work items it does not carry yet, each by a "Pull Request"
   * artifact link on the work item (what the service does for `workItemRefs` when it opens one). A
   * retried link first looks again, so a link whose answer was lost is not added twice. A work item the
   * identity may not edit is a warning: the pull request itself is already up to date.
   */
  private async linkWorkItems(id: number, wanted: string[]): Promise<void> {
    if (!wanted.length) return;
    const linkedNow = async () =>
      new Set(
        (await this.ask(`reading the work items of pull request ${id}`, () => this.api.getPullRequestWorkItemRefs(this.repository.id, id, this.repository.projectId))).map((ref) =>
          String(ref.id),
        ),
      );
    const linked = await linkedNow();
    const { projectId, id: repositoryId } = this.repository;
    const link = [{ op: 'add', path: '/relations/-', value: { rel: 'ArtifactLink', url: `vstfs:///Git/PullRequestId/${projectId}%2F${repositoryId}%2F${id}`, attributes: { name: 'Pull Request' } } }];
    for (const item of wanted.filter((w) => !linked.has(w))) {
      const url = `${this.options.collectionUrl}${encodeURIComponent(projectId)}/_apis/wit/workitems/${encodeURIComponent(item)}?api-version=7.1`;
      let tried = false;
      try {
        await this.ask(`linking work item ${item} to pull request ${id}`, async () => {
          if (tried && (await linkedNow()).has(item)) return;
          tried = true;
          // The REST client answers a 404 instead of throwing it.
          const answer = await this.api.rest.update(url, link, { additionalHeaders: { 'Content-Type': 'application/json-patch+json' } });
          if (answer.statusCode === 404) throw new Error(`work item ${item} does not exist, or this identity may not read it (HTTP 404)`);
        });
      } catch (error) {
        this.options.log.warn(`Could not link work item ${item} to pull request ${id}: ${(error as Error).message}. Link it by hand if it belongs to this promotion.`);
      }
    }
  }

  private info(pr: GitPullRequest): PullRequestInfo {
    const id = required(pr.pullRequestId, 'pull request id');
    if (pr.createdBy?.id) this.creatorIds.set(id, pr.createdBy.id);
    return {
      id,
      webUrl: `${this.repository.webUrl}/pullrequest/${id}`,
      title: pr.title ?? '',
      sourceCommit: pr.lastMergeSourceCommit?.commitId,
      status: PullRequestStatus[pr.status ?? 0] ?? String(pr.status),
    };
  }

  private ask<T>(what: string, action: () => Promise<T>): Promise<T> {
    return guard(what, this.options, () => call(what, action, { ...this.options.retry, log: this.options.log }));
  }
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

/**
 * azure-devops-node-api's GitApi for a collection, constructed directly (not through WebApi, which bundles every
 * API client), with its own retries off: rest-retry.ts retries every call.
 */
export function gitApi(collectionUrl: string, token: string, tokenKind: TokenKind = 'bearer', network?: NetworkSettings): GitApi {
  const handler = tokenKind === 'pat' ? new PersonalAccessTokenCredentialHandler(token, false) : new BearerCredentialHandler(token, false);
  return new GitApi(withSlash(collectionUrl), [handler], { allowRetries: false, socketTimeout: 60_000, ...requestOptions(network) });
}

/** The identity service's host: vssps beside dev.azure.com and *.visualstudio.com, the collection itself on a server. */
export function identityHost(collectionUrl: string): string {
  const url = new URL(collectionUrl);
  if (url.hostname === 'dev.azure.com') return `https://vssps.dev.azure.com${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}`;
  const legacy = /^([^.]+)\.visualstudio\.com$/.exec(url.hostname);
  if (legacy) return `https://${legacy[1]}.vssps.visualstudio.com/`;
  return collectionUrl.endsWith('/') ? collectionUrl : `${collectionUrl}/`;
}

/** Turns what the service refused into a UserError that says what to do. */
async function guard<T>(what: string, options: Pick<AzureReposOptions, 'collectionUrl' | 'project' | 'repository'>, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof UserError) throw error;
    const e = error as RestError;
    const status = statusOf(error);
    const detail = e.result?.message ?? e.message;
    if (status === 401)
      throw new UserError(
        `The token was refused by ${options.collectionUrl} while ${what} (HTTP 401): give the task a valid token (the job's access token, or a 'connection'); ` +
          `for a repository in another project, turn off 'Limit job authorization scope to current project' in the project settings, and grant the build service ` +
          `('<project> Build Service (<org>)') 'Contribute' and 'Contribute to pull requests' on the repository.`,
      );
    if (status === 403)
      throw new UserError(
        `Azure DevOps denied ${what} (HTTP 403: ${detail}): grant the build service identity ('<project> Build Service (<org>)') 'Contribute' and 'Contribute to pull requests' on repository '${options.repository}' (Project settings > Repositories > Security).`,
      );
    if (status === 400 || status === 409 || status === 404) throw Object.assign(new UserError(`Azure DevOps refused ${what} (HTTP ${status}): ${detail}`), { statusCode: status });
    const transient = asTransient(error);
    if (transient) throw new Error(`Azure DevOps kept failing while ${what}, retries exhausted: ${transient.message}`, { cause: error });
    throw error;
  }
}
