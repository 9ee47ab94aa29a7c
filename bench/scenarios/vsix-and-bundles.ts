import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Figure } from '../run';

const root = path.resolve(__dirname, '..', '..', '..');
const VSIX_GOAL_MB = 1.5;

/**
 * Size of each bundled task, and of the VSIX packaged from this build: `scripts/package.mjs` writes
 * it into a temporary folder (dist/ is left alone, and a VSIX left there from an older build does not count).
 */
export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const task of (await fs.readdir(path.join(root, 'tasks'))).sort()) {
    const bundle = path.join(root, 'tasks', task, 'index.js');
    const size = await fs.stat(bundle).then((s) => s.size, () => undefined);
    if (size !== undefined) figures.push({ name: `bundle size ${task}`, value: Math.round(size / 1024), unit: 'KB' });
  }
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-vsix-'));
  try {
    const packaged = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.mjs'), '--out', out], { cwd: root, encoding: 'utf8' });
    const vsix = (await fs.readdir(out)).filter((f) => f.endsWith('.vsix'));
    if (packaged.status !== 0 || vsix.length !== 1) {
      const said = `${packaged.stderr ?? ''}${packaged.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
      return [...figures, { name: 'VSIX size', value: NaN, unit: 'MB', goal: VSIX_GOAL_MB, note: `packaging failed: ${said}` }];
    }
    const size = (await fs.stat(path.join(out, vsix[0]))).size;
    const tasks = figures.length;
    figures.push({
      name: 'VSIX size',
      value: Math.round((size / 1024 / 1024) * 100) / 100,
      unit: 'MB',
      goal: VSIX_GOAL_MB,
      note: `${vsix[0]} (${Math.round(size / 1024)} KB, ${tasks} task(s)), packaged from this build by scripts/package.mjs`,
    });
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
  return figures;
}
