import { shown, UserError } from '../errors';
import { Git } from '../git/git';
import { fill } from '../inputs';

const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

/** Fills a template such as `{name}/{version}`; an unknown placeholder is an error. */
function fillKnown(template: string, values: Record<string, string>, input: string): string {
  const unknown = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).filter((key) => !Object.hasOwn(values, key));
  if (unknown.length) {
    throw new UserError(`${input} ${shown(template)} uses {${unknown[0]}}, which is not known: use ${Object.keys(values).map((k) => `{${k}}`).join(', ')}.`);
  }
  return fill(template, values);
}

/** Longest file name most filesystems allow: git stores each part of a ref name as one. */
const MAX_REF_COMPONENT_BYTES = 255;

/** The git tag of a component, e.g. `heuristic/1.4.2`, refused unless git accepts it as a ref. */
export async function gitTag(format: string, component: { name: string; version: string }): Promise<string> {
  const tag = fillKnown(format, { name: component.name, version: component.version }, 'tagFormat');
  const tooLong = tag.split('/').some((part) => Buffer.byteLength(part) > MAX_REF_COMPONENT_BYTES);
  // eslint-disable-next-line no-control-regex -- git refuses control characters; a NUL cannot even reach it in argv
  if (tooLong || /[\u0000-\u001f\u007f]/.test(tag) || !(await Git.isValidRef(`refs/tags/${tag}`))) {
    const why = tooLong
      ? `(a part between '/' is longer than ${MAX_REF_COMPONENT_BYTES} bytes, which git cannot store as a file name): shorten it`
      : `(see git check-ref-format): avoid spaces, '..', '~', '^', ':', '?', '*', '[', '\\' and a trailing '/' or '.lock'`;
    throw new UserError(`tagFormat ${shown(format)} gives ${shown(tag)} for ${shown(component.name)}, which is not a valid git tag ${why}.`);
  }
  return tag;
}

/** Throws unless `tag` is a valid OCI image tag, explaining a `+`. */
export function validateImageTag(tag: string, origin = 'image tag'): string {
  if (tag.includes('+')) {
    throw new UserError(
      `${origin} ${shown(tag)} contains '+', which container registries do not allow in tags (SemVer build metadata cannot be expressed): use '-' instead, e.g. a preRelease of 'rc.$(Build.BuildId)'.`,
    );
  }
  if (!IMAGE_TAG.test(tag)) {
    throw new UserError(`${origin} ${shown(tag)} is not a valid image tag: use letters, digits, '_', '.' and '-', at most 128 characters, not starting with '.' or '-'.`);
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
      `${shown(repository)} is not a valid image repository: use lowercase letters, digits and separators ('.', '_', '-', '/'), e.g. 'edge/heuristic'.`,
    );
  }
  return repository;
}
