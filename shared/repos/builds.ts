import { BuildApi } from 'azure-devops-node-api/BuildApi';
import { BearerCredentialHandler } from 'azure-devops-node-api/handlers/bearertoken';
import { BuildQueryOrder, BuildResult, BuildStatus } from 'azure-devops-node-api/interfaces/BuildInterfaces';
import type { Log } from '../agent';
import { UserError } from '../errors';
import type { RetryOptions } from '../retry';
import { asTransient, call, required, statusOf, type RestError } from './rest-retry';

/**
 * This pipeline's runs, over azure-devops-node-api's BuildApi constructed directly (not WebApi, which
 * bundles every API client), with the job's access token; retried like every REST call (rest-retry.ts).
 */

/** The run asking: where its pipeline's runs are, and which of them count. */
export interface PipelineRun {
  /** System.CollectionUri (the SystemVssConnection's URL). */
  collectionUrl: string;
  /** The job's access token. */
  token: string;
  /** System.TeamProject (name or id). */
  project: string;
  /** System.DefinitionId: the pipeline. */
  definitionId: string;
  /** Build.SourceBranch, e.g. refs/heads/main. */
  branch: string;
  retry?: RetryOptions;
}

export interface SuccessfulBuild {
  id: number;
  buildNumber?: string;
  /** The commit it built. */
  sourceVersion: string;
}

/**
 * The newest completed, succeeded run of the pipeline on the same branch (GET _apis/build/builds with
 * definitions, branchName, statusFilter=completed, resultFilter=succeeded, queryOrder=finishTimeDescending,
 * $top=1), or undefined when there is none yet. A run in progress (this one) is never completed.
 */
export async function lastSuccessfulBuild(run: PipelineRun, log: Log): Promise<SuccessfulBuild | undefined> {
  const definition = Number(run.definitionId);
  if (!Number.isInteger(definition) || definition <= 0) throw new UserError(`System.DefinitionId '${run.definitionId}' is not a pipeline id: run the task in a pipeline.`);
  const collectionUrl = run.collectionUrl.endsWith('/') ? run.collectionUrl : `${run.collectionUrl}/`;
  const api = new BuildApi(collectionUrl, [new BearerCredentialHandler(run.token, false)], { allowRetries: false, socketTimeout: 60_000 });
  const what = `reading the last successful run of pipeline ${definition} on ${run.branch}`;
  let builds;
  try {
    builds = await call(
      what,
      async () =>
        required(
          await api.getBuilds(
            run.project,
            [definition],
            undefined,
            undefined,
            undefined,
            undefined,
            undefined,
            undefined,
            BuildStatus.Completed,
            BuildResult.Succeeded,
            undefined,
            undefined,
            1,
            undefined,
            undefined,
            undefined,
            BuildQueryOrder.FinishTimeDescending,
            run.branch,
          ),
          'the build list',
        ),
      { ...run.retry, log },
    );
  } catch (error) {
    throw refusal(error, what, collectionUrl, run.project);
  }
  const last = builds[0];
  if (!last) return undefined;
  if (!last.sourceVersion || !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(last.sourceVersion)) {
    throw new UserError(`Azure DevOps answered ${what} with run ${last.id} whose sourceVersion ${JSON.stringify(last.sourceVersion)} is not a git commit: give changedSince a ref instead.`);
  }
  return { id: last.id ?? 0, buildNumber: last.buildNumber, sourceVersion: last.sourceVersion.toLowerCase() };
}

/** What the service refused, as a UserError that says what to do. */
function refusal(error: unknown, what: string, collectionUrl: string, project: string): unknown {
  if (error instanceof UserError) return error;
  const status = statusOf(error);
  const detail = (error as RestError).result?.message ?? (error as Error).message;
  if (status === 401) return new UserError(`The job's access token was refused by ${collectionUrl} while ${what} (HTTP 401): run the task in a pipeline whose job can use System.AccessToken.`);
  if (status === 403) return new UserError(`Azure DevOps denied ${what} (HTTP 403: ${detail}): grant the build service identity ('${project} Build Service (<org>)') 'View builds' on this pipeline.`);
  if (status === 404) return new UserError(`Azure DevOps found no project '${project}' or pipeline while ${what} (HTTP 404: ${detail}): check System.TeamProject and System.DefinitionId.`);
  const transient = asTransient(error);
  if (transient) return new Error(`Azure DevOps kept failing while ${what}, retries exhausted: ${transient.message}`, { cause: error });
  return error;
}
