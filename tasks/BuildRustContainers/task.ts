import * as path from 'node:path';
import type { Agent } from '../../shared/agent';
import { UserError } from '../../shared/errors';
import type { BuildContainersOptions, BuildContainersResult } from '../../shared/flows/build-containers';
import { boolInput, expandVariables, parseList } from '../../shared/inputs';
import type { AzureLoginOptions } from '../../shared/azure/login';
import { registryAccess } from '../../shared/registry/credentials';
import { buildSummary } from '../../shared/summaries';

/** BuildRustContainers@1's inputs, service connection and pipeline variables as the flow's options, every task.json default applied (`azureLogin`: the Azure sign-in's transport and IMDS address, for tests). */
export async function readOptions(agent: Agent, azureLogin: AzureLoginOptions = {}): Promise<BuildContainersOptions> {
  const { registry, credentials } = await registryAccess(agent, azureLogin);
  if (!registry) throw new UserError('No registry is given: set containerRegistry (a Docker registry service connection) or registry.');
  // Empty means no images.json (the agent fills in the task.json default when the input is not set).
  const manifestPath = expandVariables(agent, agent.input('manifestPath'));
  return {
    componentsPath: path.resolve(agent.input('componentsPath') || agent.variable('Build.SourcesDirectory') || '.'),
    components: agent.input('components'),
    excludePaths: parseList(agent.input('excludePaths')),
    dockerfile: agent.input('dockerfile') || '{path}/Dockerfile',
    buildContext: agent.input('buildContext') || '{path}',
    registry,
    credentials,
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
    mode: agent.input('mode') || 'build',
    manifestPath: manifestPath && path.resolve(manifestPath),
    push: boolInput(agent, 'push', true),
    dryRun: boolInput(agent, 'dryRun', false),
    buildId: agent.variable('Build.BuildId'),
    commit: agent.variable('Build.SourceVersion'),
    sourceUrl: agent.variable('Build.Repository.Uri'),
    tempDir: agent.tempDir(),
  };
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
