/**
 * Wildcard matching in time proportional to pattern length times text length, whatever the pattern:
 * a regular expression such as `^.*a.*a.*a.*b$` backtracks exponentially on a long run of `a`s, so a
 * pattern from an input or a Cargo.toml could otherwise stall a task for hours.
 */

/** A pattern element: `*` (any run of characters, possibly empty) or a test for exactly one character. */
export type WildcardToken = '*' | ((char: string) => boolean);

/** Whether `tokens` match the whole of `text` (one UTF-16 code unit per character test). */
export function matchTokens(tokens: readonly WildcardToken[], text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1; // the last `*` seen, and where in the text its match currently ends
  let resume = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (token !== undefined && token !== '*' && token(text[t])) {
      p++;
      t++;
    } else if (token === '*') {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      // Let the last `*` swallow one more character; earlier stars never need to move (greedy is enough).
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (tokens[p] === '*') p++;
  return p === tokens.length;
}

/** Tokens of a plain `*`/`?` pattern: every other character stands for itself. */
export function simpleTokens(pattern: string): WildcardToken[] {
  return [...pattern].flatMap<WildcardToken>((c) => {
    if (c === '*') return ['*'];
    if (c === '?') return [() => true];
    // A character outside the BMP is two code units: match each.
    return c.split('').map((unit) => (x: string) => x === unit);
  });
}

/** A matcher for a plain `*`/`?` pattern against whole strings. */
export function wildcard(pattern: string): (text: string) => boolean {
  const tokens = simpleTokens(pattern);
  return (text) => matchTokens(tokens, text);
}
