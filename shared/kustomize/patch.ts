import { UserError } from '../errors';
import type { Selector } from './kustomization-file';
import { clone, get, isLeaf, isTMap, type Leaf, type Origin, str, type TMap, type TNode } from './tree';

/**
 * Kustomize's patches on tracked trees: strategic merge (kyaml merge2 with kustomize's options: maps merge,
 * lists replace, except the lists the Kubernetes schema merges by key in built-in kinds, where the patch's
 * elements come first), JSON 6902 operations, and target selectors.
 */

/** Lists built-in kinds merge by a key (the schema's patchMergeKey); every other list is replaced. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
};

/** A built-in Kubernetes API group (core, apps, batch, *.k8s.io): kustomize knows their schema. */
export function isBuiltIn(apiVersion: string | undefined): boolean {
  const slash = (apiVersion ?? '').indexOf('/');
  const group = slash < 0 ? '' : apiVersion!.slice(0, slash);
  return !group.includes('.') || group.endsWith('.k8s.io');
}

const directive = (node: TNode | undefined) => (isTMap(node) ? str(node, '$patch') : undefined);

/** The patch without `$`-directives (what is added where the target had nothing). */
function strip(node: TNode): TNode {
  if (isTMap(node)) return new Map([...node].filter(([k]) => !k.startsWith('$')).map(([k, v]) => [k, strip(v)]));
  if (Array.isArray(node)) return node.filter((item) => directive(item) !== 'delete' && directive(item) !== 'replace').map(strip);
  return node;
}

/** Merges `patch` into `target` (changed in place); null when the patch deletes the whole mapping. */
export function mergePatch(target: TMap, patch: TMap, builtIn: boolean): TMap | null {
  const how = directive(patch);
  if (how === 'delete') return null;
  if (how === 'replace') return strip(patch) as TMap;
  for (const [key, value] of patch) {
    if (key.startsWith('$')) continue;
    const current = target.get(key);
    if (isLeaf(value) && value.value === null) target.delete(key);
    else if (isTMap(value) && isTMap(current)) {
      const merged = mergePatch(current, value, builtIn);
      if (merged) target.set(key, merged);
      else target.delete(key);
    } else if (Array.isArray(value) && Array.isArray(current) && builtIn && MERGE_KEYS[key]) target.set(key, mergeList(current, value, MERGE_KEYS[key], builtIn));
    else if (directive(value) !== 'delete') target.set(key, strip(value));
  }
  return target;
}

/** A merge-keyed list: the patch's elements in its order (merged with the target's of the same key), then the target's others. */
function mergeList(target: TNode[], patch: TNode[], key: string, builtIn: boolean): TNode[] {
  if (patch.some((item) => directive(item) === 'replace')) return strip(patch) as TNode[];
  const keyOf = (item: TNode) => str(item, key);
  const inPatch = new Set(patch.map(keyOf).filter((k) => k !== undefined));
  const result: TNode[] = [];
  for (const item of patch) {
    const k = keyOf(item);
    const existing = k === undefined ? undefined : target.find((t) => keyOf(t) === k);
    if (directive(item) === 'delete') continue;
    if (isTMap(existing) && isTMap(item)) {
      const merged = mergePatch(existing, item, builtIn);
      if (merged) result.push(merged);
    } else result.push(strip(item));
  }
  for (const item of target) if (!inPatch.has(keyOf(item) as string)) result.push(item);
  return result;
}

/** One JSON 6902 operation, read from a patch's list. */
export interface JsonOperation {
  op: string;
  path: string;
  from?: string;
  value?: TNode;
  origin?: Origin;
}

export function readOperations(root: TNode, file: string, line: (origin?: Origin) => number | undefined): JsonOperation[] {
  if (!Array.isArray(root)) throw new UserError(`A JSON 6902 patch must be a list of operations (op, path, value).`, { file });
  return root.map((item) => {
    const op = str(item, 'op');
    const path = str(item, 'path');
    const origin = (get(item, 'op') as Leaf | undefined)?.origin;
    if (!op || path === undefined) throw new UserError(`Each JSON 6902 operation needs 'op' and 'path'.`, { file, line: line(origin) });
    return { op, path, from: str(item, 'from'), value: get(item, 'value'), origin };
  });
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`'${path}' is not a JSON pointer: it must start with '/'`);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function index(list: TNode[], token: string, adding: boolean): number {
  if (adding && token === '-') return list.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`'${token}' is not a list index`);
  const i = Number(token);
  if (i > list.length || (!adding && i === list.length)) throw new Error(`index ${i} is out of range (the list has ${list.length})`);
  return i;
}

function parentOf(root: TMap, tokens: string[]): TNode {
  let node: TNode | undefined = root;
  for (const token of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[index(node, token, false)] : isTMap(node) ? node.get(token) : undefined;
    if (node === undefined) throw new Error(`'${token}' does not exist`);
  }
  return node;
}

function read(root: TMap, path: string): TNode {
  const tokens = pointer(path);
  if (!tokens.length) return root;
  const parent = parentOf(root, tokens);
  const last = tokens[tokens.length - 1];
  const value = Array.isArray(parent) ? parent[index(parent, last, false)] : isTMap(parent) ? parent.get(last) : undefined;
  if (value === undefined) throw new Error(`'${path}' does not exist`);
  return value;
}

function write(root: TMap, path: string, value: TNode | undefined, mode: 'add' | 'replace' | 'remove'): void {
  const tokens = pointer(path);
  if (!tokens.length) throw new Error(`the whole document cannot be ${mode === 'remove' ? 'removed' : 'replaced'}`);
  const parent = parentOf(root, tokens);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = index(parent, last, mode === 'add');
    if (mode === 'add') parent.splice(i, 0, value!);
    else if (mode === 'replace') parent[i] = value!;
    else parent.splice(i, 1);
  } else if (isTMap(parent)) {
    if (mode !== 'add' && !parent.has(last)) throw new Error(`'${path}' does not exist`);
    if (mode === 'remove') parent.delete(last);
    else parent.set(last, value!);
  } else throw new Error(`'${path}' is inside a value that is neither a mapping nor a list`);
}

function equal(a: TNode, b: TNode): boolean {
  if (isLeaf(a) || isLeaf(b)) return isLeaf(a) && isLeaf(b) && a.value === b.value;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  return a.size === b.size && [...a].every(([k, v]) => b.has(k) && equal(v, b.get(k)!));
}

/** Applies JSON 6902 operations to `root` in place; a failing operation throws an Error saying why. */
export function applyOperations(root: TMap, operations: JsonOperation[]): void {
  for (const operation of operations) {
    const { op, path } = operation;
    const value = () => {
      if (operation.value === undefined) throw new Error(`'${op}' at ${path} has no value`);
      return clone(operation.value);
    };
    if (op === 'add') write(root, path, value(), 'add');
    else if (op === 'replace') write(root, path, value(), 'replace');
    else if (op === 'remove') write(root, path, undefined, 'remove');
    else if (op === 'move' || op === 'copy') {
      const moved = clone(read(root, operation.from ?? ''));
      if (op === 'move') write(root, operation.from ?? '', undefined, 'remove');
      write(root, path, moved, 'add');
    } else if (op === 'test') {
      if (!equal(read(root, path), value())) throw new Error(`test at ${path} failed`);
    } else throw new Error(`'${op}' is not a JSON 6902 operation`);
  }
}

/** Kubernetes label selector syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated. */
export function matchesLabels(labels: Map<string, string>, selector: string | undefined): boolean {
  if (!selector?.trim()) return true;
  const requirements = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return requirements.every((raw) => {
    const text = raw.trim();
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
    if (m) {
      const values = m[3].split(',').map((v) => v.trim());
      const has = labels.has(m[1]) && values.includes(labels.get(m[1])!);
      return m[2] === 'in' ? has : !has;
    }
    m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(text);
    if (m) return m[2] === '!=' ? labels.get(m[1]) !== m[3] : labels.get(m[1]) === m[3];
    if (text.startsWith('!')) return !labels.has(text.slice(1).trim());
    return labels.has(text);
  });
}

/** What a target selector matches against: group, version, kind, names and namespaces (original and current), labels and annotations. */
export interface Selectable {
  group: string;
  version: string;
  kind: string;
  names: string[];
  namespaces: string[];
  labels: Map<string, string>;
  annotations: Map<string, string>;
}

const anchored = new Map<string, RegExp>();
function fullMatch(pattern: string, value: string): boolean {
  let regex = anchored.get(pattern);
  if (!regex) {
    regex = new RegExp(`^(?:${pattern})$`);
    anchored.set(pattern, regex);
  }
  return regex.test(value);
}

/** kustomize's Select: every given field matches (name and namespace as anchored regular expressions). */
export function selects(selector: Selector, r: Selectable): boolean {
  if (selector.group && selector.group !== r.group) return false;
  if (selector.version && selector.version !== r.version) return false;
  if (selector.kind && selector.kind !== r.kind) return false;
  if (selector.name && !r.names.some((n) => fullMatch(selector.name!, n))) return false;
  if (selector.namespace && !r.namespaces.some((n) => fullMatch(selector.namespace!, n))) return false;
  return matchesLabels(r.labels, selector.labelSelector) && matchesLabels(r.annotations, selector.annotationSelector);
}
