import { shown, UserError } from '../errors';
import { fillTemplate } from '../template';

const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

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

/** Whether `tag` is a valid OCI image tag. */
export const isImageTag = (tag: string): boolean => IMAGE_TAG.test(tag);

/** `v{version}` or `v{version}-{preRelease}`, validated. */
export function imageTag(version: string, options: { format?: string; preRelease?: string } = {}): string {
  const base = fillTemplate('imageTagFormat', options.format || 'v{version}', { version });
  const tag = options.preRelease ? `${base}-${options.preRelease}` : base;
  return validateImageTag(tag);
}

/**
 * The `additionalTags` of a component at `version`, placeholders filled (`{version}`, `{major}`, `{minor}`,
 * `{patch}`: `{major}.{minor}` of 1.4.2 is 1.4), each a valid tag. These tags move with every build.
 */
export function additionalImageTags(templates: readonly string[], version: string): string[] {
  // A component's version is SemVer (discovery refuses anything else): its first three numbers.
  const [major = '', minor = '', patch = ''] = /^(\d+)\.(\d+)\.(\d+)/.exec(version)?.slice(1) ?? [];
  const values = { version, major, minor, patch };
  return templates.map((template) => {
    const tag = fillTemplate('additionalTags', template, values);
    return validateImageTag(tag, tag === template ? 'additionalTags entry' : `additionalTags entry ${shown(template)} filled in as`);
  });
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
