import type { Agent, Log } from './agent';
import { shown, UserError } from './errors';

/**
 * Pull request builds (`Build.Reason` `PullRequest`: a build validation policy, or a GitHub pull request) build
 * a commit that may never merge. What the tasks publish from one must not look like a release:
 * TagComponents only plans (unless `onPullRequest: tag`), BuildRustContainers pushes only pre-release tags.
 */
export function isPullRequestBuild(agent: Pick<Agent, 'variable'>): boolean {
  return agent.variable('Build.Reason') === 'PullRequest';
}

/** Why TagComponents only plans on a pull request build (its log line and summary say it). */
export const PULL_REQUEST_PLAN_ONLY = 'pull request build: the commit may never merge; set onPullRequest: tag to tag anyway';

/**
 * The additional tags BuildRustContainers pushes on a pull request build: none. The primary tag must be a
 * pre-release (`preRelease` set), else the build fails before anything is built.
 */
export function pullRequestAdditionalTags(preRelease: string | undefined, additionalTags: readonly string[], log: Pick<Log, 'info'>): string[] {
  if (!preRelease) {
    throw new UserError(
      `This is a pull request build (Build.Reason PullRequest): its commit may never merge, so BuildRustContainers pushes only pre-release tags from it. ` +
        `Set preRelease, e.g. pr.$(System.PullRequest.PullRequestId).$(Build.BuildId), or set push: false to build without pushing.`,
    );
  }
  if (additionalTags.length) log.info(`Pull request build: only the pre-release tag is pushed; additionalTags ${shown(additionalTags.join(', '))} are left out.`);
  return [];
}
