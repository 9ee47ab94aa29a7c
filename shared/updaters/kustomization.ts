import { isMap, isScalar, isSeq, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { UserError } from '../errors';
import { changeFor, type FileEdits, type ImageChange, type ParsedFile, repositoryFor, updateText } from './change';
import { addPairEdit, describeNode, type Edit, formatScalar, lineOf, removePairEdit, setScalar } from './yaml-text';

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
    if (!images || images.value === null || (isScalar(images.value) && images.value.value === null)) continue;
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
        result.images.push({ image: `${repository}${tag ? `:${tag}` : ''}`, offset });
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
