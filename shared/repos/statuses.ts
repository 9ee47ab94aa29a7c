import type { GitApi } from 'azure-devops-node-api/GitApi';
import { GitStatusState } from 'azure-devops-node-api/interfaces/GitInterfaces';
import type { Log } from '../agent';
import type { RetryOptions } from '../retry';
import { gitApi, type TokenKind } from './azure-repos';
import { call, required } from './rest-retry';

/**
 * Statuses in Azure Repos: a pull request's (what a branch policy "status check" requires) and a commit's (the
 * promotion marks on the app repository's commits). Every status this extension posts has the genre
 * `rust-gitops-release`; its name says what it is about (`validate-gitops`, `gitops/<environment>`). A status is
 * updated by posting a new one with the same genre and name: the newest is the one shown. Calls go through
 * azure-devops-node-api's GitApi with our retries (429, 5xx, dropped connections); a status posted twice by a
 * retry is harmless for the same reason.
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

const STATES: Record<StatusState, GitStatusState> = {
  pending: GitStatusState.Pending,
  succeeded: GitStatusState.Succeeded,
  failed: GitStatusState.Failed,
  error: GitStatusState.Error,
};

/** What the service keeps of a description: shorter is what people read in the pull request's checks. */
const MAX_DESCRIPTION = 256;

export interface StatusClientOptions {
  collectionUrl: string;
  token: string;
  tokenKind?: TokenKind;
  log: Log;
  retry?: RetryOptions;
}

export class StatusClient {
  private readonly api: GitApi;

  constructor(private readonly options: StatusClientOptions) {
    this.api = gitApi(options.collectionUrl, options.token, options.tokenKind);
  }

  /** Posts `status` on a pull request (`repository`: the pull request's repository, name or id). */
  async onPullRequest(project: string, repository: string, pullRequestId: number, status: Status): Promise<void> {
    await this.ask(`posting the status '${status.name}' on pull request ${pullRequestId}`, async () =>
      required(await this.api.createPullRequestStatus(this.body(status), repository, pullRequestId, project), `the status of pull request ${pullRequestId}`),
    );
  }

  /** Posts `status` on a commit of `repository` (name or id). */
  async onCommit(project: string, repository: string, commit: string, status: Status): Promise<void> {
    await this.ask(`posting the status '${status.name}' on commit ${commit.slice(0, 12)}`, async () =>
      required(await this.api.createCommitStatus(this.body(status), commit, repository, project), `the status of commit ${commit.slice(0, 12)}`),
    );
  }

  /** The newest status of each of this extension's names on a commit (name -> state). */
  async latestOnCommit(project: string, repository: string, commit: string): Promise<Map<string, StatusState | 'other'>> {
    const list = await this.ask(`reading the statuses of commit ${commit.slice(0, 12)}`, async () =>
      required(await this.api.getStatuses(commit, repository, project, undefined, undefined, true), `the statuses of commit ${commit.slice(0, 12)}`),
    );
    const names = Object.entries(STATES);
    const latest = new Map<string, StatusState | 'other'>();
    for (const status of list) {
      if (status.context?.genre !== STATUS_GENRE || !status.context.name || latest.has(status.context.name)) continue;
      latest.set(status.context.name, (names.find(([, value]) => value === status.state)?.[0] as StatusState | undefined) ?? 'other');
    }
    return latest;
  }

  private body(status: Status) {
    const description = status.description.length > MAX_DESCRIPTION ? `${status.description.slice(0, MAX_DESCRIPTION - 1)}…` : status.description;
    return { state: STATES[status.state], description, context: { genre: STATUS_GENRE, name: status.name }, ...(status.targetUrl ? { targetUrl: status.targetUrl } : {}) };
  }

  private ask<T>(what: string, action: () => Promise<T>): Promise<T> {
    return call(what, action, { ...this.options.retry, log: this.options.log });
  }
}
