import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Figure } from '../run';

const root = path.resolve(__dirname, '..', '..', '..');

/** Size of each bundled task and of the packaged VSIX (run `npm run package` first for the VSIX). */
export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const task of await fs.readdir(path.join(root, 'tasks'))) {
    const bundle = path.join(root, 'tasks', task, 'index.js');
    const size = await fs.stat(bundle).then((s) => s.size, () => undefined);
    if (size !== undefined) figures.push({ name: `bundle size ${task}`, value: Math.round(size / 1024), unit: 'KB' });
  }
  const dist = path.join(root, 'dist');
  const vsix = (await fs.readdir(dist).catch(() => [] as string[])).filter((f) => f.endsWith('.vsix') && !f.includes('-dev'));
  for (const file of vsix) {
    const size = (await fs.stat(path.join(dist, file))).size;
    figures.push({ name: `VSIX size ${file}`, value: Math.round((size / 1024 / 1024) * 100) / 100, unit: 'MB', goal: 1.5 });
  }
  return figures;
}
