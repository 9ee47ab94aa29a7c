import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../shared/errors';
import { registryHost } from '../../shared/images/registry-host';
import { type MaxBump, updateGitOps, type UpdateSource } from '../../shared/flows/update-gitops';
import { parseList } from '../../shared/inputs';
import { runTask } from '../common/task-lib-agent';

void runTask(__dirname, async (agent) => {
  const environment = agent.requiredInput('environment');
  const connection = agent.input('containerRegistry');
  const endpoint = connection ? agent.endpoint(connection) : undefined;
  if (connection && !endpoint) throw new UserError(`Service connection '${connection}' (containerRegistry) is not available to this pipeline: authorize it or check its name.`);
  const password = agent.secretInput('registryPassword') || endpoint?.password || undefined;
  if (password) agent.setSecret(password);

  const result = await updateGitOps(
    {
      gitopsPath: path.resolve(agent.requiredInput('gitopsPath')),
      environment,
      lockFile: agent.input('lockFile') || undefined,
      manifestsPath: agent.input('manifestsPath') || undefined,
      source: (agent.input('source') || 'images') as UpdateSource,
      images: parseList(agent.input('images')),
      imagesFile: agent.input('imagesFile') ? path.resolve(agent.input('imagesFile')) : undefined,
      sourceEnvironment: agent.input('sourceEnvironment') || undefined,
      registry: registryHost(agent.input('registry') || endpoint?.data['loginServer'] || endpoint?.data['registry'] || endpoint?.url || ''),
      credentials: { username: agent.input('registryUsername') || endpoint?.username, password },
      tagFilter: agent.input('tagFilter') || undefined,
      components: agent.input('components'),
      pinDigest: agent.boolInput('pinDigest', true),
      allowDowngrade: agent.boolInput('allowDowngrade', false),
      maxBump: (agent.input('maxBump') || 'major') as MaxBump,
      allowedRegistries: parseList(agent.input('allowedRegistries')),
      helmValues: agent.input('helmValues').split(/\r?\n/),
      requireSemVer: agent.boolInput('requireSemVer', false),
      dryRun: agent.boolInput('dryRun', false),
    },
    agent,
  );

  const summary = path.join(agent.tempDir(), `gitops-${environment}-changes.md`);
  writeFileSync(summary, result.summaryMarkdown);
  agent.setOutput('changed', String(result.changed));
  agent.setOutput('changes', JSON.stringify(result.changes));
  agent.setOutput('summary', summary);
  agent.summary(`UpdateGitOpsVersions ${environment}`, result.summaryMarkdown);
  if (!result.changed) return `${environment} is up to date: nothing written.`;
  return `${result.changes.length} component(s) updated in ${environment}${result.dryRun ? ' (dry run: nothing written)' : ''}: ${result.files.join(', ')}`;
});
