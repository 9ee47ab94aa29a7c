import * as path from 'node:path';
import type { Agent } from '../../shared/agent';
import { DEFAULT_IDENTITY, TagComponentsError, type TagComponentsOptions, type TagComponentsResult } from '../../shared/flows/tag-components';
import { boolInput, parseList } from '../../shared/inputs';
import { tagSummary } from '../../shared/summaries';

/** TagComponents@1's inputs and pipeline variables as the flow's options, every task.json default applied. */
export function readOptions(agent: Agent): TagComponentsOptions {
  const requestedBy = agent.variable('Build.RequestedFor');
  const requestedByEmail = agent.variable('Build.RequestedForEmail');
  return {
    componentsPath: path.resolve(agent.input('componentsPath') || agent.variable('Build.SourcesDirectory') || '.'),
    components: agent.input('components'),
    excludePaths: parseList(agent.input('excludePaths')),
    tagFormat: agent.input('tagFormat') || '{name}/{version}',
    annotated: boolInput(agent, 'annotated', true),
    message: agent.input('message') || '{name} {version}',
    onExisting: agent.input('onExisting') || 'skip',
    push: boolInput(agent, 'push', true),
    remote: agent.input('remote') || 'origin',
    dryRun: boolInput(agent, 'dryRun', false),
    token: agent.accessToken(),
    network: agent.network(),
    tempDir: agent.tempDir(),
    // The queuing user tags, as they would by hand; a bare agent has no git identity.
    identity: requestedBy && requestedByEmail ? { name: requestedBy, email: requestedByEmail } : DEFAULT_IDENTITY,
  };
}

/** Outputs `tags` and `components`, the summary; returns the task's closing message. */
export function report(agent: Agent, result: TagComponentsResult): string {
  agent.setOutput('tags', result.tags.join(','));
  // The contract calls a tag a dry run would create `planned`, never `created`.
  const components = result.components.map((c) => (result.dryRun && c.status === 'created' ? { ...c, status: 'planned' } : c));
  agent.setOutput('components', JSON.stringify(components));
  agent.summary('Rust component tags', tagSummary(result));
  const count = (status: string) => result.components.filter((c) => c.status === status).length;
  const counts = `${count('created')} created, ${count('moved')} moved, ${count('exists')} already there, ${count('skipped')} skipped`;
  return result.dryRun ? `Dry run: ${counts} (nothing written)` : counts;
}

/** A conflict (onExisting: fail) or a refused push still reports each component, `failed` where it failed; then the task fails. */
export function reportFailure(agent: Agent, error: unknown): never {
  if (error instanceof TagComponentsError) report(agent, error.result);
  throw error;
}
