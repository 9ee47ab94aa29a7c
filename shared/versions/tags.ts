import { UserError } from '../errors';
import { Git } from '../git/git';
import { fill } from '../inputs';

const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/** Fills a template such as `{name}/{version}`; an unknown placeholder is an error. */
function fillKnown(template: string, values: Record<string, string>, input: string): string {
  const unknown = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).filter((key) => !(key in values));
  if (unknown.length) {
    throw new UserError(`${input} '${template}' uses {${unknown[0]}}, which is not known: use ${Object.keys(values).map((k) => `{${k}}`).join(', ')}.`);
  }
  return fill(template, values);
}

/** The git tag of a component, e.g. `heuristic/1.4.2`, refused unless git accepts it as a ref. */
export async function gitTag(format: string, component: { name: string; version: string }): Promise<string> {
  const tag = fillKnown(format, { name: component.name, version: component.version }, 'tagFormat');
  if (!(await Git.isValidRef(`refs/tags/${tag}`))) {
    throw new UserError(
      `tagFormat '${format}' gives '${tag}' for ${component.name}, which is not a valid git tag (see git check-ref-format): avoid spaces, '..', '~', '^', ':', '?', '*', '[', '\\' and a trailing '/' or '.lock'.`,
    );
  }
  return tag;
}

/** Throws unless `tag` is a valid OCI image tag, explaining a `+`. */
export function validateImageTag(tag: string, origin = 'image tag'): string {
  if (tag.includes('+')) {
    throw new UserError(
      `${origin} '${tag}' contains '+', which container registries do not allow in tags (SemVer build metadata cannot be expressed): use '-' instead, e.g. a preRelease of 'rc.$(Build.BuildId)'.`,
    );
  }
  if (!IMAGE_TAG.test(tag)) {
    throw new UserError(`${origin} '${tag}' is not a valid image tag: use letters, digits, '_', '.' and '-', at most 128 characters, not starting with '.' or '-'.`);
  }
  return tag;
}

/** `v{version}` or `v{version}-{preRelease}`, validated. */
export function imageTag(version: string, options: { format?: string; preRelease?: string } = {}): string {
  const base = fillKnown(options.format || 'v{version}', { version }, 'imageTagFormat');
  const tag = options.preRelease ? `${base}-${options.preRelease}` : base;
  return validateImageTag(tag);
}

/** Throws unless `repository` is a valid lowercase OCI repository path. */
export function validateRepository(repository: string): string {
  if (!REPOSITORY.test(repository) || repository.length > 255) {
    throw new UserError(
      `'${repository}' is not a valid image repository: use lowercase letters, digits and separators ('.', '_', '-', '/'), e.g. 'edge/heuristic'.`,
    );
  }
  return repository;
}
