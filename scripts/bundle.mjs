// Bundles each task's index.ts into one CommonJS file at the task's root, beside its task.json,
// with task-lib's lib.json (its message catalogue) copied next to it, and esbuild's metafile
// (index.meta.json: every input it bundled) from which packaging writes the third-party notices.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const libJson = require.resolve('azure-pipelines-task-lib/lib.json');

export function taskDirs() {
  const tasksDir = path.join(root, 'tasks');
  return readdirSync(tasksDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(tasksDir, entry.name, 'task.json')))
    .map((entry) => path.join(tasksDir, entry.name));
}

export const METAFILE = 'index.meta.json';

export async function bundle() {
  const dirs = taskDirs();
  await Promise.all(
    dirs.map(async (dir) => {
      const { metafile } = await esbuild.build({
        entryPoints: [path.join(dir, 'index.ts')],
        outfile: path.join(dir, 'index.js'),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        minify: true,
        // Licence texts ship whole in ThirdPartyNotices.txt instead (scripts/third-party-notices.mjs).
        legalComments: 'none',
        logLevel: 'warning',
        metafile: true,
        absWorkingDir: root,
      });
      writeFileSync(path.join(dir, METAFILE), JSON.stringify(metafile));
    }),
  );
  for (const dir of dirs) copyFileSync(libJson, path.join(dir, 'lib.json'));
  return dirs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dirs = await bundle();
  console.log(`bundled ${dirs.length} task(s): ${dirs.map((d) => path.basename(d)).join(', ')}`);
}
