/**
 * Azure Pipelines conditions, as far as the local runner evaluates them: `and`, `or`, `not`, `eq`, `ne`, `in`,
 * `notIn`, `startsWith`, `endsWith`, `contains`, the status functions (`succeeded()`, `always()`, `failed()`,
 * `canceled()`, `succeededOrFailed()`), `variables['Name']` / `variables.Name`, and string, number and boolean
 * literals. Anything else (dependencies' results, `counter`, `format`, ...) is refused when the file is read.
 */

export type Condition =
  | { kind: 'literal'; value: string | boolean | number }
  | { kind: 'variable'; name: string }
  | { kind: 'call'; name: string; args: Condition[] };

export class ConditionError extends Error {}

/** What a condition sees: variables (case-insensitive) and whether what it depends on succeeded. */
export interface ConditionContext {
  variable(name: string): string | undefined;
  /** Every dependency succeeded (none was skipped); true for a step, since a failure stops the run. */
  dependenciesSucceeded: boolean;
}

const ARITY: Record<string, [number, number]> = {
  and: [2, Infinity], or: [2, Infinity], not: [1, 1], eq: [2, 2], ne: [2, 2], in: [2, Infinity], notin: [2, Infinity],
  startswith: [2, 2], endswith: [2, 2], contains: [2, 2],
  succeeded: [0, 0], always: [0, 0], failed: [0, 0], canceled: [0, 0], succeededorfailed: [0, 0],
};

/** Parses `text`; a ConditionError says what is not supported. */
export function parseCondition(text: string): Condition {
  let at = 0;
  const fail = (why: string, position = at): never => {
    throw new ConditionError(`${why} at character ${position + 1} of '${text}'`);
  };
  const space = () => {
    while (/\s/.test(text[at] ?? '')) at++;
  };
  const expression = (): Condition => {
    space();
    const quote = /^'((?:[^']|'')*)'/.exec(text.slice(at));
    if (quote) {
      at += quote[0].length;
      return { kind: 'literal', value: quote[1].replace(/''/g, "'") };
    }
    const number = /^-?\d+(?:\.\d+)?/.exec(text.slice(at));
    if (number) {
      at += number[0].length;
      return { kind: 'literal', value: Number(number[0]) };
    }
    const variable = /^variables(?:\[\s*'([^']+)'\s*\]|\.([\w.]+))/i.exec(text.slice(at));
    if (variable) {
      at += variable[0].length;
      return { kind: 'variable', name: variable[1] ?? variable[2] };
    }
    const word = /^[A-Za-z_][\w.]*/.exec(text.slice(at));
    if (!word) return fail('expected a value');
    const start = at;
    at += word[0].length;
    if (/^(true|false)$/i.test(word[0])) return { kind: 'literal', value: word[0].toLowerCase() === 'true' };
    space();
    if (text[at] !== '(') return fail(`'${word[0]}' is not something the local runner can read (it reads variables['Name'] and literals)`, start);
    const name = word[0].toLowerCase();
    const arity = ARITY[name];
    if (!arity) return fail(`the function '${word[0]}' is not one the local runner evaluates`, start);
    at++;
    const args: Condition[] = [];
    space();
    if (text[at] === ')') at++;
    else {
      for (;;) {
        args.push(expression());
        space();
        if (text[at] === ',') at++;
        else if (text[at] === ')') {
          at++;
          break;
        } else fail(`expected ',' or ')'`);
      }
    }
    if (args.length < arity[0] || args.length > arity[1]) fail(`'${word[0]}' takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]} or more`} argument(s)`);
    return { kind: 'call', name, args };
  };
  const condition = expression();
  space();
  if (at < text.length) fail('unexpected text');
  return condition;
}

const text = (value: string | boolean | number) => String(value).toLowerCase();
const truthy = (value: string | boolean | number) => (typeof value === 'string' ? value !== '' : typeof value === 'number' ? value !== 0 : value);

/** Evaluates a parsed condition; string comparisons ignore case, as Azure Pipelines' do. */
export function evaluateCondition(condition: Condition, context: ConditionContext): boolean {
  return truthy(value(condition, context));
}

function value(condition: Condition, context: ConditionContext): string | boolean | number {
  if (condition.kind === 'literal') return condition.value;
  if (condition.kind === 'variable') return context.variable(condition.name) ?? '';
  const args = condition.args.map((arg) => () => value(arg, context));
  const all = () => args.map((arg) => arg());
  switch (condition.name) {
    case 'and':
      return args.every((arg) => truthy(arg()));
    case 'or':
      return args.some((arg) => truthy(arg()));
    case 'not':
      return !truthy(args[0]());
    case 'eq':
    case 'ne': {
      const [a, b] = all().map(text);
      return (a === b) === (condition.name === 'eq');
    }
    case 'in':
    case 'notin': {
      const [first, ...rest] = all().map(text);
      return rest.includes(first) === (condition.name === 'in');
    }
    case 'startswith':
      return text(args[0]()).startsWith(text(args[1]()));
    case 'endswith':
      return text(args[0]()).endsWith(text(args[1]()));
    case 'contains':
      return text(args[0]()).includes(text(args[1]()));
    case 'succeeded':
      return context.dependenciesSucceeded;
    case 'failed':
    case 'canceled':
      return false;
    default: // always, succeededOrFailed: the run stops at a failure, so nothing before them failed
      return true;
  }
}
