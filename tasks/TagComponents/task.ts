import * as path from 'node:path';
import type { Agent } from '../../shared/agent';
import { DEFAULT_IDENTITY, TagComponentsError, type TagComponentsOptions, type TagComponentsResult } from '../../shared/flows/tag-components';
import { UserError } from '../../shared/errors';
import { boolInput, parseList } from '../../shared/inputs';
import { isPullRequestBuild, PULL_REQUEST_PLAN_ONLY } from '../../shared/pull-request';
import { tagOutcome, tagSummary } from '../../shared/summaries';

/** TagComponents@1's inputs and pipeline variables as the flow's options, every task.json default applied. */
export function readOptions(agent: Agent): TagComponentsOptions {
  const requestedBy = agent.variable('Build.RequestedFor');
  const requestedByEmail = agent.variable('Build.RequestedForEmail');
  const onPullRequest = agent.input('onPullRequest') || 'plan';
  if (onPullRequest !== 'plan' && onPullRequest !== 'tag') throw new UserError(`Input 'onPullRequest' must be plan or tag, not '${onPullRequest}'.`);
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
    // A pull request build's commit may never merge: plan only, unless the pipeline asks to tag anyway.
    ...(onPullRequest === 'plan' && isPullRequestBuild(agent) ? { dryRunReason: PULL_REQUEST_PLAN_ONLY } : {}),
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
  agent.setOutput('components', JSON.stringify(result.components));
  agent.summary('Rust component tags', tagSummary(result));
  return result.dryRun ? `${tagOutcome(result)} (nothing tagged or pushed)` : tagOutcome(result);
}

/** A conflict (onExisting: fail) or a refused push still reports each component, `failed` where it failed; then the task fails. */
export function reportFailure(agent: Agent, error: unknown): never {
  if (error instanceof TagComponentsError) report(agent, error.result);
  throw error;
}
