import { shown, UserError } from '../errors';
import { fillTemplate } from '../template';
import { Git } from './git';

/** Longest file name most filesystems allow: git stores each part of a ref name as one. */
const MAX_REF_COMPONENT_BYTES = 255;

/** The git tag of a component, e.g. `heuristic/1.4.2`, refused unless git accepts it as a ref. */
export async function gitTag(format: string, component: { name: string; version: string }): Promise<string> {
  const tag = fillTemplate('tagFormat', format, { name: component.name, version: component.version });
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
