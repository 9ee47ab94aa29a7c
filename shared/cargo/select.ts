import { UserError } from '../errors';
import { parseList } from '../inputs';

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * Applies the `components` input: names or globs (one a line or comma-separated), `!pattern` excludes.
 * Empty selects everything; only exclusions select everything but them. A pattern that matches no
 * known name is an error that lists what is known, never a silent skip.
 */
export function selectByName<T extends { name: string }>(items: T[], input: string | string[], what = 'component'): T[] {
  const patterns = Array.isArray(input) ? input : parseList(input);
  const includes = patterns.filter((p) => !p.startsWith('!'));
  const excludes = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).trim());
  for (const pattern of [...includes, ...excludes]) {
    const re = globToRegExp(pattern);
    if (!items.some((item) => re.test(item.name))) {
      const known = items.map((item) => item.name).sort().join(', ') || 'none';
      throw new UserError(`No ${what} matches '${pattern}' in the components input. Known: ${known}.`);
    }
  }
  const included = includes.length ? items.filter((item) => includes.some((p) => globToRegExp(p).test(item.name))) : items;
  return included.filter((item) => !excludes.some((p) => globToRegExp(p).test(item.name)));
}
