import * as path from 'node:path';
import { shown, UserError } from '../errors';
import { fillTemplate } from '../template';
import { Git } from './git';

/** Longest file name most filesystems allow: git stores each part of a ref name as one. */
const MAX_REF_COMPONENT_BYTES = 255;

/**
 * The values a component's tag format and message are filled with: `{name}`, `{version}`, and `{dir}`, the
 * component's folder name (as the original scripts named tags; the searched folder's name for a package at
 * its root).
 */
export function tagValues(component: { name: string; version?: string; path: string }, root: string): { name: string; version: string; dir: string } {
  const dir = component.path === '.' ? path.basename(path.resolve(root)) : path.posix.basename(component.path);
  return { name: component.name, version: component.version ?? '', dir };
}

/** The git tag of a component, e.g. `heuristic/1.4.2`, refused unless git accepts it as a ref. */
export async function gitTag(format: string, values: { name: string; version: string; dir?: string }): Promise<string> {
  const tag = fillTemplate('tagFormat', format, { name: values.name, version: values.version, ...(values.dir !== undefined ? { dir: values.dir } : {}) });
  const tooLong = tag.split('/').some((part) => Buffer.byteLength(part) > MAX_REF_COMPONENT_BYTES);
  // eslint-disable-next-line no-control-regex -- git refuses control characters; a NUL cannot even reach it in argv
  if (tooLong || /[\u0000-\u001f\u007f]/.test(tag) || !(await Git.isValidRef(`refs/tags/${tag}`))) {
    const why = tooLong
      ? `(a part between '/' is longer than ${MAX_REF_COMPONENT_BYTES} bytes, which git cannot store as a file name): shorten it`
      : `(see git check-ref-format): avoid spaces, '..', '~', '^', ':', '?', '*', '[', '\\' and a trailing '/' or '.lock'`;
    throw new UserError(`tagFormat ${shown(format)} gives ${shown(tag)} for ${shown(values.name)}, which is not a valid git tag ${why}.`);
  }
  return tag;
}
