import * as assert from 'node:assert/strict';
import { UserError } from '../../shared/errors';
import { fillTemplate } from '../../shared/template';

describe('template: placeholders filled one way', () => {
  it('fills every known placeholder, as often as it appears', () => {
    assert.equal(fillTemplate('tagFormat', '{name}/{version}-{name}', { name: 'heuristic', version: '1.4.2' }), 'heuristic/1.4.2-heuristic');
  });

  it('refuses an unknown placeholder, naming the input and listing the known ones', () => {
    assert.throws(
      () => fillTemplate('message', '{name} {verison}', { name: 'a', version: '1' }),
      (error: unknown) => error instanceof UserError && error.message === "message '{name} {verison}' uses {verison}, which is not known: use {name}, {version}.",
    );
  });

  it('does not take inherited properties for placeholders', () => {
    for (const key of ['constructor', '__proto__', 'toString']) {
      assert.throws(() => fillTemplate('dockerfile', `{${key}}`, { path: 'x' }), /which is not known: use \{path\}/);
    }
  });

  it('leaves unknown placeholders of free text as written when asked to', () => {
    assert.equal(fillTemplate('description', 'Set {count} in {json}', { count: '2' }, { keepUnknown: true }), 'Set 2 in {json}');
  });
});
