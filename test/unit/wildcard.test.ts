import * as assert from 'node:assert/strict';
import { selectByName } from '../../shared/cargo/select';
import { wildcard } from '../../shared/wildcard';

describe('wildcard', () => {
  it('matches * and ? against whole strings, every other character literally', () => {
    const cases: Array<[string, string, boolean]> = [
      ['*', '', true],
      ['*', 'anything', true],
      ['a*', 'abc', true],
      ['*c', 'abc', true],
      ['a*c', 'ac', true],
      ['a*c', 'abcbc', true],
      ['a*c', 'abcb', false],
      ['a?c', 'abc', true],
      ['a?c', 'ac', false],
      ['*-connector', 'edge-http-connector', true],
      ['edge-*-*', 'edge-http', false],
      ['a.b', 'axb', false],
      ['[ab]', 'a', false],
      ['[ab]', '[ab]', true],
      ['$(x)', '$(x)', true],
      ['**a', 'ba', true],
      ['é*', 'éa', true],
      ['😀?', '😀x', true],
    ];
    for (const [pattern, text, expected] of cases) assert.equal(wildcard(pattern)(text), expected, `${pattern} ~ ${text}`);
  });

  it('stays linear where a regular expression backtracks exponentially', () => {
    const name = 'a'.repeat(5000);
    assert.equal(wildcard(`${'*a'.repeat(30)}*b`)(name), false);
    assert.throws(() => selectByName([{ name }], `${'*a'.repeat(30)}*b`), /No component matches/);
  });
});
