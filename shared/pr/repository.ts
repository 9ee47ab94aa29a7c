import { UserError } from '../errors';
import type { Git } from '../git/git';

/**
 * Project and repository of the pull request: the inputs, else what the working copy's origin URL
 * names (`…/<project>/_git/<repo>`, or `v3/<org>/<project>/<repo>` over SSH), else System.TeamProject.
 * Reading the project from the URL is what puts the pull request where the GitOps repository lives.
 */
export async function repositoryCoordinates(git: Git, options: { project?: string; repository?: string; defaultProject?: string }): Promise<{ project: string; repository: string }> {
  const origin = await git.run(['remote', 'get-url', 'origin'], { allowFailure: true });
  const parsed = origin.code === 0 ? parseRemoteUrl(origin.stdout.trim()) : undefined;
  const repository = options.repository || parsed?.repository;
  // The origin's project counts only for the origin's repository.
  const originProject = parsed && (!options.repository || options.repository.toLowerCase() === parsed.repository.toLowerCase()) ? parsed.project : undefined;
  const project = options.project || originProject || options.defaultProject;
  if (!repository) throw new UserError(`Input 'repository' is empty and the working copy has no Azure Repos 'origin' to read it from: set 'repository' to the GitOps repository's name or id.`);
  if (!project) throw new UserError(`Input 'project' is empty and could not be read from the working copy's origin: set 'project'.`);
  return { project, repository };
}

export function parseRemoteUrl(url: string): { project: string; repository: string } | undefined {
  const ssh = /^(?:ssh:\/\/)?[^@]+@[^:/]+[:/]v3\/[^/]+\/([^/]+)\/([^/]+?)\/?$/.exec(url);
  if (ssh) return { project: decodeURIComponent(ssh[1]), repository: decodeURIComponent(ssh[2]) };
  try {
    const parts = new URL(url).pathname.split('/').filter(Boolean);
    const at = parts.indexOf('_git');
    if (at < 1 || !parts[at + 1]) return undefined;
    return { project: decodeURIComponent(parts[at - 1]), repository: decodeURIComponent(parts[at + 1]).replace(/\.git$/, '') };
  } catch {
    return undefined;
  }
}
