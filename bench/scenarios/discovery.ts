import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverCargo } from '../../shared/cargo/discover';
import { run as runProcess } from '../../shared/process';
import type { Figure } from '../run';

const WORKSPACE_CRATES = 800;
const STANDALONE_CRATES = 200;
const RUNS = 7;
const BROKEN_FIXTURES = 200;
const IGNORED_CRATES = 100;

/**
 * A git working copy with 1,000 crates: a virtual workspace of 800 members under two globs (version
 * inherited, path dependencies on shared libraries, a sources folder and a tests folder each, a
 * target/ full of build output to skip) and 200 standalone crates one level below components/; beside
 * them 200 deliberately invalid test fixture manifests (each a problem, skipped) and a git-ignored
 * scratch/ folder of 100 crates (never entered).
 */
async function generate(root: string): Promise<void> {
  const files: Array<[string, string]> = [];
  files.push([
    'Cargo.toml',
    '[workspace]\nresolver = "2"\nmembers = ["crates/*", "services/**/svc-*"]\nexclude = ["crates/excluded"]\n\n[workspace.package]\nversion = "1.2.3"\nedition = "2021"\n\n[workspace.dependencies]\nlib-0 = { path = "crates/lib-0" }\nserde = "1"\n',
  ]);
  for (let i = 0; i < WORKSPACE_CRATES; i++) {
    const dir = i < WORKSPACE_CRATES / 2 ? `crates/lib-${i}` : `services/group-${i % 10}/svc-${i}`;
    const other = i === 0 ? 0 : (i * 7) % Math.min(i, WORKSPACE_CRATES / 2);
    let deps = i === 0 ? '' : 'lib-0 = { workspace = true }\n';
    if (other) deps += `lib-${other} = { path = "${path.posix.relative(dir, `crates/lib-${other}`)}" }\n`;
    files.push([`${dir}/Cargo.toml`, `[package]\nname = "${path.posix.basename(dir)}"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\n${deps}tokio = "1"\n`]);
    files.push([`${dir}/src/lib.rs`, 'pub fn f() {}\n']);
    files.push([`${dir}/tests/it.rs`, '#[test] fn t() {}\n']);
  }
  for (let i = 0; i < STANDALONE_CRATES; i++) {
    const dir = `components/component-${i}`;
    files.push([`${dir}/Cargo.toml`, `[package]\nname = "component-${i}"\nversion = "0.${i}.0"\nedition = "2021"\n`]);
    files.push([`${dir}/src/main.rs`, 'fn main() {}\n']);
    files.push([`${dir}/Dockerfile`, 'FROM scratch\n']);
  }
  for (let i = 0; i < 200; i++) files.push([`target/debug/build/junk-${i}/Cargo.toml`, 'not toml = = =\n']);
  for (let i = 0; i < BROKEN_FIXTURES; i++) files.push([`tests/fixtures/case-${i}/in/Cargo.toml`, `[package]\nname = "fixture-${i}"\n[dependencies\n`]);
  for (let i = 0; i < IGNORED_CRATES; i++) files.push([`scratch/try-${i}/Cargo.toml`, `[package]\nname = "try-${i}"\n`]);
  files.push(['.gitignore', 'target/\nscratch/\n']);
  const dirs = new Set(files.map(([file]) => path.dirname(path.join(root, file))));
  await Promise.all([...dirs].map((dir) => fs.mkdir(dir, { recursive: true })));
  await Promise.all(files.map(([file, content]) => fs.writeFile(path.join(root, file), content)));
  for (const args of [['init', '--quiet'], ['add', '--all']]) await runProcess('git', args, { cwd: root, env: { GIT_CONFIG_NOSYSTEM: '1' } });
}

export async function run(): Promise<Figure[]> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-discovery-'));
  try {
    await generate(root);
    const times: number[] = [];
    let found = 0;
    let problems = 0;
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint();
      const discovery = await discoverCargo(root);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      found = discovery.components.length;
      problems = discovery.problems.length;
    }
    if (found !== WORKSPACE_CRATES + STANDALONE_CRATES) throw new Error(`discovery found ${found} crates, expected ${WORKSPACE_CRATES + STANDALONE_CRATES}`);
    if (problems !== BROKEN_FIXTURES) throw new Error(`discovery reported ${problems} broken manifests, expected ${BROKEN_FIXTURES}`);
    const first = times[0];
    const sorted = times.slice(1).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return [
      {
        name: 'discovery of 1,000 crates',
        value: Math.round(median),
        unit: 'ms',
        goal: 500,
        note: `median of ${RUNS - 1} runs after a first run of ${Math.round(first)} ms; 800 workspace members (globs, inherited versions, path deps) + 200 standalone, target/ skipped, ${BROKEN_FIXTURES} invalid fixture manifests reported, a git-ignored folder of ${IGNORED_CRATES} crates left out (one git ls-files)`,
      },
    ];
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
