/** One measured figure beside its goal. */
export interface Figure {
  name: string;
  /** NaN when it could not be measured; `note` then says why. */
  value: number;
  unit: string;
  /** The goal, in the same unit; a figure meets it when value <= goal. */
  goal?: number;
  note?: string;
}

/** A figure and the scenario (bench/scenarios/<scenario>.ts) that measured it. */
export interface Measured extends Figure {
  scenario: string;
}

export type Status = 'met' | 'missed' | 'not run' | 'no goal';

/** A figure of this run, its status, and the baseline's value of the same figure. */
export interface Row extends Measured {
  status: Status;
  baseline?: number;
}

/** What bench/baseline.json holds: the figures of the run it was written from. */
export interface Baseline {
  date: string;
  node: string;
  load: string;
  figures: Measured[];
}

const measured = (value: number | null | undefined): value is number => typeof value === 'number' && Number.isFinite(value);
const key = (f: Measured) => `${f.scenario}\n${f.name}`;

export function statusOf(figure: Figure): Status {
  if (!measured(figure.value)) return 'not run';
  if (figure.goal === undefined) return 'no goal';
  return figure.value <= figure.goal ? 'met' : 'missed';
}

/**
 * The figures of a scenario that could not run (it threw: a missing program, a failure): those the
 * baseline knows for it, or one named after the scenario, each not run with the reason.
 */
export function notRun(scenario: string, reason: string, baseline: Measured[]): Measured[] {
  const known = baseline.filter((f) => f.scenario === scenario);
  const figures: Array<Pick<Figure, 'name' | 'unit' | 'goal'>> = known.length ? known : [{ name: `${scenario} (scenario)`, unit: '' }];
  return figures.map(({ name, unit, goal }) => ({ scenario, name, value: NaN, unit, goal, note: `not run: ${reason}` }));
}

/**
 * This run's figures beside the baseline's; a figure the baseline has for a scenario that ran but that
 * this run did not measure is a row of its own, not run.
 */
export function compare(figures: Measured[], baseline: Measured[]): Row[] {
  const previous = new Map(baseline.map((f) => [key(f), f]));
  const ran = new Set(figures.map((f) => f.scenario));
  const seen = new Set(figures.map(key));
  const lost = baseline
    .filter((f) => ran.has(f.scenario) && !seen.has(key(f)))
    .map((f) => ({ ...f, value: NaN, note: 'not run: the baseline has this figure, this run did not measure it' }));
  return [...figures, ...lost].map((f) => {
    const before = previous.get(key(f))?.value;
    return { ...f, status: statusOf(f), ...(measured(before) ? { baseline: before } : {}) };
  });
}

/** Rows that fail the gate: a goal missed, or a figure not run. */
export const failing = (rows: Row[]): Row[] => rows.filter((r) => r.status === 'missed' || r.status === 'not run');

/** "+12% (was 1,600 ms)", "new" (no baseline), or "" (not run). */
export function change(row: Row): string {
  if (!measured(row.value)) return '';
  if (row.baseline === undefined) return 'new';
  const delta = row.value - row.baseline;
  const relative = row.baseline === 0 ? (delta === 0 ? '±0' : `${delta > 0 ? '+' : ''}${delta} ${row.unit}`) : `${delta >= 0 ? '+' : ''}${Math.round((delta / row.baseline) * 100)}%`;
  return `${relative} (was ${row.baseline} ${row.unit})`;
}

/** The baseline after this run: its measured figures, and the old baseline's for scenarios this run left out. */
export function nextBaseline(rows: Row[], previous: Measured[], scenarios: string[]): Measured[] {
  const now = rows.filter((r) => measured(r.value)).map(({ scenario, name, value, unit, goal, note }) => ({ scenario, name, value, unit, goal, note }));
  return [...previous.filter((f) => !scenarios.includes(f.scenario)), ...now];
}

const goalText = (f: Figure) => (f.goal === undefined ? '' : `<= ${f.goal} ${f.unit}`);
const valueText = (f: Figure) => (measured(f.value) ? `${f.value} ${f.unit}` : 'not run');

/** One line of the console report. */
export function line(row: Row): string {
  if (row.status === 'not run') return `${row.name}: NOT RUN (${(row.note ?? '').replace(/^not run: /, '')})`;
  const goal = row.goal === undefined ? '' : ` (goal ${goalText(row)})`;
  const verdict = row.status === 'missed' ? ' MISSED' : '';
  return `${row.name}: ${valueText(row)}${goal}${verdict}, vs baseline ${change(row)}`;
}

export function markdown(rows: Row[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| figure | value | goal | status | vs baseline | note |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.name)} | ${valueText(r)} | ${goalText(r)} | ${r.status === 'no goal' ? '' : r.status} | ${change(r)} | ${cell(r.note ?? '')} |`),
  ].join('\n');
}
