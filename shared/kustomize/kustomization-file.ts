import { type Document, isMap, isScalar } from 'yaml';
import { UserError } from '../errors';
import { yaml11Type } from '../updaters/yaml-text';
import type { ImagesEntry } from './images';
import { fromYaml, get, isLeaf, isTMap, type Leaf, lineAt, type Origin, type SourceText, type TMap, type TNode } from './tree';

/**
 * A kustomization file's fields that decide which images an overlay runs, read the way kustomize 5 reads
 * them (bases after resources, imageTags after images), each remembering its line for messages.
 */

export const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** A string field with the line it was written on. */
export interface Entry {
  value: string;
  origin?: Origin;
}

export interface Selector {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labelSelector?: string;
  annotationSelector?: string;
}

/**
 * A patch: a file (`path`) or inline text (`patch`, with the line before its first line), optionally with
 * a target. A patchesStrategicMerge entry has both: it is the file when there is one, else inline text.
 */
export interface PatchEntry {
  path?: string;
  patch?: { text: string; origin?: Origin; lineBase: number };
  target?: Selector;
  allowNameChange?: boolean;
  allowKindChange?: boolean;
  origin?: Origin;
}

export interface ImagesField extends ImagesEntry {
  origin?: Origin;
}

export interface KustomizationFile {
  /** The file as messages name it. */
  file: string;
  isComponent: boolean;
  resources: Entry[];
  components: Entry[];
  patchesStrategicMerge: PatchEntry[];
  patches: PatchEntry[];
  patchesJson6902: PatchEntry[];
  images: ImagesField[];
  namespace?: Entry;
  namePrefix?: Entry;
  nameSuffix?: Entry;
  /** commonLabels and labels' pairs: label selectors of later patches see them. */
  labels: Map<string, string>;
  annotations: Map<string, string>;
  /** A field this resolver does not follow and that can change images (remote bases, Helm charts, plugins). */
  unsupported?: { what: string; origin?: Origin };
}

/** Thrown for a kustomization the resolver cannot follow; `kubectl kustomize` may still render it. */
export class RenderUnsupported extends UserError {}

const where = (file: string, origin?: Origin) => ({ file: origin?.source.file ?? file, line: origin ? lineAt(origin) : undefined });

/**
 * A string field as kustomize's JSON decoding reads it: a plain `1.10`, `yes` or `on` is a number or a
 * boolean (YAML 1.1) and kustomize refuses it, so this does too, asking for quotes.
 */
function stringOf(node: TNode | undefined, field: string, file: string): Entry | undefined {
  if (node === undefined) return undefined;
  if (!isLeaf(node)) throw new UserError(`'${field}' must be a string, not ${isTMap(node) ? 'a mapping' : 'a list'}.`, where(file, firstOrigin(node)));
  if (node.value === null) return undefined;
  const type = node.plain ? yaml11Type(node.value) : 'other';
  if (type !== 'other') {
    throw new UserError(`'${field}: ${node.value}' reads as a ${type}, and kustomize refuses it ("cannot unmarshal ${type === 'number' ? 'number' : 'bool'} into ... string"): quote it, '${field}: "${node.value}"'.`, where(file, node.origin));
  }
  return { value: node.value, origin: node.origin };
}

function firstOrigin(node: TNode): Origin | undefined {
  if (isLeaf(node)) return node.origin;
  for (const child of isTMap(node) ? node.values() : node) {
    const origin = firstOrigin(child);
    if (origin) return origin;
  }
  return undefined;
}

function list(map: TMap, field: string, file: string): TNode[] {
  const node = map.get(field);
  if (node === undefined || (isLeaf(node) && node.value === null)) return [];
  if (!Array.isArray(node)) throw new UserError(`'${field}' must be a list.`, where(file, firstOrigin(node)));
  return node;
}

function strings(map: TMap, field: string, file: string): Entry[] {
  return list(map, field, file).flatMap((item) => stringOf(item, `${field} entry`, file) ?? []);
}

function stringMap(node: TNode | undefined, out: Map<string, string>): void {
  if (isTMap(node)) for (const [key, value] of node) if (isLeaf(value) && value.value !== null) out.set(key, value.value);
}

function selector(node: TNode | undefined, file: string): Selector | undefined {
  if (node === undefined || (isLeaf(node) && node.value === null)) return undefined;
  if (!isTMap(node)) throw new UserError(`A patch's 'target' must be a mapping (kind, name, ...).`, where(file, firstOrigin(node)));
  const s: Selector = {};
  for (const key of ['group', 'version', 'kind', 'name', 'namespace', 'labelSelector', 'annotationSelector'] as const) {
    const value = stringOf(node.get(key), `target.${key}`, file)?.value;
    if (value) s[key] = value;
  }
  return s;
}

function patchEntry(node: TNode, file: string, field: string): PatchEntry {
  if (isLeaf(node)) {
    // patchesStrategicMerge: a file when one has that name (the render checks), else an inline patch
    const text = node.value ?? '';
    return { path: text.includes('\n') ? undefined : text, patch: inline(node), origin: node.origin };
  }
  if (!isTMap(node)) throw new UserError(`Each '${field}' entry must be a mapping with path or patch.`, where(file, firstOrigin(node)));
  const path = stringOf(node.get('path'), `${field}.path`, file);
  const patchLeaf = node.get('patch');
  const options = node.get('options');
  const flag = (name: string) => isTMap(options) && isLeaf(options.get(name)) && (options.get(name) as Leaf).value === 'true';
  const entry: PatchEntry = { target: selector(node.get('target'), file), origin: path?.origin ?? firstOrigin(node), allowNameChange: flag('allowNameChange'), allowKindChange: flag('allowKindChange') };
  if (path) entry.path = path.value;
  if (isLeaf(patchLeaf) && patchLeaf.value) entry.patch = inline(patchLeaf);
  if (!entry.path === !entry.patch) {
    throw new UserError(`A '${field}' entry needs exactly one of 'path' and 'patch'.`, where(file, entry.origin));
  }
  return entry;
}

/** An inline patch's text, and the line before its first line in the kustomization (a block scalar starts on the next line). */
function inline(leaf: Leaf): { text: string; origin?: Origin; lineBase: number } {
  const line = leaf.origin ? lineAt(leaf.origin) : 0;
  const block = leaf.origin ? /^[|>]/.test(leaf.origin.source.text.slice(leaf.origin.offset, leaf.origin.offset + 1)) : false;
  return { text: (leaf.value ?? '').trim(), origin: leaf.origin, lineBase: block ? line : line - 1 };
}

function imagesEntry(node: TNode, file: string): ImagesField {
  if (!isTMap(node)) throw new UserError(`Each 'images' entry must be a mapping with name, newName, newTag or digest.`, where(file, isLeaf(node) ? node.origin : firstOrigin(node)));
  const field = (key: string) => stringOf(node.get(key), key, file)?.value || undefined;
  const name = stringOf(node.get('name'), 'name', file);
  if (!name?.value) throw new UserError(`An 'images' entry has no 'name': kustomize needs the image name it replaces.`, where(file, firstOrigin(node)));
  if (field('tagSuffix')) throw new RenderUnsupported(`'tagSuffix' in images entries is not followed by this task: write newTag instead.`, where(file, name.origin));
  return { name: name.value, newName: field('newName'), newTag: field('newTag'), digest: field('digest'), origin: name.origin };
}

/** The fields read here (and the ones refused as unsupported); other keys are never converted, so nothing there is expanded. */
const FIELDS = new Set([
  'kind', 'resources', 'bases', 'components', 'patchesStrategicMerge', 'patches', 'patchesJson6902', 'images', 'imageTags', 'namespace', 'namePrefix',
  'nameSuffix', 'commonLabels', 'labels', 'commonAnnotations', 'helmCharts', 'helmChartInflationGenerator', 'generators', 'transformers', 'configurations', 'replacements',
]);

/** A kustomization document's fields this resolver reads, as a tree (undefined when the document is empty). */
export function kustomizationTree(document: Document.Parsed | undefined, source: SourceText, fields: ReadonlySet<string> = FIELDS): TNode | undefined {
  const root = document?.contents;
  if (!root) return undefined;
  if (!isMap(root)) return fromYaml(root, document, source, 'skip');
  const map: TMap = new Map();
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (fields.has(key)) map.set(key, fromYaml(pair.value, document, source));
  }
  return map;
}

const REFERENCES = new Set(['kind', 'resources', 'bases', 'components']);

/** The `resources`, `bases` and `components` entries of a kustomization document, read leniently (nothing else is read), and whether it is a Component. */
export function readReferences(document: Document.Parsed | undefined, source: SourceText): { entries: string[]; isComponent: boolean } {
  const root = kustomizationTree(document, source, REFERENCES);
  if (!isTMap(root)) return { entries: [], isComponent: false };
  const entries = ['resources', 'bases', 'components'].flatMap((field) => {
    const node = root.get(field);
    return Array.isArray(node) ? node.flatMap((item) => (isLeaf(item) && item.value ? [item.value] : [])) : [];
  });
  const kind = root.get('kind');
  return { entries, isComponent: isLeaf(kind) && kind.value === 'Component' };
}

/** Reads the fields of a parsed kustomization (`root`, the file's first document). */
export function readKustomization(root: TNode | undefined, file: string): KustomizationFile {
  if (root === undefined || (isLeaf(root) && root.value === null)) throw new UserError(`${file} is empty: kustomize refuses an empty kustomization.`, { file });
  if (!isTMap(root)) throw new UserError(`${file} must be a mapping of kustomization fields.`, { file });
  const kind = stringOf(root.get('kind'), 'kind', file)?.value ?? 'Kustomization';
  if (kind !== 'Kustomization' && kind !== 'Component') throw new UserError(`kind '${kind}' is not a kustomization: use Kustomization or Component.`, where(file, (root.get('kind') as Leaf).origin));
  const k: KustomizationFile = {
    file,
    isComponent: kind === 'Component',
    resources: [...strings(root, 'resources', file), ...strings(root, 'bases', file)],
    components: strings(root, 'components', file),
    patchesStrategicMerge: list(root, 'patchesStrategicMerge', file).map((n) => patchEntry(n, file, 'patchesStrategicMerge')),
    patches: list(root, 'patches', file).map((n) => patchEntry(n, file, 'patches')),
    patchesJson6902: list(root, 'patchesJson6902', file).map((n) => patchEntry(n, file, 'patchesJson6902')),
    images: [...list(root, 'images', file), ...list(root, 'imageTags', file)].map((n) => imagesEntry(n, file)),
    namespace: stringOf(root.get('namespace'), 'namespace', file),
    namePrefix: stringOf(root.get('namePrefix'), 'namePrefix', file),
    nameSuffix: stringOf(root.get('nameSuffix'), 'nameSuffix', file),
    labels: new Map(),
    annotations: new Map(),
  };
  stringMap(root.get('commonLabels'), k.labels);
  for (const label of list(root, 'labels', file)) stringMap(get(label, 'pairs'), k.labels);
  stringMap(root.get('commonAnnotations'), k.annotations);
  for (const field of ['helmCharts', 'helmChartInflationGenerator', 'generators', 'transformers', 'configurations']) {
    if (list(root, field, file).length) k.unsupported ??= { what: `'${field}'`, origin: firstOrigin(root.get(field)!) };
  }
  const replacements = root.get('replacements');
  if (replacements && JSON.stringify(plainStrings(replacements)).includes('image')) {
    k.unsupported ??= { what: `'replacements' that set an image`, origin: firstOrigin(replacements) };
  }
  const remote = k.resources.find((r) => /^(https?:\/\/|git@|ssh:\/\/|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/.test(r.value) || /\.git(\/\/|\?|$)/.test(r.value));
  if (remote) k.unsupported ??= { what: `the remote resource '${remote.value}'`, origin: remote.origin };
  return k;
}

function plainStrings(node: TNode): string[] {
  if (isLeaf(node)) return node.value === null ? [] : [node.value];
  return [...(isTMap(node) ? [...node.keys(), ...[...node.values()].flatMap(plainStrings)] : node.flatMap(plainStrings))];
}
