import { findOnPath } from '../../shared/process';

/**
 * Tests run against real programs (a registry, builders, kubectl, cargo, htpasswd). A test whose program
 * is missing fails, naming it and the install step, so that a machine without it never passes by
 * skipping; a developer who knowingly lacks one sets this variable to skip those tests instead.
 */
export const ALLOW_MISSING_TOOLS = 'RGR_ALLOW_MISSING_TOOLS';

/** Those of `tools` that are not an executable file in a folder of PATH. */
export async function missingTools(tools: readonly string[]): Promise<string[]> {
  const present = await Promise.all(tools.map((tool) => findOnPath(tool)));
  return tools.filter((_, i) => !present[i]);
}

/** Names the missing programs and how to install them. */
export function missingToolsMessage(missing: readonly string[]): string {
  const one = missing.length === 1;
  return `${missing.join(', ')} ${one ? 'is' : 'are'} not installed (not on PATH), and this needs ${one ? 'it' : 'them'}: run \`bash scripts/install-system-deps.sh\` (kubectl, cargo and the docker CLI come with the machine image)`;
}

/**
 * Fails the running test or hook when one of `tools` is missing, naming it and the install step; with
 * RGR_ALLOW_MISSING_TOOLS=1, skips it instead (in a `before` hook: the whole suite).
 */
export async function requireTool(context: Mocha.Context, ...tools: string[]): Promise<void> {
  const missing = await missingTools(tools);
  if (missing.length === 0) return;
  if (process.env[ALLOW_MISSING_TOOLS] === '1') context.skip();
  throw new Error(`${missingToolsMessage(missing)}, or set ${ALLOW_MISSING_TOOLS}=1 to skip the tests that need a missing program.`);
}
