import * as assert from 'node:assert/strict';
import { selectByName } from '../../../shared/cargo/select';

const items = ['heuristic', 'ingest', 'ingest-worker', 'notifier', 'sensor.sim'].map((name) => ({ name }));
const names = (input: string | string[]) => selectByName(items, input).map((i) => i.name);

describe('cargo: selectByName', () => {
  it('empty selects everything', () => {
    assert.deepEqual(names(''), items.map((i) => i.name));
    assert.deepEqual(names('  \n , '), items.map((i) => i.name));
  });

  it('names, one a line or comma-separated', () => {
    assert.deepEqual(names('heuristic\nnotifier'), ['heuristic', 'notifier']);
    assert.deepEqual(names('heuristic, notifier'), ['heuristic', 'notifier']);
    assert.deepEqual(names(['notifier']), ['notifier']);
  });

  it('globs: * and ?, anchored, other characters literal', () => {
    assert.deepEqual(names('ingest*'), ['ingest', 'ingest-worker']);
    assert.deepEqual(names('*er'), ['ingest-worker', 'notifier']);
    assert.deepEqual(names('sensor?sim'), ['sensor.sim']);
    assert.throws(() => names('sensor.s'), { name: 'UserError' });
    assert.throws(() => names('ingest.*'), { name: 'UserError' }); // '.' is literal, not regex
  });

  it('! excludes; only exclusions select everything else', () => {
    assert.deepEqual(names('!ingest*'), ['heuristic', 'notifier', 'sensor.sim']);
    assert.deepEqual(names('ingest*\n!ingest-worker'), ['ingest']);
    assert.deepEqual(names('! notifier'), ['heuristic', 'ingest', 'ingest-worker', 'sensor.sim']);
  });

  it('a pattern matching nothing is an error listing the known names', () => {
    assert.throws(() => names('heuristc'), { name: 'UserError', message: /No component matches 'heuristc'.*Known: heuristic, ingest, ingest-worker, notifier, sensor\.sim\./ });
    assert.throws(() => names('!missing'), { name: 'UserError', message: /No component matches 'missing'/ });
    assert.throws(() => selectByName([], 'x'), { message: /Known: none\./ });
  });

  it('names what it selects in the error', () => {
    assert.throws(() => selectByName(items, 'nope', 'image'), { message: /No image matches 'nope'/ });
  });
});
