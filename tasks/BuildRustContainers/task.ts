import { transportFor } from '../../shared/net/proxy-fetch';
import * as path from 'node:path';
import type { Agent } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import type { BuildContainersOptions, BuildContainersResult } from '../../shared/flows/build-containers';
import { LAST_SUCCESSFUL_BUILD } from '../../shared/git/changed-components';
import type { PipelineRun } from '../../shared/repos/builds';
import { boolInput, expandVariables, parseList } from '../../shared/inputs';
import type { AzureLoginOptions } from '../../shared/azure/login';
import { isPullRequestBuild } from '../../shared/pull-request';
import { registryAccess } from '../../shared/registry/credentials';
import { buildSummary } from '../../shared/summaries';

/** BuildRustContainers@1's inputs, service connection and pipeline variables as the flow's options, every task.json default applied (`azureLogin`: the Azure sign-in's transport and IMDS address, for tests). */
export async function readOptions(agent: Agent, azureLogin: AzureLoginOptions = {}): Promise<BuildContainersOptions> {
  const { registry, credentials } = await registryAccess(agent, azureLogin);
  if (!registry) throw new UserError('No registry is given: set containerRegistry (a Docker registry service connection), or registry (with azureSubscription: the login server of the Azure Container Registry, e.g. myacr.azurecr.io).');
  // Empty means no images.json (the agent fills in the task.json default when the input is not set).
  const manifestPath = expandVariables(agent, agent.input('manifestPath'));
  const network = agent.network();
  return {
    componentsPath: path.resolve(agent.input('componentsPath') || agent.variable('Build.SourcesDirectory') || '.'),
    components: agent.input('components'),
    excludePaths: parseList(agent.input('excludePaths')),
    dockerfile: agent.input('dockerfile') || '{path}/Dockerfile',
    buildContext: agent.input('buildContext') || '{path}',
    imageNames: parseList(agent.input('imageNames')),
    registry,
    credentials,
    network,
    ...transportFor(network),
    repositoryPrefix: agent.input('repositoryPrefix'),
    imageTagFormat: agent.input('imageTagFormat') || 'v{version}',
    preRelease: expandVariables(agent, agent.input('preRelease')),
    additionalTags: parseList(agent.input('additionalTags')),
    overwrite: boolInput(agent, 'overwrite', false),
    platforms: parseList(agent.input('platforms')),
    builder: agent.input('builder') || 'auto',
    buildArgs: agent.input('buildArgs').split(/\r?\n/).filter((line) => line.trim()),
    changedOnly: boolInput(agent, 'changedOnly', false),
    changedSince: agent.input('changedSince'),
    tagFormat: agent.input('tagFormat') || '{name}/{version}',
    legacyTagFormats: parseList(agent.input('legacyTagFormats')),
    ...(agent.input('changedSince').toLowerCase() === LAST_SUCCESSFUL_BUILD.toLowerCase() ? { pipeline: pipelineRun(agent) } : {}),
    mode: agent.input('mode') || 'build',
    manifestPath: manifestPath && path.resolve(manifestPath),
    push: boolInput(agent, 'push', true),
    dryRun: boolInput(agent, 'dryRun', false),
    // A pull request build pushes only the pre-release tag (shared/pull-request.ts).
    ...(isPullRequestBuild(agent) ? { pullRequest: true } : {}),
    buildId: agent.variable('Build.BuildId'),
    commit: agent.variable('Build.SourceVersion'),
    sourceUrl: agent.variable('Build.Repository.Uri'),
    tempDir: agent.tempDir(),
  };
}

/** This run's pipeline, for changedSince `lastSuccessfulBuild`: every part is needed to ask for its runs. */
function pipelineRun(agent: Agent): PipelineRun {
  const values = {
    collectionUrl: agent.collectionUrl(),
    token: agent.accessToken(),
    project: agent.variable('System.TeamProject'),
    definitionId: agent.variable('System.DefinitionId'),
    branch: agent.variable('Build.SourceBranch'),
  };
  const names = { collectionUrl: 'System.CollectionUri', token: "the job's access token", project: 'System.TeamProject', definitionId: 'System.DefinitionId', branch: 'Build.SourceBranch' };
  const missing = (Object.keys(values) as Array<keyof typeof values>).filter((key) => !values[key]).map((key) => names[key]);
  if (missing.length) {
    throw new UserError(`changedSince '${LAST_SUCCESSFUL_BUILD}' asks Azure Pipelines for this pipeline's last successful run, which needs ${missing.join(', ')}: run the task in a pipeline, or give changedSince a ref.`);
  }
  return values as PipelineRun;
}

/** Outputs `images`, `matrix`, `built`, `skipped`, the summary; returns the task's closing message. */
export function report(agent: Agent, result: BuildContainersResult): string {
  agent.setOutput('images', JSON.stringify(result.images));
  agent.setOutput('matrix', JSON.stringify(result.matrix));
  agent.setOutput('built', String(result.built));
  agent.setOutput('skipped', String(result.skipped));
  agent.summary('BuildRustContainers', buildSummary(result));
  const planned = Object.keys(result.matrix).length;
  if (result.mode === 'plan') return `Planned ${planned} build(s), skipped ${result.skipped}`;
  if (result.dryRun) return `Dry run: would build ${planned} image(s), skipped ${result.skipped} (nothing built or pushed)`;
  return `Built ${result.built} image(s), skipped ${result.skipped}${result.manifestPath ? `; ${result.manifestPath}` : ''}`;
}
