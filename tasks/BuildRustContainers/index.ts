import { buildRustContainers, type BuildContainersResult } from '../../shared/flows/build-containers';
import { skippedManifestsSummary } from '../../shared/cargo/problems';
import { UserError } from '../../shared/errors';
import { parseList } from '../../shared/inputs';
import type { Agent } from '../../shared/agent';
import { runTask } from '../common/task-lib-agent';

/** The registry and its credentials: the Docker registry service connection, or the explicit inputs. */
function registryAccess(agent: Agent): { registry: string; username?: string; password?: string } {
  const connection = agent.input('containerRegistry');
  const endpoint = connection ? agent.endpoint(connection) : undefined;
  if (connection && !endpoint) throw new UserError(`The service connection '${connection}' was not found: check containerRegistry and that the pipeline may use it.`);
  const registry = agent.input('registry') || endpoint?.data.loginServer || endpoint?.data.registry || endpoint?.url || '';
  if (!registry) throw new UserError('No registry is given: set containerRegistry (a Docker registry service connection) or registry.');
  const username = endpoint ? endpoint.username : agent.input('registryUsername') || undefined;
  const password = endpoint ? endpoint.password : agent.secretInput('registryPassword') || undefined;
  if (password) agent.setSecret(password);
  return { registry, username, password };
}

/** `$(Build.BuildId)` left unexpanded (e.g. from a template) is filled from the pipeline's variables. */
const expand = (agent: Agent, text: string) => text.replace(/\$\(([\w.]+)\)/g, (whole, name: string) => agent.variable(name) ?? whole);

function summary(result: BuildContainersResult): string {
  const rows = result.outcomes.map(
    (o) => `| ${o.component} | ${o.version} | ${o.reference ? `\`${o.reference}\`` : ''} | ${o.status} | ${o.digest ? `\`${o.digest}\`` : o.note ?? ''} |`,
  );
  return [`Built ${result.built}, skipped ${result.skipped}${result.builder ? ` (with ${result.builder})` : ''}.`, '', '| Component | Version | Image | Status | Digest |', '| --- | --- | --- | --- | --- |', ...rows].join('\n') + '\n' + skippedManifestsSummary(result.skippedManifests);
}

void runTask(__dirname, async (agent) => {
  const access = registryAccess(agent);
  const result = await buildRustContainers(
    {
      componentsPath: agent.input('componentsPath') || agent.variable('Build.SourcesDirectory') || process.cwd(),
      components: agent.input('components'),
      excludePaths: parseList(agent.input('excludePaths')),
      dockerfile: agent.input('dockerfile'),
      buildContext: agent.input('buildContext'),
      registry: access.registry,
      credentials: { username: access.username, password: access.password },
      repositoryPrefix: agent.input('repositoryPrefix'),
      imageTagFormat: agent.input('imageTagFormat'),
      preRelease: expand(agent, agent.input('preRelease')),
      additionalTags: parseList(agent.input('additionalTags')),
      overwrite: agent.boolInput('overwrite', false),
      platforms: parseList(agent.input('platforms')),
      builder: agent.input('builder') || 'auto',
      buildArgs: agent.input('buildArgs').split(/\r?\n/).filter((line) => line.trim()),
      changedOnly: agent.boolInput('changedOnly', false),
      changedSince: agent.input('changedSince'),
      tagFormat: agent.input('tagFormat'),
      mode: agent.input('mode') || 'build',
      manifestPath: agent.input('manifestPath'),
      push: agent.boolInput('push', true),
      dryRun: agent.boolInput('dryRun', false),
      buildId: agent.variable('Build.BuildId'),
      commit: agent.variable('Build.SourceVersion'),
      sourceUrl: agent.variable('Build.Repository.Uri'),
      tempDir: agent.tempDir(),
    },
    agent,
  );
  agent.setOutput('images', JSON.stringify(result.images));
  agent.setOutput('matrix', JSON.stringify(result.matrix));
  agent.setOutput('built', String(result.built));
  agent.setOutput('skipped', String(result.skipped));
  agent.summary('BuildRustContainers', summary(result));
  const planned = Object.keys(result.matrix).length;
  if (agent.input('mode') === 'plan') return `Planned ${planned} build(s), skipped ${result.skipped}`;
  return `Built ${result.built} image(s), skipped ${result.skipped}${result.manifestPath ? `; ${result.manifestPath}` : ''}`;
});
