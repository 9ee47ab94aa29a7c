import { isMap, isScalar, isSeq, type Document, type Node, type Pair, type Scalar, YAMLMap } from 'yaml';
import { UserError } from '../errors';
import { formatImageRef, isDigest, parseImageRef } from '../images/reference';
import { validateImageTag } from '../images/names';
import { addPairEdit, applyEdits, columnOf, endOfLine, eolOf, type Edit, formatScalar, lastValueEnd, lineOf, parseDocuments, removePairEdit, setScalar } from '../updaters/yaml-text';

/**
 * versions.yaml, the lock: what runs where.
 *
 *   schemaVersion: 1
 *   environments:
 *     devtest:
 *       heuristic:
 *         image: myacr.azurecr.io/heuristic   # repository, without tag
 *         tag: v1.4.2-rc.5678
 *         digest: sha256:…                     # optional
 *
 * Read with file:line errors; updated by splicing new values into the original text so comments,
 * order, quoting, indentation and line endings survive.
 */

/** What an environment runs for one component. */
export interface LockImage {
  image: string;
  tag: string;
  digest?: string;
}

export interface LockEntry extends LockImage {
  /** Line of the component's key in the lock file. */
  line: number;
}

export interface Lock {
  file: string;
  environments: Map<string, Map<string, LockEntry>>;
  /** Line of each environment's key. */
  environmentLines: Map<string, number>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const FIELDS = ['image', 'tag', 'digest'];

/** The lock a repository starts with when it has none. */
export function emptyLock(eol = '\n'): string {
  return ['# versions.yaml: what runs where. Change it through pull requests.', 'schemaVersion: 1', 'environments: {}', ''].join(eol);
}

function fail(message: string, file: string, text: string, node?: { range?: [number, number, number] | null } | null): never {
  const line = node?.range ? lineOf(text, node.range[0]) : undefined;
  throw new UserError(message, { file, line });
}

function keyText(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function singleDocument(text: string, file: string): Document.Parsed {
  const documents = parseDocuments(text, file);
  if (documents.length !== 1) fail(`${file} holds ${documents.length} YAML documents: the lock is one document.`, file, text, documents[1]?.contents as Node);
  return documents[0];
}

function stringField(pair: Pair | undefined, field: string, component: string, file: string, text: string): string | undefined {
  if (!pair) return undefined;
  const value = pair.value;
  if (!isScalar(value) || typeof value.value !== 'string' || !value.value) {
    const hint = isScalar(value) && typeof value.value === 'number' ? ` (it reads as the number ${value.value}: quote it)` : '';
    fail(`${component}.${field} must be a non-empty string${hint}.`, file, text, (value as Node) ?? pair.key);
  }
  return value.value;
}

/** Parses and validates the lock; every error names the file and line. */
export function readLock(text: string, file: string): Lock {
  const document = singleDocument(text, file);
  const root = document.contents;
  if (!isMap(root)) fail(`${file} must be a mapping with 'schemaVersion: 1' and 'environments:'.`, file, text, root as Node);
  const schema = root.items.find((p) => keyText(p) === 'schemaVersion');
  if (!schema) fail(`${file} has no 'schemaVersion': add 'schemaVersion: 1' at the top.`, file, text, root);
  if (!isScalar(schema.value) || schema.value.value !== 1) {
    fail(`schemaVersion must be 1 (found ${isScalar(schema.value) ? JSON.stringify(schema.value.value) : 'a collection'}): this task reads lock version 1.`, file, text, (schema.value as Node) ?? schema.key);
  }
  const lock: Lock = { file, environments: new Map(), environmentLines: new Map() };
  for (const pair of root.items) {
    const key = keyText(pair);
    if (key !== 'schemaVersion' && key !== 'environments') {
      fail(`unknown key '${key}' at the top level: the lock holds 'schemaVersion' and 'environments'.`, file, text, pair.key as Node);
    }
  }
  const environments = root.items.find((p) => keyText(p) === 'environments');
  if (!environments) fail(`${file} has no 'environments:' mapping.`, file, text, root);
  const envs = environments.value;
  if (envs === null || (isScalar(envs) && envs.value === null)) return lock;
  if (!isMap(envs)) fail(`'environments' must be a mapping of environment names.`, file, text, (envs as Node) ?? environments.key);
  for (const envPair of envs.items) {
    const env = keyText(envPair);
    if (!NAME.test(env)) fail(`'${env}' is not a valid environment name.`, file, text, envPair.key as Node);
    if (lock.environments.has(env)) fail(`environment '${env}' appears twice.`, file, text, envPair.key as Node);
    const components = new Map<string, LockEntry>();
    lock.environments.set(env, components);
    lock.environmentLines.set(env, lineOf(text, (envPair.key as Scalar).range![0]));
    const value = envPair.value;
    if (value === null || (isScalar(value) && value.value === null)) continue;
    if (!isMap(value)) fail(`environment '${env}' must be a mapping of components.`, file, text, (value as Node) ?? envPair.key);
    for (const componentPair of value.items) {
      const component = keyText(componentPair);
      if (!NAME.test(component)) fail(`'${component}' is not a valid component name.`, file, text, componentPair.key as Node);
      if (components.has(component)) fail(`component '${component}' appears twice in '${env}'.`, file, text, componentPair.key as Node);
      const entry = componentPair.value!;
      if (!isMap(entry)) fail(`${env}.${component} must be a mapping with 'image' and 'tag'.`, file, text, (entry as Node) ?? componentPair.key);
      for (const field of entry.items) {
        if (!FIELDS.includes(keyText(field))) {
          fail(`${env}.${component} has an unknown key '${keyText(field)}': use image, tag and digest.`, file, text, field.key as Node);
        }
      }
      const find = (name: string) => entry.items.find((p) => keyText(p) === name);
      const where = `${env}.${component}`;
      const image = stringField(find('image'), 'image', where, file, text);
      const tag = stringField(find('tag'), 'tag', where, file, text);
      const digest = stringField(find('digest'), 'digest', where, file, text);
      if (!image) fail(`${where} has no 'image' (the repository, e.g. myacr.azurecr.io/${component}).`, file, text, componentPair.key as Node);
      if (!tag) fail(`${where} has no 'tag'.`, file, text, componentPair.key as Node);
      const ref = parseImageRef(image);
      if (!ref || ref.tag || ref.digest) {
        fail(`${where}.image '${image}' must be a repository without tag or digest (put those in 'tag' and 'digest').`, file, text, find('image')!.value as Node);
      }
      try {
        validateImageTag(tag, `${where}.tag`);
      } catch (error) {
        fail(`${(error as Error).message}`, file, text, find('tag')!.value as Node);
      }
      if (digest !== undefined && !isDigest(digest)) {
        fail(`${where}.digest '${digest}' must be 'sha256:' followed by 64 lowercase hex characters.`, file, text, find('digest')!.value as Node);
      }
      components.set(component, { image, tag, digest, line: lineOf(text, (componentPair.key as Scalar).range![0]) });
    }
  }
  return lock;
}

/** What `environment` runs according to a lock's text; nothing when there is no lock (no text, or blank). */
export function readEnvironment(text: string | undefined, file: string, environment: string): Map<string, LockEntry> {
  if (!text?.trim()) return new Map();
  return readLock(text, file).environments.get(environment) ?? new Map();
}

/** `repository:tag@digest` of what a lock entry runs. */
export const lockReference = (image: LockImage): string => formatImageRef({ name: image.image, tag: image.tag, digest: image.digest });

/** Where to append lines after `node`: the start of the line after its last value. */
function appendPoint(text: string, node: Node): number {
  return endOfLine(text, lastValueEnd(node));
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (isScalar(value) && (value.value === null || value.value === ''));
}

function flowEmpty(value: unknown): boolean {
  return (isMap(value) || isSeq(value)) && (value as YAMLMap).flow === true && (value as YAMLMap).items.length === 0;
}

/**
 * Sets the images of `environment` in the lock text, changing only the bytes of values that change;
 * new components and environments are appended in the file's indentation and quoting. An entry
 * without digest removes a digest line the component had.
 */
export function updateLock(text: string, file: string, environment: string, images: Map<string, LockImage>): string {
  readLock(text, file);
  const document = singleDocument(text, file);
  const eol = eolOf(text);
  const root = document.contents as YAMLMap;
  const edits: Edit[] = [];
  const envsPair = root.items.find((p) => keyText(p) === 'environments') as Pair<Scalar, Node | null>;
  const envs = envsPair.value;
  const rootIndent = columnOf(text, (envsPair.key as Scalar).range![0]);

  // Indentation and quoting learned from the file, with 2 spaces and plain values as the default.
  let step = 2;
  let tagStyle: string | undefined;
  if (isMap(envs) && envs.items.length && !envs.flow) {
    const firstEnv = envs.items[0] as Pair<Scalar, Node>;
    step = Math.max(1, columnOf(text, firstEnv.key.range![0]) - rootIndent);
    for (const envPair of envs.items as Array<Pair<Scalar, Node>>) {
      if (!isMap(envPair.value)) continue;
      for (const componentPair of envPair.value.items as Array<Pair<Scalar, Node>>) {
        if (!isMap(componentPair.value) || !componentPair.value.items.length) continue;
        const field = componentPair.value.items[0] as Pair<Scalar, Scalar>;
        const fieldStep = columnOf(text, field.key.range![0]) - columnOf(text, componentPair.key.range![0]);
        if (fieldStep > 0) step = fieldStep;
        const tagPair = componentPair.value.items.find((p) => keyText(p as Pair) === 'tag') as Pair<Scalar, Scalar> | undefined;
        if (tagPair && isScalar(tagPair.value)) tagStyle = tagPair.value.type;
        break;
      }
      if (tagStyle) break;
    }
  }
  const pad = (n: number) => ' '.repeat(n);
  const value = (v: string) => formatScalar(v, tagStyle);
  const componentLines = (name: string, image: LockImage, indent: number) =>
    [
      `${pad(indent)}${name}:`,
      `${pad(indent + step)}image: ${value(image.image)}`,
      `${pad(indent + step)}tag: ${value(image.tag)}`,
      ...(image.digest ? [`${pad(indent + step)}digest: ${value(image.digest)}`] : []),
    ].join(eol) + eol;
  const insert = (at: number, lines: string) => {
    const needsBreak = at === text.length && text.length > 0 && !text.endsWith('\n');
    edits.push({ start: at, end: at, text: (needsBreak ? eol : '') + lines });
  };
  /** Replaces an empty value (`key:`, `key: {}`, `key: null`) by a block of lines under the key. */
  const fillEmpty = (pair: Pair<Scalar, unknown>, lines: string) => {
    const valueNode = pair.value as Node | null;
    if (valueNode && valueNode.range && valueNode.range[1] > valueNode.range[0]) {
      const [start, end] = valueNode.range;
      // drop the inline `{}` / `null`, keeping any comment after it
      let from = start;
      while (from > 0 && text[from - 1] === ' ') from--;
      edits.push({ start: from, end, text: '' });
    }
    insert(endOfLine(text, valueNode?.range ? valueNode.range[1] : pair.key.range![1]), lines);
  };

  const envPair = isMap(envs) ? (envs.items.find((p) => keyText(p) === environment) as Pair<Scalar, Node | null> | undefined) : undefined;
  if (!envPair) {
    const envIndent = isMap(envs) && envs.items.length && !envs.flow ? columnOf(text, (envs.items[0] as Pair<Scalar>).key.range![0]) : rootIndent + step;
    const lines = `${pad(envIndent)}${environment}:${eol}` + [...images].map(([name, image]) => componentLines(name, image, envIndent + step)).join('');
    if (isMap(envs) && envs.items.length && !envs.flow) insert(appendPoint(text, envs), lines);
    else if (isEmpty(envs) || flowEmpty(envs)) fillEmpty(envsPair, lines);
    else fail(`write 'environments' in block style to let this task add '${environment}'.`, file, text, envs);
    return applyEdits(text, edits);
  }
  const components = envPair.value;
  const envIndent = columnOf(text, envPair.key.range![0]);
  const added: string[] = [];
  for (const [name, image] of images) {
    const componentPair = isMap(components) ? (components.items.find((p) => keyText(p) === name) as Pair<Scalar, YAMLMap<Scalar, Scalar>> | undefined) : undefined;
    if (!componentPair) {
      const indent = isMap(components) && components.items.length && !components.flow ? columnOf(text, (components.items[0] as Pair<Scalar>).key.range![0]) : envIndent + step;
      added.push(componentLines(name, image, indent));
      continue;
    }
    const entry = componentPair.value!;
    const field = (key: string) => entry.items.find((p) => keyText(p as Pair) === key) as Pair<Scalar, Scalar> | undefined;
    for (const key of ['image', 'tag'] as const) {
      const edit = setScalar(field(key)!.value!, image[key]);
      if (edit) edits.push(edit);
    }
    const digest = field('digest');
    if (image.digest && digest) {
      const edit = setScalar(digest.value!, image.digest);
      if (edit) edits.push(edit);
    } else if (image.digest) {
      edits.push(addPairEdit(text, entry, 'digest', formatScalar(image.digest, field('tag')!.value!.type)));
    } else if (digest) {
      edits.push(removePairEdit(text, entry, digest));
    }
  }
  if (added.length) {
    if (isMap(components) && components.items.length && !components.flow) insert(appendPoint(text, components), added.join(''));
    else if (isEmpty(components) || flowEmpty(components)) fillEmpty(envPair, added.join(''));
    else fail(`write environment '${environment}' in block style to let this task add components to it.`, file, text, components);
  }
  return applyEdits(text, edits);
}
