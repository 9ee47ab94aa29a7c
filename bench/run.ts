import { existsSync, promises as fs, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { type Baseline, compare, failing, line, markdown, type Measured, nextBaseline, notRun } from './gate';
import { machineLoad } from './measure';

export type { Figure } from './gate';

const USAGE = `usage: npm run bench -- [--report-only] [--update-baseline] [scenario ...]
  Runs the scenarios of bench/scenarios (those whose file name contains one of the given words, or all),
  prints each figure beside its goal and its change against bench/baseline.json, writes bench/results.json
  and bench/results.md, and exits 1 when a goal is missed or a figure could not be measured.
  --report-only      report, and exit 0 whatever the figures
  --update-baseline  write this run's figures to bench/baseline.json (written anyway when it is missing)`;

/** A scenario module in bench/scenarios exports `run(): Promise<Figure[]>`; one that throws is reported as not run. */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const unknown = [...flags].filter((f) => !['--report-only', '--update-baseline', '--help'].includes(f));
  if (unknown.length || flags.has('--help')) {
    process.stderr.write(`${unknown.length ? `unknown option ${unknown.join(', ')}\n` : ''}${USAGE}\n`);
    return unknown.length ? 2 : 0;
  }
  const only = args.filter((a) => !a.startsWith('--'));
  const root = path.resolve(__dirname, '..', '..', 'bench');
  const baselineFile = path.join(root, 'baseline.json');
  const previous = existsSync(baselineFile) ? (JSON.parse(await fs.readFile(baselineFile, 'utf8')) as Baseline) : undefined;
  const baseline = previous?.figures ?? [];
  const dir = path.join(__dirname, 'scenarios');
  // Cold start first, on a quiet machine: the builds and pushes of later scenarios leave the disk busy.
  const order = (file: string) => (file.startsWith('cold-start') ? 0 : 1);
  const scenarios = readdirSync(dir)
    .filter((f) => f.endsWith('.js') && (!only.length || only.some((o) => f.includes(o))))
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .map((f) => f.slice(0, -'.js'.length));
  if (!scenarios.length) {
    process.stderr.write(`no scenario matches ${only.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const load = machineLoad();
  process.stdout.write(`bench: ${scenarios.length} scenario(s), ${load}; baseline ${previous ? `of ${previous.date} (${previous.load})` : 'none yet'}\n`);

  const figures: Measured[] = [];
  for (const scenario of scenarios) {
    process.stdout.write(`bench: ${scenario} ...\n`);
    let measured: Measured[];
    try {
      const module = (await import(path.join(dir, `${scenario}.js`))) as { run(): Promise<Measured[]> };
      measured = (await module.run()).map((f) => ({ ...f, scenario }));
    } catch (error) {
      measured = notRun(scenario, (error as Error).message.split('\n')[0], baseline);
    }
    for (const row of compare(measured, baseline)) process.stdout.write(`  ${line(row)}\n`);
    figures.push(...measured);
  }

  const rows = compare(figures, baseline);
  const date = new Date().toISOString();
  await fs.writeFile(path.join(root, 'results.json'), JSON.stringify({ date, node: process.version, load, figures: rows }, null, 2) + '\n');
  await fs.writeFile(path.join(root, 'results.md'), markdown(rows) + '\n');
  process.stdout.write(`bench: wrote bench/results.json and bench/results.md (${rows.length} figures)\n`);
  if (flags.has('--update-baseline') || !previous) {
    const next: Baseline = { date, node: process.version, load, figures: nextBaseline(rows, baseline, scenarios) };
    await fs.writeFile(baselineFile, JSON.stringify(next, null, 2) + '\n');
    process.stdout.write(`bench: wrote bench/baseline.json (${next.figures.length} figures)\n`);
  }

  const failed = failing(rows);
  if (!failed.length) {
    process.stdout.write('bench: every goal met\n');
    return 0;
  }
  const missed = failed.filter((r) => r.status === 'missed').length;
  process.stdout.write(`bench: ${missed} goal(s) missed, ${failed.length - missed} figure(s) not run:\n${failed.map((r) => `  ${line(r)}\n`).join('')}`);
  if (flags.has('--report-only')) {
    process.stdout.write('bench: --report-only, so not failing\n');
    return 0;
  }
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
