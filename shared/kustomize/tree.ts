import { type Document, isAlias, isMap, isScalar, isSeq, type Scalar } from 'yaml';
import { UserError } from '../errors';
import { isNullNode, lineOf } from '../updaters/yaml-text';

/**
 * YAML values that remember where each scalar was written: maps (insertion-ordered), lists, and leaves
 * holding a string (or null) with the file and offset of the text that wrote it. Kustomize's transforms
 * (patches, the images transformer) move leaves between trees, so the rendered value still knows its file
 * and line. Leaves are never changed in place: a transform puts a new leaf where the old one was.
 */

/** A file's text, for turning offsets into lines; `lineBase` shifts lines of text embedded in another file. */
export class SourceText {
  constructor(
    /** The file as messages name it (relative to the repository). */
    readonly file: string,
    readonly text: string,
    /** Lines before the text in `file` (an inline patch in a kustomization); 0 for a whole file. */
    readonly lineBase = 0,
    /** True when the text is a string inside `file` (an inline patch), not the file itself. */
    readonly inline = false,
  ) {}

  line(offset: number): number {
    return this.lineBase + lineOf(this.text, offset);
  }
}

export interface Origin {
  source: SourceText;
  offset: number;
}

/** A scalar: its value as written (null for YAML null), where it was written, and the images entries that changed it. */
export class Leaf {
  constructor(
    readonly value: string | null,
    readonly origin?: Origin,
    /** Plain (unquoted) in the source: kustomize's own fields read plain `1.10` or `yes` as a number or boolean. */
    readonly plain = false,
    readonly steps: readonly ImageStep[] = [],
  ) {}
}

/** One kustomize `images:` entry applied to a value. */
export interface ImageStep {
  /** The kustomization file and line of the entry. */
  origin: Origin;
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
  /** The value before the entry changed it. */
  before: string;
}

export type TMap = Map<string, TNode>;
export type TNode = Leaf | TMap | TNode[];

export const isTMap = (node: TNode | undefined): node is TMap => node instanceof Map;
export const isLeaf = (node: TNode | undefined): node is Leaf => node instanceof Leaf;

/** Values an alias may expand to in one conversion: far beyond any manifest, far below a "billion laughs". */
export const ALIAS_BUDGET = 100_000;

/**
 * The tree of a parsed YAML node. Aliases are expanded (kustomize sees their values) within a budget of
 * ALIAS_BUDGET values: an alias bomb is a UserError naming the file, not an exhausted agent. With
 * `aliases: 'skip'` an alias reads as null (for scans that only look for values written out).
 */
export function fromYaml(node: unknown, document: Document.Parsed, source: SourceText, aliases: 'expand' | 'skip' = 'expand'): TNode {
  let left = ALIAS_BUDGET;
  const convert = (current: unknown, expanding: boolean): TNode => {
    if (expanding && --left < 0) {
      throw new UserError(`${source.file} has aliases (*name) that expand to more than ${ALIAS_BUDGET.toLocaleString('en-US')} values: write the values out.`, { file: source.file });
    }
    if (isAlias(current)) return aliases === 'skip' ? new Leaf(null) : convert(current.resolve(document), true);
    if (isMap(current)) {
      const map: TMap = new Map();
      for (const pair of current.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : isAlias(pair.key) ? String((pair.key.resolve(document) as Scalar | undefined)?.value) : '';
        if (key === '<<' && (isAlias(pair.value) || isMap(pair.value))) {
          // a merge key: the aliased mapping's pairs, unless set here
          const merged = convert(pair.value, expanding);
          if (isTMap(merged)) for (const [k, v] of merged) if (!map.has(k)) map.set(k, v);
          continue;
        }
        map.set(key, convert(pair.value, expanding));
      }
      return map;
    }
    if (isSeq(current)) return current.items.map((item) => convert(item, expanding));
    if (isScalar(current)) {
      const origin = current.range ? { source, offset: current.range[0] } : undefined;
      return new Leaf(isNullNode(current) ? null : String(current.value), origin, current.type === 'PLAIN');
    }
    return new Leaf(null);
  };
  return convert(node, false);
}

/** A deep copy of the maps and lists (leaves are shared: they never change). */
export function clone(node: TNode): TNode {
  if (isTMap(node)) return new Map([...node].map(([k, v]) => [k, clone(v)]));
  if (Array.isArray(node)) return node.map(clone);
  return node;
}

/** The node at `path` (map keys, or list indexes as numbers), or undefined. */
export function get(node: TNode | undefined, ...path: Array<string | number>): TNode | undefined {
  let current = node;
  for (const key of path) {
    if (typeof key === 'number') current = Array.isArray(current) ? current[key] : undefined;
    else current = isTMap(current) ? current.get(key) : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

/** The string at `path`, or undefined when it is absent, null or not a scalar. */
export function str(node: TNode | undefined, ...path: Array<string | number>): string | undefined {
  const leaf = get(node, ...path);
  return isLeaf(leaf) && leaf.value !== null ? leaf.value : undefined;
}

/** Reads the non-null scalars under `node` by path (the reader helm-values' mappedValues takes). */
export const scalarsOf =
  (node: TNode) =>
  (path: string[]): { node: Leaf; value: string } | undefined => {
    const leaf = get(node, ...path);
    return isLeaf(leaf) && leaf.value !== null ? { node: leaf, value: leaf.value } : undefined;
  };

/** Plain JavaScript values (strings, null, objects, arrays), for tests and comparisons. */
export function toPlain(node: TNode): unknown {
  if (isTMap(node)) return Object.fromEntries([...node].map(([k, v]) => [k, toPlain(v)]));
  if (Array.isArray(node)) return node.map(toPlain);
  return node.value;
}

/** The 1-based line an origin points at. */
export const lineAt = (origin: Origin): number => origin.source.line(origin.offset);
