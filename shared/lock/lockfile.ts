import { isMap, isScalar, isSeq, type Document, type Node, type Pair, type Scalar, YAMLMap } from 'yaml';
import { UserError } from '../errors';
import { formatImageRef, isDigest, isRevision, parseImageRef } from '../images/reference';
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
 *         revision: 9f2c…                      # optional: the app commit that built the image
 *         hold: "rollback to … by … in run …"  # optional: automated runs leave the component alone
 *
 * Read with file:line errors; updated by splicing new values into the original text so comments,
 * order, quoting, indentation and line endings survive. Keys of an entry that this reader does not
 * know are ignored (a later writer may add some), with a warning when one looks like a misspelt
 * known key (`diegst`), as its value would otherwise be lost without a word.
 */

/** What an environment runs for one component. */
export interface LockImage {
  image: string;
  tag: string;
  digest?: string;
  /** The app commit that built the image (its `org.opencontainers.image.revision`). */
  revision?: string;
}

export interface LockEntry extends LockImage {
  /** Line of the component's key in the lock file. */
  line: number;
  /** Why automated runs leave this component alone, until a run releases it or a person removes the key. */
  hold?: string;
}

/** Something in the lock that is read past, with its line. */
export interface LockWarning {
  message: string;
  line: number;
}

export interface Lock {
  file: string;
  environments: Map<string, Map<string, LockEntry>>;
  /** Line of each environment's key. */
  environmentLines: Map<string, number>;
  /** Keys that look like misspelt known ones (ignored, as every unknown key is). */
  warnings: LockWarning[];
}

/**
 * A component's new state for updateLock: `digest` and `revision` are written when given and removed when
 * not; `hold` is set to a reason, removed with null, and left as it is when undefined.
 */
export interface LockUpdate extends LockImage {
  hold?: string | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const FIELDS = ['image', 'tag', 'digest', 'revision', 'hold'];

/** Optimal string alignment distance (Levenshtein with adjacent transpositions), enough to spot a typo. */
function typoDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known key an unknown one looks like a misspelling of (`diegst`, `Tag`, `tags`), if any. */
function misspeltField(key: string): string | undefined {
  const lower = key.toLowerCase();
  return FIELDS.find((field) => typoDistance(lower, field) <= (field.length <= 4 ? 1 : 2));
}

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
  const lock: Lock = { file, environments: new Map(), environmentLines: new Map(), warnings: [] };
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
      const where = `${env}.${component}`;
      for (const field of entry.items) {
        const key = keyText(field);
        const known = FIELDS.includes(key) ? undefined : misspeltField(key);
        if (known) {
          const line = lineOf(text, (field.key as Node).range![0]);
          lock.warnings.push({ line, message: `${where} has an unknown key '${key}', which is ignored: did you mean '${known}'?` });
        }
      }
      const find = (name: string) => entry.items.find((p) => keyText(p) === name);
      const image = stringField(find('image'), 'image', where, file, text);
      const tag = stringField(find('tag'), 'tag', where, file, text);
      const digest = stringField(find('digest'), 'digest', where, file, text);
      const revision = stringField(find('revision'), 'revision', where, file, text);
      const hold = stringField(find('hold'), 'hold', where, file, text);
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
      if (revision !== undefined && !isRevision(revision)) {
        fail(`${where}.revision '${revision}' must be a git commit id (7 to 64 hex characters): the app commit that built the image.`, file, text, find('revision')!.value as Node);
      }
      const optional = { ...(revision ? { revision } : {}), ...(hold ? { hold } : {}) };
      components.set(component, { image, tag, digest, ...optional, line: lineOf(text, (componentPair.key as Scalar).range![0]) });
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

/** A hold's reason as a new value: double-quoted, as the contract writes it, so any reason reads back as text. */
const holdValue = (reason: string) => JSON.stringify(reason);

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (isScalar(value) && (value.value === null || value.value === ''));
}

function flowEmpty(value: unknown): boolean {
  return (isMap(value) || isSeq(value)) && (value as YAMLMap).flow === true && (value as YAMLMap).items.length === 0;
}

/**
 * Sets the images of `environment` in the lock text, changing only the bytes of values that change;
 * new components and environments are appended in the file's indentation and quoting. An entry
 * without digest (or revision) removes the line the component had; `hold` is set, removed (null) or
 * left alone (undefined). Keys this writer does not know are left where they are.
 */
export function updateLock(text: string, file: string, environment: string, images: Map<string, LockUpdate>): string {
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
  const componentLines = (name: string, image: LockUpdate, indent: number) =>
    [
      `${pad(indent)}${name}:`,
      `${pad(indent + step)}image: ${value(image.image)}`,
      `${pad(indent + step)}tag: ${value(image.tag)}`,
      ...(image.digest ? [`${pad(indent + step)}digest: ${value(image.digest)}`] : []),
      ...(image.revision ? [`${pad(indent + step)}revision: ${value(image.revision)}`] : []),
      ...(image.hold ? [`${pad(indent + step)}hold: ${holdValue(image.hold)}`] : []),
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
    const style = field('tag')!.value!.type;
    const optional: Array<[string, string | null | undefined, (v: string) => string]> = [
      ['digest', image.digest ?? null, (v) => formatScalar(v, style)],
      ['revision', image.revision ?? null, (v) => formatScalar(v, style)],
      ['hold', image.hold, holdValue],
    ];
    for (const [key, wanted, format] of optional) {
      const pair = field(key);
      if (wanted === undefined) continue;
      if (wanted !== null && pair) {
        const edit = setScalar(pair.value!, wanted);
        if (edit) edits.push(edit);
      } else if (wanted !== null) edits.push(addPairEdit(text, entry, key, format(wanted)));
      else if (pair) edits.push(removePairEdit(text, entry, pair));
    }
  }
  if (added.length) {
    if (isMap(components) && components.items.length && !components.flow) insert(appendPoint(text, components), added.join(''));
    else if (isEmpty(components) || flowEmpty(components)) fillEmpty(envPair, added.join(''));
    else fail(`write environment '${environment}' in block style to let this task add components to it.`, file, text, components);
  }
  return applyEdits(text, edits);
}
