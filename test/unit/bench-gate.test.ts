import * as assert from 'node:assert/strict';
import { change, compare, failing, line, markdown, type Measured, nextBaseline, notRun } from '../../bench/gate';

const baseline: Measured[] = [
  { scenario: 'registry', name: 'registry resolution, 200 components', value: 1600, unit: 'ms', goal: 1000 },
  { scenario: 'discovery', name: 'discovery, 1,000 crates', value: 200, unit: 'ms', goal: 500 },
  { scenario: 'discovery', name: 'discovery, first run', value: 400, unit: 'ms' },
  { scenario: 'vsix', name: 'VSIX size', value: 0.5, unit: 'MB', goal: 1.5 },
];

describe('bench gate: goals, not-run figures and the change against the baseline', () => {
  it('a figure over its goal is missed and fails the gate; one under it is met', () => {
    const rows = compare(
      [
        { scenario: 'registry', name: 'registry resolution, 200 components', value: 1680, unit: 'ms', goal: 1000 },
        { scenario: 'discovery', name: 'discovery, 1,000 crates', value: 150, unit: 'ms', goal: 500 },
        { scenario: 'discovery', name: 'discovery, first run', value: 400, unit: 'ms' },
      ],
      baseline,
    );
    assert.deepEqual(rows.map((r) => r.status), ['missed', 'met', 'no goal']);
    assert.deepEqual(failing(rows).map((r) => r.name), ['registry resolution, 200 components']);
    assert.deepEqual(rows.map(change), ['+5% (was 1600 ms)', '-25% (was 200 ms)', '+0% (was 400 ms)']);
    assert.equal(line(rows[0]), 'registry resolution, 200 components: 1680 ms (goal <= 1000 ms) MISSED, vs baseline +5% (was 1600 ms)');
  });

  it('a scenario that threw is reported, figure by figure as the baseline knows them, as not run with its reason, and fails the gate', () => {
    const rows = compare(notRun('discovery', 'cargo is not installed', baseline), baseline);
    assert.deepEqual(
      rows.map((r) => [r.name, r.status, r.note]),
      [
        ['discovery, 1,000 crates', 'not run', 'not run: cargo is not installed'],
        ['discovery, first run', 'not run', 'not run: cargo is not installed'],
      ],
    );
    assert.equal(failing(rows).length, 2);
    assert.equal(line(rows[0]), 'discovery, 1,000 crates: NOT RUN (cargo is not installed)');
    assert.match(markdown(rows), /\| discovery, first run \| not run \| {2}\| not run \| {2}\| not run: cargo is not installed \|/);
    // A scenario the baseline does not know yet is one row named after it.
    assert.deepEqual(compare(notRun('new-one', 'boom', baseline), baseline).map((r) => [r.name, r.status]), [['new-one (scenario)', 'not run']]);
  });

  it('a figure the baseline has but this run of its scenario did not measure is not run, not dropped', () => {
    const rows = compare([{ scenario: 'discovery', name: 'discovery, 1,000 crates', value: 210, unit: 'ms', goal: 500 }], baseline);
    assert.deepEqual(rows.map((r) => [r.name, r.status]), [
      ['discovery, 1,000 crates', 'met'],
      ['discovery, first run', 'not run'],
    ]);
    assert.equal(failing(rows).length, 1);
  });

  it('a figure without a baseline is new; the next baseline keeps what this run did not measure', () => {
    const rows = compare([{ scenario: 'vsix', name: 'bundle size CreateEnvPR', value: 300, unit: 'KB' }, ...notRun('registry', 'docker-registry is not installed', baseline)], baseline);
    assert.equal(change(rows[0]), 'new');
    const next = nextBaseline(rows, baseline, ['vsix', 'registry']);
    assert.deepEqual(next.map((f) => [f.scenario, f.name, f.value]), [
      ['discovery', 'discovery, 1,000 crates', 200],
      ['discovery', 'discovery, first run', 400],
      ['vsix', 'bundle size CreateEnvPR', 300],
    ]);
  });
});
