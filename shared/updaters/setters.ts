import { type Scalar, visit } from 'yaml';
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

/** Every string scalar followed by a marker on its line, with the marker. */
export function markedScalars(parsed: ParsedFile): Array<{ node: Scalar<string>; marker: NonNullable<ReturnType<typeof parseMarker>> }> {
  const out: Array<{ node: Scalar<string>; marker: NonNullable<ReturnType<typeof parseMarker>> }> = [];
  for (const document of parsed.documents) {
    visit(document, {
      Scalar(_key, node: Scalar) {
        if (!node.range || typeof node.value !== 'string') return;
        const end = node.range[1];
        const lineEnd = parsed.text.indexOf('\n', end);
        const marker = parseMarker(parsed.text.slice(end, lineEnd === -1 ? parsed.text.length : lineEnd));
        if (marker) out.push({ node: node as Scalar<string>, marker });
      },
    });
  }
  return out;
}

export function findSetterEdits(parsed: ParsedFile, changes: readonly ImageChange[]): FileEdits {
  const result: FileEdits = { edits: [], touched: new Set(), images: [] };
  for (const { node, marker } of markedScalars(parsed)) {
    const change = changes.find((c) => c.component === marker.component);
    if (!change) continue;
    let value: string | undefined;
    if (marker.part === 'tag') value = change.to.tag;
    else if (marker.part === 'digest') {
      value = change.to.digest;
      if (!value) (result.notes ??= []).push({ message: `a :digest marker for ${change.component} is left as it is: the new image ${change.to.name}:${change.to.tag} has no digest (set pinDigest: true)`, offset: node.range![0] });
    } else if (marker.part === 'name') value = repositoryFor(change, node.value);
    else {
      const ref = parseImageRef(node.value);
      value = newReference(change, ref ?? { name: change.to.name });
      result.images.push({ image: value, offset: node.range![0] });
    }
    const edit = value === undefined ? undefined : setScalar(node, value);
    if (edit) {
      result.edits.push(edit);
      result.touched.add(change.component);
    }
  }
  return result;
}

/** Text in, text out: every value carrying a marker of a changed component set to its new value. */
export function update(text: string, changes: readonly ImageChange[], file = 'values.yaml') {
  return updateText(findSetterEdits, text, changes, file);
}

/** The images that a component's markers set today (`:tag` markers read with `repository`), for a first run without a lock entry. */
export function readSetterImages(parsed: ParsedFile, component: string, repository: string): Array<{ image: string; offset: number }> {
  return markedScalars(parsed)
    .filter(({ marker }) => marker.component === component && (marker.part === 'image' || marker.part === 'tag'))
    .map(({ node, marker }) => ({ image: marker.part === 'tag' ? `${repository}:${node.value}` : node.value, offset: node.range![0] }));
}
