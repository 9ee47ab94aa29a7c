import { shown, UserError } from './errors';

/**
 * Fills the `{placeholder}`s of an input's template, e.g. `{name}/{version}`: the one way every task fills
 * tag formats, messages, image tags, paths, titles and branch names. An unknown placeholder is refused,
 * naming the input and the placeholders it knows; with `keepUnknown` (free text such as a pull request
 * description, where braces may be prose) it is left as written.
 */
export function fillTemplate(input: string, template: string, values: Record<string, string>, options: { keepUnknown?: boolean } = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    if (Object.hasOwn(values, key)) return values[key];
    if (options.keepUnknown) return whole;
    const known = Object.keys(values).map((k) => `{${k}}`).join(', ');
    throw new UserError(`${input} ${shown(template)} uses ${whole}, which is not known: use ${known}.`);
  });
}
