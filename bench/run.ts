import { promises as fs, readdirSync } from 'node:fs';
import * as path from 'node:path';

/** One measured figure beside its goal. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The goal, in the same unit; a figure meets it when value <= goal. */
  goal?: number;
  note?: string;
}

/** A scenario module in bench/scenarios exports `run(): Promise<Figure[]>`. */
async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const dir = path.join(__dirname, 'scenarios');
  const files = readdirSync(dir).filter((f) => f.endsWith('.js') && (!only.length || only.some((o) => f.includes(o))));
  const figures: Figure[] = [];
  // Cold start first, on a quiet machine: the builds and pushes of later scenarios leave the disk busy.
  const order = (file: string) => (file.startsWith('cold-start') ? 0 : 1);
  for (const file of files.sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
    process.stdout.write(`bench: ${file} ...\n`);
    const scenario = (await import(path.join(dir, file))) as { run(): Promise<Figure[]> };
    for (const figure of await scenario.run()) {
      figures.push(figure);
      process.stdout.write(`  ${figure.name}: ${figure.value} ${figure.unit}${figure.goal !== undefined ? ` (goal <= ${figure.goal})` : ''}\n`);
    }
  }
  const root = path.resolve(__dirname, '..', '..', 'bench');
  const results = { date: new Date().toISOString(), node: process.version, figures };
  await fs.writeFile(path.join(root, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  const rows = figures.map(
    (f) => `| ${f.name} | ${f.value} ${f.unit} | ${f.goal === undefined ? '' : `<= ${f.goal} ${f.unit}`} | ${f.goal === undefined ? '' : f.value <= f.goal ? 'met' : 'missed'} | ${f.note ?? ''} |`,
  );
  await fs.writeFile(path.join(root, 'results.md'), ['| figure | value | goal | | note |', '|---|---|---|---|---|', ...rows].join('\n') + '\n');
  process.stdout.write(`bench: wrote bench/results.json and bench/results.md (${figures.length} figures)\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
