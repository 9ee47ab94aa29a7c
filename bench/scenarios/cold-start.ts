import { spawn } from 'node:child_process';
import * as esbuild from 'esbuild';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runTask, type TaskRun, type TaskRunOptions } from '../../tools/local-agent';
import { run as runProcess } from '../../shared/process';
import { commitTree, gitEnv, inTemp, machineLoad, median, round, timed, writeTree } from '../measure';
import type { Figure } from '../run';

const RUNS = 7;
const GOAL_MS = 200;
const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Minimal valid inputs for a dry run of each task, in a fixture prepared under `dir`. */
type Recipe = (dir: string, env: Record<string, string>) => Promise<Pick<TaskRunOptions, 'inputs' | 'cwd' | 'variables'>>;

const crate = (name: string, version: string): Array<[string, string]> => [
  [`${name}/Cargo.toml`, `[package]\nname = "${name}"\nversion = "${version}"\nedition = "2021"\n`],
  [`${name}/src/main.rs`, 'fn main() {}\n'],
  [`${name}/Dockerfile`, 'FROM scratch\n'],
];

const GITOPS: Array<[string, string]> = [
  ['versions.yaml', 'schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: localhost:5000/edge/heuristic\n      tag: v1.4.2\n'],
  [
    'environments/devtest/kustomization.yaml',
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: heuristic\n    newName: localhost:5000/edge/heuristic\n    newTag: v1.4.2\n',
  ],
];

const RECIPES: Record<string, Recipe> = {
  // One crate in a committed working copy; push: false, so no remote is needed.
  TagComponents: async (dir, env) => {
    await commitTree(dir, crate('heuristic', '1.4.2'), env);
    return { cwd: dir, inputs: { componentsPath: dir, push: false, dryRun: true } };
  },
  // A lock with one component and its kustomization; a new tag given inline, no digest (no registry).
  UpdateGitOpsVersions: async (dir, env) => {
    await commitTree(dir, GITOPS, env);
    return { cwd: dir, inputs: { gitopsPath: dir, environment: 'devtest', images: 'heuristic=v1.4.3', pinDigest: false, dryRun: true } };
  },
  // UpdateGitOpsVersions' edit left uncommitted in a working copy of an Azure Repos origin (never contacted on a dry run).
  CreateEnvPR: async (dir, env) => {
    await commitTree(dir, GITOPS, env);
    await runProcess('git', ['remote', 'add', 'origin', 'https://dev.azure.com/edge/Edge/_git/gitops'], { cwd: dir, env });
    await writeTree(dir, GITOPS.map(([file, content]) => [file, content.replace(/v1\.4\.2/g, 'v1.4.3')]));
    return { cwd: dir, inputs: { gitopsPath: dir, environment: 'devtest', dryRun: true } };
  },
  // The same GitOps tree validated with the task's resolver; not a pull request build, so no status is posted.
  ValidateGitOps: async (dir, env) => {
    await commitTree(dir, GITOPS, env);
    return { cwd: dir, inputs: { gitopsPath: dir, render: 'never' } };
  },
  // One crate with a Dockerfile; push: false, so the registry is not contacted and no builder runs.
  BuildRustContainers: async (dir, env) => {
    await commitTree(dir, crate('heuristic', '1.4.2'), env);
    return { cwd: dir, inputs: { componentsPath: dir, registry: 'localhost:5000', push: false, dryRun: true } };
  },
};

/**
 * Per-process timing: a preload (through NODE_OPTIONS, so the task runs unchanged) records when
 * Node reached user code, how long evaluating the bundle took (loading task-lib and our modules, up
 * to the first await), and when the process exited, all on the process's own clock.
 */
const PRELOAD = `
const { performance } = require('node:perf_hooks');
const Module = require('node:module');
const boot = performance.now();
let loadStart, loadEnd;
const js = Module._extensions['.js'];
Module._extensions['.js'] = function (module, filename) {
  if (loadStart !== undefined || !filename.endsWith('index.js')) return js.apply(this, arguments);
  loadStart = performance.now();
  try { return js.apply(this, arguments); } finally { loadEnd = performance.now(); }
};
process.on('exit', () => require('node:fs').writeFileSync(process.env.BENCH_TIMING, JSON.stringify({ boot, loadStart, loadEnd, exit: performance.now() })));
`;

interface Split {
  boot: number;
  loadStart: number;
  loadEnd: number;
  exit: number;
}

async function spawnNode(args: string[]): Promise<number> {
  const { ms } = await timed(
    () => new Promise<void>((resolve, reject) => spawn(process.execPath, args, { stdio: 'ignore' }).on('close', () => resolve()).on('error', reject)),
  );
  return ms;
}

/** The libraries each task's bundle evaluates at start-up besides task-lib, timed alone for the split. */
const LIBRARIES: Record<string, string[]> = {
  TagComponents: ['smol-toml'],
  UpdateGitOpsVersions: ['yaml', 'semver'],
  CreateEnvPR: ['azure-devops-node-api/GitApi', 'yaml'],
  BuildRustContainers: ['smol-toml', 'semver'],
  ValidateGitOps: ['yaml', 'semver'],
};

const loadTimes = new Map<string, Promise<number>>();

/**
 * Load time of one library alone (azure-pipelines-task-lib/task, yaml, ...), bundled as
 * scripts/bundle.mjs bundles a task: its share of a task's bundle load (module graph and start-up work).
 */
function libraryLoad(library: string): Promise<number> {
  if (!loadTimes.has(library)) {
    loadTimes.set(
      library,
      inTemp('bench-library-', async (dir) => {
        const entry = path.join(dir, 'index.js');
        await esbuild.build({
          stdin: { contents: `require(${JSON.stringify(library)});`, resolveDir: repoRoot, loader: 'js' },
          outfile: entry,
          bundle: true,
          platform: 'node',
          target: 'node20',
          format: 'cjs',
          minify: true,
          logLevel: 'warning',
        });
        const preload = path.join(dir, 'preload.js');
        await fs.writeFile(preload, PRELOAD);
        const loads: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const timing = path.join(dir, `timing-${i}.json`);
          await new Promise<void>((resolve, reject) =>
            // In the temporary folder: task-lib writes its vault key (.taskkey) into the working directory.
            spawn(process.execPath, [entry], { cwd: dir, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: `--require ${preload}`, BENCH_TIMING: timing } })
              .on('close', () => resolve())
              .on('error', reject),
          );
          const split = JSON.parse(await fs.readFile(timing, 'utf8')) as Split;
          loads.push(split.loadEnd - split.loadStart);
        }
        return median(loads);
      }),
    );
  }
  return loadTimes.get(library)!;
}

async function measureTask(task: string, recipe: Recipe): Promise<Figure> {
  return inTemp(`bench-cold-${task}-`, async (dir) => {
    const env = gitEnv(path.join(dir, 'home'));
    await fs.mkdir(env.HOME, { recursive: true });
    const options = await recipe(path.join(dir, 'fixture'), env);
    const once = (extra: Record<string, string> = {}) => runTask(task, { ...options, env: { ...env, ...extra } });
    const check = (run: TaskRun) => {
      if (run.result !== 'Succeeded') throw new Error(`${task} did not succeed: ${run.errors.join('; ') || run.stderr.trim() || run.message}`);
    };
    check(await once()); // warm the page cache
    const preload = path.join(dir, 'preload.js');
    await fs.writeFile(preload, PRELOAD);
    const empty = path.join(dir, 'empty.js');
    await fs.writeFile(empty, '');
    // Interleaved, so that the machine's load weighs on each kind alike: the plain run (the figure), the
    // same run with the preload (for the split), and node on an empty script (the floor).
    const walls: number[] = [];
    const splits: Array<Split & { wall: number }> = [];
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const plain = await timed(() => once());
      check(plain.value);
      walls.push(plain.ms);
      const timing = path.join(dir, `timing-${i}.json`);
      const split = await timed(() => once({ NODE_OPTIONS: `--require ${preload}`, BENCH_TIMING: timing }));
      check(split.value);
      splits.push({ ...(JSON.parse(await fs.readFile(timing, 'utf8')) as Split), wall: split.ms });
      bare.push(await spawnNode([empty]));
    }
    // One more run with PATH shims, to count the child processes the task work waits for.
    const traced = await runTask(task, { ...options, env, traceChildren: ['git', 'cargo', 'kubectl', 'docker', 'podman', 'buildah'] });
    check(traced);
    const children = traced.childArgv.map((argv) => argv.slice(0, 2).join(' '));
    const libraries: string[] = [];
    for (const library of ['azure-pipelines-task-lib/task', ...(LIBRARIES[task] ?? [])]) {
      libraries.push(`${library.replace(/\/(task|GitApi)$/, '')} ${round(await libraryLoad(library))} ms`);
    }
    const m = (pick: (s: Split & { wall: number }) => number) => round(median(splits.map(pick)));
    const note =
      `median of ${RUNS} dry runs through tools/local-agent; split (runs with a timing preload): Node start to user code ${m((s) => s.boot)} ms, ` +
      `bundle load ${m((s) => s.loadEnd - s.loadStart)} ms (each alone: ${libraries.join(', ')}), task work to exit ${m((s) => s.exit - s.loadEnd)} ms ` +
      `(${children.length} child processes${children.length ? `: ${summarise(children)}` : ''}), ` +
      `process spawn and teardown ${m((s) => s.wall - s.exit)} ms; bare node on an empty script ${round(median(bare))} ms (${machineLoad()})`;
    const wall = median(walls);
    return { name: `cold start ${task}`, value: round(wall), unit: 'ms', goal: GOAL_MS, note };
  });
}

/** `git rev-parse` x2, `git status` */
function summarise(commands: string[]): string {
  const counts = new Map<string, number>();
  for (const command of commands) counts.set(command, (counts.get(command) ?? 0) + 1);
  return [...counts].map(([command, n]) => (n > 1 ? `${command} x${n}` : command)).join(', ');
}

/** Process start to result of each bundled task on a dry run; tasks not bundled yet are left out. */
export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const [task, recipe] of Object.entries(RECIPES)) {
    if (!existsSync(path.join(repoRoot, 'tasks', task, 'index.js'))) continue;
    try {
      figures.push(await measureTask(task, recipe));
    } catch (error) {
      figures.push({ name: `cold start ${task}`, value: NaN, unit: 'ms', goal: GOAL_MS, note: `not measured: ${(error as Error).message}` });
    }
  }
  return figures;
}
