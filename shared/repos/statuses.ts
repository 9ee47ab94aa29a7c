import type { NetworkSettings } from '../net/network';
import type { GitApi } from 'azure-devops-node-api/GitApi';
import type { GitStatus } from 'azure-devops-node-api/interfaces/GitInterfaces';
import type { Log } from '../agent';
import type { RetryOptions } from '../retry';
import { gitApi, type TokenKind } from './azure-repos';
import { call, required } from './rest-retry';

/**
 * Statuses in Azure Repos: a pull request's (what a branch policy "status check" requires) and a commit's (the
 * promotion marks on the app repository's commits). Every status this extension posts has the genre
 * `rust-gitops-release`; its name says what it is about (`validate-gitops`, `gitops/<environment>`). A status is
 * updated by posting a new one with the same genre and name: the newest is the one shown. Calls go through
 * azure-devops-node-api's REST client (GitApi's, with its credential handler) at the documented URLs, since GitApi
 * answers a 404 with an empty result, as it answers a cut one; with our retries (429, 5xx, dropped connections):
 * a status posted twice by a retry is harmless for the same reason.
 */

export const STATUS_GENRE = 'rust-gitops-release';

export type StatusState = 'pending' | 'succeeded' | 'failed' | 'error';

export interface Status {
  /** The context name, e.g. `validate-gitops` or `gitops/devtest`. */
  name: string;
  state: StatusState;
  description: string;
  /** The page the status links to: the run, the pull request. */
  targetUrl?: string;
}

/** The states this extension posts, as the service names them (it takes the enum's names or numbers, and answers names). */
const STATES: readonly string[] = ['pending', 'succeeded', 'failed', 'error'] satisfies StatusState[];

/** A 404 as an error that is not retried: the pull request, repository or commit does not exist (or the token may not see it). */
function notFound(what: string): Error {
  return Object.assign(new Error(`${what}: not found (HTTP 404): check that the repository and the pull request or commit exist, and that the token may read them`), { statusCode: 404 });
}

/** What the service keeps of a description: shorter is what people read in the pull request's checks. */
const MAX_DESCRIPTION = 256;

export interface StatusClientOptions {
  collectionUrl: string;
  token: string;
  tokenKind?: TokenKind;
  log: Log;
  retry?: RetryOptions;
  /** The agent's proxy and CA file. */
  network?: NetworkSettings;
}

export class StatusClient {
  private readonly api: GitApi;
  private readonly collectionUrl: string;

  constructor(private readonly options: StatusClientOptions) {
    this.api = gitApi(options.collectionUrl, options.token, options.tokenKind, options.network);
    this.collectionUrl = options.collectionUrl.endsWith('/') ? options.collectionUrl : `${options.collectionUrl}/`;
  }

  /** Posts `status` on a pull request (`repository`: the pull request's repository, name or id). */
  async onPullRequest(project: string, repository: string, pullRequestId: number, status: Status): Promise<void> {
    await this.post(this.url(project, repository, `pullRequests/${pullRequestId}/statuses`), status, `pull request ${pullRequestId}`);
  }

  /** Posts `status` on a commit of `repository` (name or id). */
  async onCommit(project: string, repository: string, commit: string, status: Status): Promise<void> {
    await this.post(this.url(project, repository, `commits/${encodeURIComponent(commit)}/statuses`), status, `commit ${commit.slice(0, 12)}`);
  }

  /** The newest status of each of this extension's names on a commit (name -> state); empty for a commit the repository does not have. */
  async latestOnCommit(project: string, repository: string, commit: string): Promise<Map<string, StatusState | 'other'>> {
    const url = `${this.url(project, repository, `commits/${encodeURIComponent(commit)}/statuses`)}&latestOnly=true`;
    const what = `reading the statuses of commit ${commit.slice(0, 12)}`;
    const answer = await this.ask(what, () => this.api.rest.get<{ value: GitStatus[] }>(url));
    if (answer.statusCode === 404) throw notFound(what);
    const latest = new Map<string, StatusState | 'other'>();
    for (const status of required(answer.result, what).value) {
      if (status.context?.genre !== STATUS_GENRE || !status.context.name || latest.has(status.context.name)) continue;
      const state = String(status.state);
      latest.set(status.context.name, STATES.includes(state) ? (state as StatusState) : 'other');
    }
    return latest;
  }

  /** `<collection><project>/_apis/git/repositories/<repository>/<path>?api-version=7.1`. */
  private url(project: string, repository: string, path: string): string {
    return `${this.collectionUrl}${encodeURIComponent(project)}/_apis/git/repositories/${encodeURIComponent(repository)}/${path}?api-version=7.1`;
  }

  /** The REST client answers a 404 with an empty result instead of an error: it is one here (not retried), and an empty 2xx a cut answer (retried). */
  private async post(url: string, status: Status, on: string): Promise<void> {
    const what = `posting the status '${status.name}' on ${on}`;
    await this.ask(what, async () => {
      const answer = await this.api.rest.create<GitStatus>(url, this.body(status));
      if (answer.statusCode === 404) throw notFound(what);
      return required(answer.result, what);
    });
  }

  private body(status: Status): Omit<GitStatus, 'state'> & { state: StatusState } {
    const description = status.description.length > MAX_DESCRIPTION ? `${status.description.slice(0, MAX_DESCRIPTION - 1)}…` : status.description;
    return { state: status.state, description, context: { genre: STATUS_GENRE, name: status.name }, ...(status.targetUrl ? { targetUrl: status.targetUrl } : {}) };
  }

  private ask<T>(what: string, action: () => Promise<T>): Promise<T> {
    return call(what, action, { ...this.options.retry, log: this.options.log });
  }
}
