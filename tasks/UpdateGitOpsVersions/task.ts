import { transportFor } from '../../shared/net/proxy-fetch';
import * as path from 'node:path';
import type { Agent } from '../../shared/agent';
import { DEFAULT_TAG_FILTER, type MaxBump, type UpdateGitOpsOptions, type UpdateGitOpsResult, type UpdateSource } from '../../shared/flows/update-gitops';
import { registryHost } from '../../shared/images/registry-host';
import { boolInput, parseList, requiredInput } from '../../shared/inputs';
import type { AzureLoginOptions } from '../../shared/azure/login';
import { registryAccess } from '../../shared/registry/credentials';
import { gitopsSummary } from '../../shared/summaries';

/** UpdateGitOpsVersions@1's inputs and service connection as the flow's options, every task.json default applied (`azureLogin`: the Azure sign-in's transport and IMDS address, for tests). */
export async function readOptions(agent: Agent, azureLogin: AzureLoginOptions = {}): Promise<UpdateGitOpsOptions> {
  const gitopsPath = path.resolve(requiredInput(agent, 'gitopsPath'));
  const environment = requiredInput(agent, 'environment');
  const { registry, credentials, signIn } = await registryAccess(agent, azureLogin);
  const imagesFile = agent.input('imagesFile');
  const network = agent.network();
  return {
    gitopsPath,
    environment,
    lockFile: agent.input('lockFile') || 'versions.yaml',
    manifestsPath: agent.input('manifestsPath') || 'environments/{environment}',
    source: (agent.input('source') || 'images') as UpdateSource,
    images: parseList(agent.input('images')),
    imagesFile: imagesFile ? path.resolve(imagesFile) : undefined,
    sourceEnvironment: agent.input('sourceEnvironment') || undefined,
    revision: agent.input('revision') || undefined,
    holdOnRollback: boolInput(agent, 'holdOnRollback', true),
    requestedFor: agent.variable('Build.RequestedFor'),
    buildNumber: agent.variable('Build.BuildNumber'),
    release: releaseInput(agent.input('release')),
    inventoryFile: agent.input('inventoryFile') || undefined,
    registry: registryHost(registry),
    credentials,
    signIn,
    network,
    ...transportFor(network),
    tagFilter: agent.input('tagFilter') || DEFAULT_TAG_FILTER,
    components: agent.input('components'),
    pinDigest: boolInput(agent, 'pinDigest', true),
    allowDowngrade: boolInput(agent, 'allowDowngrade', false),
    maxBump: (agent.input('maxBump') || 'major') as MaxBump,
    allowedRegistries: parseList(agent.input('allowedRegistries')),
    helmValues: agent.input('helmValues').split(/\r?\n/).map((line) => line.trim()).filter(Boolean),
    requireSemVer: boolInput(agent, 'requireSemVer', false),
    imageNames: parseList(agent.input('imageNames')),
    dryRun: boolInput(agent, 'dryRun', false),
  };
}

/** `release`: `true` for every selected component, `false` or empty for none, else names or globs. */
function releaseInput(value: string): boolean | string[] {
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return parseList(value);
}

/** Outputs `changed`, `changes` and `summary` (the summary's file, under the agent's temp directory); returns the closing message. */
export function report(agent: Agent, result: UpdateGitOpsResult): string {
  const { environment } = result;
  agent.setOutput('changed', String(result.changed));
  agent.setOutput('changes', JSON.stringify(result.changes));
  agent.setOutput('summary', agent.summary(`UpdateGitOpsVersions ${environment}`, gitopsSummary(result)));
  const held = result.held.length ? ` ${result.held.length} held component(s) left alone: ${result.held.map((h) => h.component).join(', ')}.` : '';
  if (!result.changed) return `${environment} is up to date: nothing written.${held}`;
  const count = `${result.changes.length} component(s)`;
  if (result.dryRun) return `Dry run: would ${result.rollback ? `roll back ${count} to ${result.rollback.revision}` : `update ${count}`} in ${environment}: ${result.files.join(', ')} (nothing written)${held}`;
  return `${count} ${result.rollback ? `rolled back to ${result.rollback.revision}` : 'updated'} in ${environment}: ${result.files.join(', ')}.${held}`;
}
