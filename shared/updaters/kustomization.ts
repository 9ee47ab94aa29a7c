import { type Document, isMap, isScalar, isSeq, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { UserError } from '../errors';
import { changeFor, type FileEdits, type ImageChange, type ParsedFile, repositoryFor, updateText } from './change';
import { addPairEdit, columnOf, describeNode, type Edit, endOfLine, eolOf, formatScalar, isNullNode, lastValueEnd, lineOf, removePairEdit, setScalar, startOfLine } from './yaml-text';

/**
 * kustomize `images:` entries: `name` (the image as the resources write it), `newName`, `newTag`,
 * `digest`. An entry belongs to a component when its newName, or its name when it has no newName, is the
 * component's repository (with or without registry host). Missing fields are added on new lines in the
 * entry's indentation; a digest is removed when the new image has none.
 */

export const isKustomizationFile = (file: string): boolean => /(^|[\\/])(kustomization\.ya?ml|Kustomization)$/.test(file);

const keyOf = (pair: Pair) => (isScalar(pair.key) ? String(pair.key.value) : '');

export function findKustomizationEdits(parsed: ParsedFile, changes: readonly ImageChange[]): FileEdits {
  const { text, documents } = parsed;
  const result: FileEdits = { edits: [], touched: new Set(), images: [] };
  for (const document of documents) {
    const root = document.contents;
    if (!isMap(root)) continue;
    const images = root.items.find((p) => keyOf(p as Pair) === 'images') as Pair<Scalar, unknown> | undefined;
    if (!images || isNullNode(images.value)) continue;
    // kustomize refuses these too: say so rather than leave the overlay on the old image.
    const at = (node: unknown) => lineOf(text, (node as Node).range?.[0] ?? images.key.range?.[0] ?? 0);
    if (!isSeq(images.value)) {
      throw new UserError(`'images' must be a list of entries (- name: ..., newTag: ...), not ${describeNode(images.value)}.`, { file: parsed.file, line: at(images.value) });
    }
    for (const item of images.value.items) {
      if (!isMap(item)) {
        throw new UserError(`Each 'images' entry must be a mapping with name, newName, newTag or digest, not ${describeNode(item)}.`, { file: parsed.file, line: at(item) });
      }
      const entry = item as YAMLMap<Scalar, Scalar>;
      const field = (key: string) => entry.items.find((p) => keyOf(p as Pair) === key) as Pair<Scalar, Scalar> | undefined;
      const str = (key: string) => {
        const value = field(key)?.value;
        return isScalar(value) && value.value !== null ? String(value.value) : undefined;
      };
      const name = str('name');
      const newName = str('newName');
      const repository = newName ?? name;
      if (!repository) continue;
      if (newName !== undefined && name !== undefined) (result.renamed ??= []).push(name);
      const change = changeFor(changes, repository);
      const offset = entry.range![0];
      if (!change) {
        const tag = str('newTag');
        const digest = str('digest');
        result.images.push({ image: `${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`, offset });
        continue;
      }
      const edits: Edit[] = [];
      const style = (field('newTag')?.value ?? field('newName')?.value ?? field('name')?.value)?.type;
      const set = (key: string, value: string) => {
        const pair = field(key);
        if (pair && isScalar(pair.value)) {
          const edit = setScalar(pair.value, value);
          if (edit) edits.push(edit);
        } else edits.push(addPairEdit(text, entry, key, formatScalar(value, style)));
      };
      const targetName = repositoryFor(change, repository);
      if (newName !== undefined) set('newName', targetName);
      else if (targetName !== repository) set('newName', targetName);
      set('newTag', change.to.tag);
      if (change.to.digest) set('digest', change.to.digest);
      else {
        const digest = field('digest');
        if (digest) edits.push(removePairEdit(text, entry, digest));
      }
      if (edits.length) {
        result.edits.push(...edits);
        result.touched.add(change.component);
      }
      result.images.push({ image: `${targetName}:${change.to.tag}${change.to.digest ? `@${change.to.digest}` : ''}`, offset });
    }
  }
  return result;
}

/** Text in, text out: the kustomization with every matching `images:` entry moved to its new image. */
export function update(text: string, changes: readonly ImageChange[], file = 'kustomization.yaml') {
  return updateText(findKustomizationEdits, text, changes, file);
}

/** An `images:` entry as a pin writes it: the image name the entry matches, and what it becomes. */
export interface ImagesPin {
  name: string;
  newName?: string;
  newTag: string;
  digest?: string;
}

const pairIn = (map: YAMLMap, key: string) => map.items.find((p) => keyOf(p as Pair) === key) as Pair<Scalar, Node | null> | undefined;

/** The lines of a new block-list item `fields`, dash and keys indented as the file's other lists are. */
function blockItem(text: string, fields: Array<[string, string]>, dashIndent: string, keyIndent: string): string {
  const eol = eolOf(text);
  return fields.map(([key, value], i) => `${i ? keyIndent : `${dashIndent}-${' '.repeat(Math.max(1, keyIndent.length - dashIndent.length - 1))}`}${key}: ${formatScalar(value, undefined)}${eol}`).join('');
}

/** How the file indents list items: the dash and first-key columns of an existing block list's first mapping or scalar item. */
function listStyle(text: string, root: YAMLMap): { dash: string; key: string } {
  for (const pair of root.items as Array<Pair<Scalar, Node | null>>) {
    if (!isSeq(pair.value) || pair.value.flow || !pair.value.items.length) continue;
    const first = pair.value.items[0] as Node;
    const start = isMap(first) ? (first.items[0] as Pair<Node>).key.range![0] : first.range![0];
    const lineStart = startOfLine(text, start);
    const dash = text.indexOf('-', lineStart);
    return { dash: ' '.repeat(dash - lineStart), key: ' '.repeat(start - lineStart) };
  }
  return { dash: '', key: '  ' };
}

/**
 * The edit that appends an item (a mapping of `fields`) to the root list `key` of a kustomization: after
 * its last item in the list's own indentation, inside the brackets of a flow list, or as a new `key:` list
 * at the end of the file. Undefined when the list is something else (the caller says it cannot pin).
 */
export function appendToRootList(text: string, document: Document, key: string, fields: Array<[string, string]>): Edit | undefined {
  const root = document.contents;
  if (!isMap(root) || root.flow) return undefined;
  const pair = pairIn(root, key);
  const eol = eolOf(text);
  const style = listStyle(text, root);
  if (!pair) {
    const indent = ' '.repeat(columnOf(text, (root.items[0] as Pair<Node>).key.range![0]));
    const lead = text.length && !text.endsWith('\n') ? eol : '';
    return { start: text.length, end: text.length, text: `${lead}${indent}${key}:${eol}${blockItem(text, fields, indent + style.dash, indent + style.key)}` };
  }
  const value = pair.value;
  if (isNullNode(value)) {
    // `key:`, `key: null` or `key: ~`: the items replace everything after the colon
    const start = text.indexOf(':', pair.key.range![1]) + 1;
    const indent = ' '.repeat(columnOf(text, pair.key.range![0]));
    return { start, end: (value as Node | null)?.range?.[1] ?? start, text: `${eol}${blockItem(text, fields, indent + style.dash, indent + style.key).slice(0, -eol.length)}` };
  }
  if (!isSeq(value)) return undefined;
  const flow = `{${fields.map(([k, v]) => `${k}: ${formatScalar(v, undefined)}`).join(', ')}}`;
  if (value.flow) {
    const close = value.range![1] - 1;
    return { start: close, end: close, text: value.items.length ? `, ${flow}` : flow };
  }
  const first = value.items[0] as Node;
  const start = isMap(first) ? (first.items[0] as Pair<Node>).key.range![0] : first.range![0];
  const lineStart = startOfLine(text, start);
  const dash = ' '.repeat(text.indexOf('-', lineStart) - lineStart);
  const at = endOfLine(text, lastValueEnd(value));
  const item = blockItem(text, fields, dash, ' '.repeat(start - lineStart));
  if (at === text.length && !text.endsWith('\n')) return { start: at, end: at, text: `${eol}${item.slice(0, -eol.length)}` };
  return { start: at, end: at, text: item };
}

/**
 * The edits that make a kustomization run `pin` for images named `pin.name`: its existing root `images:`
 * entry of that name set to exactly newName/newTag/digest, or a new entry appended. Undefined when the
 * file's `images:` cannot be edited safely.
 */
export function pinImageEdits(parsed: ParsedFile, pin: ImagesPin): Edit[] | undefined {
  const document = parsed.documents[0];
  const root = document?.contents;
  if (!isMap(root)) return undefined;
  const images = pairIn(root, 'images')?.value;
  const entry = isSeq(images) ? (images.items.find((item) => isMap(item) && isScalar(pairIn(item, 'name')?.value) && String((pairIn(item, 'name')!.value as Scalar).value) === pin.name) as YAMLMap | undefined) : undefined;
  if (!entry) {
    const fields: Array<[string, string]> = [['name', pin.name]];
    if (pin.newName) fields.push(['newName', pin.newName]);
    fields.push(['newTag', pin.newTag]);
    if (pin.digest) fields.push(['digest', pin.digest]);
    const edit = appendToRootList(parsed.text, document, 'images', fields);
    return edit && [edit];
  }
  const edits: Edit[] = [];
  const style = (pairIn(entry, 'newTag')?.value as Scalar | undefined)?.type;
  const set = (key: string, value: string | undefined) => {
    const pair = pairIn(entry, key);
    if (value === undefined) {
      if (pair) edits.push(removePairEdit(parsed.text, entry, pair));
    } else if (pair && isScalar(pair.value)) {
      const edit = setScalar(pair.value, value);
      if (edit) edits.push(edit);
    } else if (!pair) edits.push(addPairEdit(parsed.text, entry, key, formatScalar(value, style)));
    else return false;
    return true;
  };
  const ok = set('newName', pin.newName ?? (pairIn(entry, 'newName') ? pin.name : undefined)) && set('newTag', pin.newTag) && set('digest', pin.digest);
  return ok ? edits : undefined;
}
