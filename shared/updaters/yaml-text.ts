import { Composer, type CST, isAlias, isMap, isPair, isScalar, isSeq, parse as parseYaml, Parser, type Document, type Node, type Pair, Scalar, type YAMLMap } from 'yaml';
import { UserError } from '../errors';

/**
 * Byte-exact YAML editing: files are parsed only to find where values sit, and edits splice new
 * value text into those ranges. Everything outside a changed value (comments, quoting, indentation,
 * line endings, key order) keeps its original bytes.
 */

/**
 * The deepest nesting of lists and mappings read: far beyond any lock or Kubernetes manifest (a Deployment's
 * container ports sit about ten levels down), and well below the depth at which the parser's recursion runs
 * out of stack, which varies with the engine's state: so a hostile file always gets the same message.
 */
export const MAX_DEPTH = 256;

/** The offset of the first list or mapping nested deeper than MAX_DEPTH in a parsed token stream, or undefined. */
function firstTooDeep(tokens: CST.Token[]): number | undefined {
  const pending: Array<[CST.Token, number]> = tokens.map((token) => [token, 0]);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [token, depth] = next;
    if (token.type === 'document' && token.value) pending.push([token.value, depth]);
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth >= MAX_DEPTH) return token.offset;
    for (const item of token.items as Array<{ key?: CST.Token | null; value?: CST.Token }>) {
      if (item.key) pending.push([item.key, depth + 1]);
      if (item.value) pending.push([item.value, depth + 1]);
    }
  }
  return undefined;
}

function tooDeep(file: string, line: number): UserError {
  return new UserError(`${file} is nested too deeply: its lists or mappings inside each other go more than ${MAX_DEPTH} levels down, which no lock or manifest needs; fix the file and run again.`, { file, line });
}

/** One replacement of text[start, end) by `text`. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** What a YAML node is, for a message. */
export function describeNode(node: unknown): string {
  if (isAlias(node)) return `an alias (*${node.source}): write the value out`;
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return `the ${typeof node.value} ${JSON.stringify(String(node.value)).slice(0, 60)}`;
  return 'this value';
}

/** 1-based line of a character offset. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The file's line ending: CRLF when its first line ends with one, else LF. */
export function eolOf(text: string): string {
  const first = text.indexOf('\n');
  return first > 0 && text[first - 1] === '\r' ? '\r\n' : '\n';
}

/**
 * Every document of a YAML file; a syntax error (or a duplicate key) becomes a UserError naming the file
 * and line, and so does nesting deeper than MAX_DEPTH. Manifests are read with the failsafe schema (every
 * scalar a string, as image references and tags are), which also spares the time of resolving numbers and booleans.
 */
export function parseDocuments(text: string, file: string, schema: 'core' | 'failsafe' = 'core'): Document.Parsed[] {
  const tokens = Array.from(new Parser().parse(text));
  const deep = firstTooDeep(tokens);
  if (deep !== undefined) throw tooDeep(file, lineOf(text, deep));
  const list = Array.from(new Composer({ prettyErrors: false, schema }).compose(tokens));
  for (const document of list) {
    const error = document.errors[0];
    if (error) {
      // an error at the end of the file (an unclosed bracket) points at the last line that holds text
      const line = lineOf(text, Math.min(error.pos[0], Math.max(0, text.trimEnd().length - 1)));
      if (error.code === 'RESOURCE_EXHAUSTION') throw tooDeep(file, line);
      throw new UserError(`${file} is not valid YAML (${error.message.split('\n')[0]}): fix the file and run again.`, { file, line });
    }
  }
  return list;
}

/** Applies non-overlapping edits (in any order) to `text`. */
export function applyEdits(text: string, edits: Edit[]): string {
  if (!edits.length) return text;
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const edit of sorted) {
    if (edit.start < at) throw new Error(`overlapping YAML edits at ${edit.start}`);
    out += text.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + text.slice(at);
}

/** True when `value` written plain reads back as the same string. */
export function plainSafe(value: string): boolean {
  if (!value || /^[\s]|[\s]$|: |\s#|^[-?:,[\]{}#&*!|>'"%@`]/.test(value) || /[\r\n]/.test(value)) return false;
  try {
    return parseYaml(value) === value;
  } catch {
    return false;
  }
}

/** `value` as a YAML scalar in the given style, falling back to double quotes when plain cannot hold it. */
export function formatScalar(value: string, style: Scalar.Type | string | undefined): string {
  if (style === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  if (style === 'QUOTE_DOUBLE' || !plainSafe(value)) return JSON.stringify(value);
  return value;
}

/** The edit that makes scalar `node` hold `value`, in the node's own quoting; undefined when it already does. */
export function setScalar(node: Scalar, value: string): Edit | undefined {
  if (node.value === value && typeof node.value === 'string') return undefined;
  const [start, end] = node.range!;
  return { start, end, text: formatScalar(value, node.type) };
}

/** Column (0-based) of an offset within its line. */
export function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** Offset just past the end of the line containing `offset` (after its line break), or text.length. */
export function endOfLine(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

/** Offset of the start of the line containing `offset`. */
export function startOfLine(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

export const isStringScalar = (node: unknown): node is Scalar<string> => isScalar(node) && typeof node.value === 'string';

/** Offset of the end of the last value inside `node` (a nested collection's last scalar). */
export function lastValueEnd(node: Node): number {
  if (isMap(node) || isSeq(node)) {
    const last = node.items[node.items.length - 1] as unknown;
    if (last === undefined) return node.range![1];
    if (isPair(last)) return lastValueEnd((last.value ?? last.key) as Node);
    return lastValueEnd(last as Node);
  }
  return node.range![1];
}

/**
 * The edit that adds `key: value` (value already formatted) as the last pair of a non-empty mapping: a new
 * line in the mapping's indentation for block style, `, key: value` before the closing brace for flow style.
 */
export function addPairEdit(text: string, map: YAMLMap, key: string, value: string): Edit {
  const last = map.items[map.items.length - 1] as Pair<Node, Node | null>;
  const lastEnd = (last.value ?? last.key).range![1];
  if (map.flow) return { start: lastEnd, end: lastEnd, text: `, ${key}: ${value}` };
  const eol = eolOf(text);
  const indent = ' '.repeat(columnOf(text, (map.items[0] as Pair<Node>).key.range![0]));
  const at = endOfLine(text, lastValueEnd(map));
  // At the end of a file without a final line break, the new line goes after one and the file still ends without.
  if (at === text.length && !text.endsWith('\n')) return { start: at, end: at, text: `${eol}${indent}${key}: ${value}` };
  return { start: at, end: at, text: `${indent}${key}: ${value}${eol}` };
}

/** The edit that removes one pair of a mapping: its whole line(s) in block style, `, key: value` in flow style. */
export function removePairEdit(text: string, map: YAMLMap, pair: Pair<Node, Node | null>): Edit {
  const valueEnd = (pair.value ?? pair.key).range![1];
  if (!map.flow) return { start: startOfLine(text, pair.key.range![0]), end: endOfLine(text, valueEnd), text: '' };
  const index = map.items.indexOf(pair as never);
  if (index > 0) {
    const previous = map.items[index - 1] as Pair<Node, Node | null>;
    return { start: (previous.value ?? previous.key).range![1], end: valueEnd, text: '' };
  }
  const next = map.items[index + 1] as Pair<Node, Node | null> | undefined;
  return { start: pair.key.range![0], end: next ? next.key.range![0] : valueEnd, text: '' };
}
