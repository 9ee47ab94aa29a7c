import { isScalar, type Scalar, visit } from 'yaml';
import { type FileEdits, type ImageChange, newReference, type ParsedFile, parseImageRef, repositoryFor, updateText } from './change';
import { setScalar } from './yaml-text';

/**
 * Flux image-automation setter markers on any YAML line (HelmRelease values, Helm values files, plain
 * manifests): `value # {"$imagepolicy": "<namespace>:<component>"}` sets the whole image reference;
 * with `:tag`, `:name` or `:digest` after the component, only that part.
 */

const MARKER = /^[ \t]*#\s*\{\s*"\$imagepolicy"\s*:\s*"([^"]+)"\s*\}/;

/** The marker's component and which part it sets, or undefined when the text after a value has none. */
export function parseMarker(after: string): { component: string; part: 'image' | 'tag' | 'name' | 'digest' } | undefined {
  const match = MARKER.exec(after);
  if (!match) return undefined;
  const parts = match[1].split(':');
  if (parts.length < 2) return undefined;
  const last = parts[parts.length - 1];
  if (parts.length >= 3 && (last === 'tag' || last === 'name' || last === 'digest')) return { component: parts[1], part: last };
  return { component: parts[1], part: 'image' };
}

export const mentionsSetter = (text: string): boolean => text.includes('$imagepolicy');

export function findSetterEdits(parsed: ParsedFile, changes: readonly ImageChange[]): FileEdits {
  const { text, documents } = parsed;
  const result: FileEdits = { edits: [], touched: new Set(), images: [] };
  for (const document of documents) {
    visit(document, {
      Scalar(_key, node: Scalar) {
        if (!node.range || typeof node.value !== 'string') return;
        const end = node.range[1];
        const lineEnd = text.indexOf('\n', end);
        const marker = parseMarker(text.slice(end, lineEnd === -1 ? text.length : lineEnd));
        if (!marker) return;
        const change = changes.find((c) => c.component === marker.component);
        if (!change) return;
        let value: string | undefined;
        if (marker.part === 'tag') value = change.to.tag;
        else if (marker.part === 'digest') {
          value = change.to.digest;
          if (!value) (result.notes ??= []).push({ message: `a :digest marker for ${change.component} is left as it is: the new image ${change.to.name}:${change.to.tag} has no digest (set pinDigest: true)`, offset: node.range[0] });
        }
        else if (marker.part === 'name') value = repositoryFor(change, node.value);
        else {
          const ref = parseImageRef(node.value);
          value = newReference(change, ref ?? { name: change.to.name });
          result.images.push({ image: value, offset: node.range[0] });
        }
        if (value === undefined || !isScalar(node)) return;
        const edit = setScalar(node, value);
        if (edit) {
          result.edits.push(edit);
          result.touched.add(change.component);
        }
      },
    });
  }
  return result;
}

/** Text in, text out: every value carrying a marker of a changed component set to its new value. */
export function update(text: string, changes: readonly ImageChange[], file = 'values.yaml') {
  return updateText(findSetterEdits, text, changes, file);
}
