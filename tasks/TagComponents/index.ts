import type { Agent } from '../../shared/agent';
import { DEFAULT_IDENTITY, TagComponentsError, tagComponents, tagSummary, type TagComponentsResult } from '../../shared/flows/tag-components';
import { parseList } from '../../shared/inputs';
import { runTask } from '../common/task-lib-agent';

function report(agent: Agent, result: TagComponentsResult): void {
  agent.setOutput('tags', result.tags.join(','));
  agent.setOutput('components', JSON.stringify(result.components));
  agent.summary('Rust component tags', tagSummary(result));
}

void runTask(__dirname, async (agent) => {
  const requestedBy = agent.variable('Build.RequestedFor');
  const requestedByEmail = agent.variable('Build.RequestedForEmail');
  const options = {
    componentsPath: agent.input('componentsPath') || agent.variable('Build.SourcesDirectory') || process.cwd(),
    components: agent.input('components'),
    excludePaths: parseList(agent.input('excludePaths')),
    tagFormat: agent.input('tagFormat'),
    annotated: agent.boolInput('annotated', true),
    message: agent.input('message'),
    onExisting: agent.input('onExisting'),
    push: agent.boolInput('push', true),
    remote: agent.input('remote'),
    dryRun: agent.boolInput('dryRun', false),
    token: agent.accessToken(),
    identity: requestedBy && requestedByEmail ? { name: requestedBy, email: requestedByEmail } : DEFAULT_IDENTITY,
  };
  const result = await tagComponents(options, agent).catch((error: unknown) => {
    // A conflict (onExisting: fail) or a refused push still reports each component, `failed` where it failed.
    if (error instanceof TagComponentsError) report(agent, error.result);
    throw error;
  });
  report(agent, result);
  const count = (status: string) => result.components.filter((c) => c.status === status).length;
  const counts = `${count('created')} created, ${count('moved')} moved, ${count('exists')} already there, ${count('skipped')} skipped`;
  return result.dryRun ? `Dry run: ${counts} (nothing written)` : counts;
});
