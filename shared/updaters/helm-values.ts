import { type Document, isMap, isScalar, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { shown, UserError } from '../errors';
import { parseImageRef, sameRepository } from '../images/reference';
import { fromYaml, isLeaf, isTMap, type Leaf, SourceText, type TNode } from '../kustomize/tree';
import { changeFor, type FileEdits, type ImageChange, newReference, type ParsedFile, repositoryFor } from './change';
import { isKustomizationFile } from './kustomization';
import { addPairEdit, type Edit, formatScalar, setScalar } from './yaml-text';

/**
 * Helm values that name an image by key paths rather than a Flux marker: the `helmValues` input maps a
 * component to the keys holding its tag (`heuristic=image.tag`) or to several parts
 * (`heuristic=repository:image.repository,tag:image.tag,digest:image.digest`, or `image:path` for a key
 * holding the whole reference). Paths are relative to a values file's document, or to a HelmRelease's
 * `spec.values`. A line with a repository (or image) path edits only values whose repository is the
 * component's; a tag-only line edits every values document that has the path.
 */

export type HelmPart = 'repository' | 'tag' | 'digest' | 'image';
const PARTS: Record<string, HelmPart> = { repository: 'repository', name: 'repository', tag: 'tag', digest: 'digest', image: 'image' };

export interface HelmMapping {
  component: string;
  paths: Partial<Record<HelmPart, string[]>>;
  /** 'helmValues line 2', for messages. */
  origin: string;
}

const KEY = /^[^.,:=\s]+$/;

/** Reads the helmValues input, one mapping a line; a bad line is a UserError naming it and the form. */
export function parseHelmValues(lines: string[]): HelmMapping[] {
  const form = `write 'component=image.tag' or 'component=repository:image.repository,tag:image.tag' (parts: repository, tag, digest, image)`;
  const mappings: HelmMapping[] = [];
  lines.forEach((raw, index) => {
    const text = raw.trim();
    if (!text || text.startsWith('#')) return;
    const origin = `helmValues line ${index + 1}`;
    const eq = text.indexOf('=');
    const component = text.slice(0, eq).trim();
    if (eq < 1 || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(component)) throw new UserError(`${origin} (${shown(text)}) has no component before '=': ${form}.`);
    const paths: HelmMapping['paths'] = {};
    const items = text.slice(eq + 1).split(',').map((s) => s.trim());
    for (const item of items) {
      const colon = item.indexOf(':');
      const part = colon < 0 && items.length === 1 ? 'tag' : PARTS[item.slice(0, colon).trim()];
      const keys = (colon < 0 ? item : item.slice(colon + 1)).trim().split('.');
      if (!part || !keys.every((k) => KEY.test(k))) throw new UserError(`${origin}: ${shown(item)} is not a part:path.to.key: ${form}.`);
      if (paths[part]) throw new UserError(`${origin} names '${part}' twice: ${form}.`);
      paths[part] = keys;
    }
    if (!paths.tag && !paths.image) throw new UserError(`${origin} says where ${component}'s repository or digest is but not its tag: add 'tag:path.to.tag' (or 'image:path' for a key holding the whole reference).`);
    if (paths.image && (paths.repository || paths.tag)) throw new UserError(`${origin}: 'image' holds the whole reference; it cannot be combined with 'repository' or 'tag'.`);
    mappings.push({ component, paths, origin });
  });
  for (const a of mappings) {
    const twin = mappings.find((b) => b !== a && b.component !== a.component && !a.paths.repository && !b.paths.repository && !a.paths.image && !b.paths.image && a.paths.tag!.join('.') === b.paths.tag!.join('.'));
    if (twin) {
      throw new UserError(`${a.origin} (${a.component}) and ${twin.origin} (${twin.component}) both say the tag is at ${a.paths.tag!.join('.')}: add 'repository:path' to each so a values file is matched to its component by its repository.`);
    }
  }
  return mappings;
}

/** Where a document keeps Helm values: a HelmRelease's spec.values, or the whole of a values file's document (no kind, not a kustomization). */
export function valuesNode(document: Document.Parsed, file: string): { node: YAMLMap } | undefined {
  if (isKustomizationFile(file)) return undefined;
  const root = document.contents;
  if (!isMap(root)) return undefined;
  const kind = scalarChild(root, 'kind');
  if (kind === undefined) return { node: root };
  if (kind !== 'HelmRelease') return undefined;
  const values = child(child(root, 'spec'), 'values');
  return isMap(values) ? { node: values } : undefined;
}

function pairOf(node: unknown, key: string): Pair<Scalar, Node | null> | undefined {
  if (!isMap(node)) return undefined;
  return node.items.find((p) => isScalar(p.key) && String(p.key.value) === key) as Pair<Scalar, Node | null> | undefined;
}
const child = (node: unknown, key: string) => pairOf(node, key)?.value ?? undefined;
const scalarChild = (node: unknown, key: string) => {
  const value = child(node, key);
  return isScalar(value) ? String(value.value) : undefined;
};

function scalarAt(node: YAMLMap, path: string[]): { node: Scalar; value: string } | undefined {
  let current: unknown = node;
  for (const key of path) current = child(current, key);
  return isScalar(current) && current.value !== null && typeof current.value !== 'object' ? { node: current as Scalar, value: String(current.value) } : undefined;
}

/** One mapped value of a component's image in a values tree: where it is, what it holds, what it must hold. */
export interface MappedValue<T> {
  part: HelmPart;
  path: string[];
  /** Absent for a digest key that is not there yet. */
  node?: T;
  value?: string;
  expected: string;
}

/**
 * The values a mapping line names in one values tree (read through `at`), with what each must become under
 * `change`; undefined when the tree holds none of them or they belong to another image.
 */
export function mappedValues<T>(at: (path: string[]) => { node: T; value: string } | undefined, mapping: HelmMapping, change: ImageChange): Array<MappedValue<T>> | undefined {
  const read = (part: HelmPart) => {
    const path = mapping.paths[part];
    const found = path && at(path);
    return path && found ? { part, path, node: found.node, value: found.value } : undefined;
  };
  const mine = (name: string) => sameRepository(name, change.to.name) || (!!change.from && sameRepository(name, change.from.name));
  if (mapping.paths.image) {
    const image = read('image');
    const ref = image && parseImageRef(image.value);
    return image && ref && mine(ref.name) ? [{ ...image, expected: newReference(change, ref) }] : undefined;
  }
  const tag = read('tag');
  const repository = read('repository');
  if (!tag || (mapping.paths.repository && !(repository && mine(repository.value)))) return undefined;
  const out: Array<MappedValue<T>> = [{ ...tag, expected: change.to.tag }];
  if (repository) out.push({ ...repository, expected: repositoryFor(change, repository.value) });
  if (mapping.paths.digest) out.push({ ...(read('digest') ?? { part: 'digest', path: mapping.paths.digest }), expected: change.to.digest ?? '' });
  return out;
}

/** Edits of the mapped values of changed components in one file's values documents and HelmReleases. */
export function findHelmValuesEdits(parsed: ParsedFile, changes: readonly ImageChange[], mappings: readonly HelmMapping[]): FileEdits {
  const result: FileEdits = { edits: [], touched: new Set(), images: [] };
  if (!mappings.length) return result;
  for (const document of parsed.documents) {
    const values = valuesNode(document, parsed.file);
    if (!values) continue;
    for (const mapping of mappings) {
      const change = changes.find((c) => c.component === mapping.component);
      const found = change && mappedValues((path) => scalarAt(values.node, path), mapping, change);
      if (!change || !found) continue;
      const edits: Edit[] = [];
      for (const value of found) {
        if (value.node) {
          const edit = setScalar(value.node, value.expected);
          if (edit) edits.push(edit);
        } else if (value.expected) {
          // a digest key that is not there yet: added beside the tag when its mapping exists
          let parent: unknown = values.node;
          for (const key of value.path.slice(0, -1)) parent = child(parent, key);
          if (isMap(parent) && parent.items.length) edits.push(addPairEdit(parsed.text, parent, value.path[value.path.length - 1], formatScalar(value.expected, found[0].node?.type)));
        }
      }
      const shown = found.find((v) => v.part === 'image') ?? found.find((v) => v.part === 'repository');
      if (shown?.node) result.images.push({ image: shown.part === 'image' ? shown.expected : `${shown.expected}:${change.to.tag}`, offset: shown.node.range![0] });
      if (edits.length) {
        result.edits.push(...edits);
        result.touched.add(change.component);
      }
    }
  }
  return result;
}

/** The images that mapped values deploy today, for a first run without a lock entry. */
export function readHelmValues(parsed: ParsedFile, mappings: readonly HelmMapping[], component: string, repository: string): Array<{ image: string; offset: number }> {
  const out: Array<{ image: string; offset: number }> = [];
  const probe: ImageChange = { component, to: { name: repository, tag: '' } };
  for (const document of parsed.documents) {
    const values = valuesNode(document, parsed.file);
    if (!values) continue;
    for (const mapping of mappings.filter((m) => m.component === component)) {
      const found = mappedValues((path) => scalarAt(values.node, path), mapping, probe);
      if (found) out.push({ image: deployedImage(found, repository), offset: found[0].node!.range![0] });
    }
  }
  return out;
}

/** The reference mapped values make: the image, or repository:tag@digest. */
export function deployedImage(found: Array<MappedValue<unknown>>, repository: string): string {
  const part = (name: HelmPart) => found.find((v) => v.part === name)?.value;
  return part('image') ?? `${part('repository') ?? repository}:${part('tag')}${part('digest') ? `@${part('digest')}` : ''}`;
}

/** A Helm value that names a changed component's image, with its path under the values. */
export interface ImageValue {
  component: string;
  path: string[];
  leaf: Leaf;
  /** True when the value is a whole reference with a tag (`repo:tag`), false for a repository alone. */
  withTag: boolean;
  /** The keys beside it (where its tag may be). */
  siblings: string[];
}

/** Whether a leaf's line carries a Flux setter marker. */
function marked(leaf: Leaf): boolean {
  if (!leaf.origin) return false;
  const { text } = leaf.origin.source;
  const end = text.indexOf('\n', leaf.origin.offset);
  return text.slice(leaf.origin.offset, end < 0 ? text.length : end).includes('$imagepolicy');
}

/**
 * Values (in a values tree) that hold a changed component's repository (`image.repository: myacr.azurecr.io/heuristic`)
 * or reference, each needing a helmValues line to be updated; a mapping in which a Flux marker sets a value
 * (`tag: v1 # {"$imagepolicy": ...:tag}`) is the marker's, and left out.
 */
export function imageValues(values: TNode, changes: readonly ImageChange[], at: string[] = []): ImageValue[] {
  const out: ImageValue[] = [];
  if (!isTMap(values) && !Array.isArray(values)) return out;
  const entries = isTMap(values) ? [...values] : values.map((v, i) => [String(i), v] as const);
  if (isTMap(values) && entries.some(([, v]) => isLeaf(v) && marked(v))) return out;
  for (const [key, value] of entries) {
    if (!isLeaf(value)) {
      out.push(...imageValues(value, changes, [...at, key]));
      continue;
    }
    if (value.value === null || !(value.value.includes('/') || /^(repository|image)$/i.test(key)) || marked(value)) continue;
    const ref = parseImageRef(value.value);
    const change = ref && changeFor(changes, ref.name);
    if (!ref || !change) continue;
    out.push({ component: change.component, path: [...at, key], leaf: value, withTag: !!ref.tag || !!ref.digest, siblings: isTMap(values) ? [...values.keys()] : [] });
  }
  return out;
}

/** imageValues over the values documents (values files, HelmRelease spec.values) of one parsed file. */
export function fileImageValues(parsed: ParsedFile, changes: readonly ImageChange[]): ImageValue[] {
  const source = new SourceText(parsed.file, parsed.text);
  return parsed.documents.flatMap((document) => {
    const values = valuesNode(document, parsed.file);
    return values ? imageValues(fromYaml(values.node, document, source, 'skip'), changes) : [];
  });
}

/** The helmValues line that would cover a value found by imageValues (paths relative to the values). */
export function suggestMapping(value: ImageValue): string {
  const parent = value.path.slice(0, -1).join('.');
  const join = (key: string) => (parent ? `${parent}.${key}` : key);
  if (value.withTag) return `${value.component}=image:${value.path.join('.')}`;
  const tag = value.siblings.find((s) => /^(tag|version|imageTag)$/i.test(s));
  return `${value.component}=repository:${value.path.join('.')},tag:${tag ? join(tag) : join('tag')}`;
}
