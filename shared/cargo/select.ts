import { shown, UserError } from '../errors';
import { parseList } from '../inputs';
import { wildcard } from '../wildcard';

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
    const matches = wildcard(pattern);
    if (!items.some((item) => matches(item.name))) {
      const names = items.map((item) => item.name).sort();
      const known = (names.length > 50 ? [...names.slice(0, 50), `and ${names.length - 50} more`] : names).join(', ') || 'none';
      throw new UserError(`No ${what} matches ${shown(pattern)} in the components input. Known: ${known}.`);
    }
  }
  const includeMatchers = includes.map(wildcard);
  const excludeMatchers = excludes.map(wildcard);
  const included = includes.length ? items.filter((item) => includeMatchers.some((matches) => matches(item.name))) : items;
  return included.filter((item) => !excludeMatchers.some((matches) => matches(item.name)));
}
