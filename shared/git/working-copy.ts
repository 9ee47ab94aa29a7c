import type { Git } from './git';

/** Paths (relative to the working copy's top) among `paths` that differ from HEAD: modified, staged, or untracked. */
export async function uncommitted(git: Git, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const out = (await git.run(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...paths])).stdout;
  return out
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}

/**
 * The environment that gives git `fallback` for each part of the author and committer identity it has
 * neither from the environment (GIT_AUTHOR_NAME, …) nor from its configuration (user.name, user.email):
 * empty when git has a full identity. A bare agent has none, and git refuses to commit or tag without one.
 */
export async function identityEnv(git: Git, fallback: { name: string; email: string }): Promise<Record<string, string>> {
  const config = await git.config(['user.name', 'user.email']);
  const env: Record<string, string> = {};
  for (const role of ['AUTHOR', 'COMMITTER']) {
    for (const part of ['name', 'email'] as const) {
      const key = `GIT_${role}_${part.toUpperCase()}`;
      if (!process.env[key] && !config.get(`user.${part}`)) env[key] = fallback[part];
    }
  }
  return env;
}
