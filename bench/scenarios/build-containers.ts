import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../../shared/agent';
import { buildRustContainers } from '../../shared/flows/build-containers';
import { builderEnvironment, workspaceFixture } from '../../test/helpers/containers';
import { runTask } from '../../test/helpers/run-task';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';
import { requireTools } from '../measure';
import type { Figure } from '../run';

const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, setSecret: () => undefined };
const VERSIONS: Record<string, string> = { heuristic: '1.4.2', 'http-connector': '0.3.0', telemetry: '2.0.0' };

/**
 * BuildRustContainers against a real registry: a re-run where every tag already exists (the skip
 * path: credentials check, one HEAD and one manifest read per component), in-process and as the agent
 * runs the task; and a first build and push of the three fixture images with buildah.
 */
export async function run(): Promise<Figure[]> {
  await requireTools(...REGISTRY_TOOLS, 'buildah');
  const registry = await TestRegistry.start();
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-build-'));
  const figures: Figure[] = [];
  const count = Object.keys(VERSIONS).length;
  try {
    for (const [name, version] of Object.entries(VERSIONS)) await registry.pushImage(`bench/${name}`, `v${version}`);
    const options = {
      componentsPath: workspaceFixture,
      registry: registry.host,
      credentials: { username: registry.username, password: registry.password },
      repositoryPrefix: 'bench/',
      builder: 'buildah',
    };
    await buildRustContainers(options, quiet); // warm-up
    const rounds = 5;
    let started = performance.now();
    for (let i = 0; i < rounds; i++) {
      const result = await buildRustContainers(options, quiet);
      if (result.built !== 0 || result.skipped !== count) throw new Error('the re-run built something');
    }
    figures.push({ name: 'BuildRustContainers re-run, per existing component (in-process)', value: Math.round((performance.now() - started) / rounds / count), unit: 'ms', goal: 250 });

    const inputs = { componentsPath: workspaceFixture, registry: registry.host, registryUsername: registry.username, registryPassword: registry.password, repositoryPrefix: 'bench/', builder: 'buildah', manifestPath: '' };
    started = performance.now();
    const task = await runTask('BuildRustContainers', { inputs, cwd: workspaceFixture });
    if (task.result !== 'Succeeded' || task.outputs.skipped !== String(count)) throw new Error(`re-run task: ${task.message}`);
    figures.push({
      name: 'BuildRustContainers re-run, per existing component (task process, node start included)',
      value: Math.round((performance.now() - started) / count),
      unit: 'ms',
      goal: 1000,
    });

    const env = await builderEnvironment(path.join(scratch, 'storage'));
    started = performance.now();
    const first = await runTask('BuildRustContainers', { inputs: { ...inputs, repositoryPrefix: 'bench-first/' }, cwd: workspaceFixture, env });
    if (first.result !== 'Succeeded' || first.outputs.built !== String(count)) throw new Error(`first build: ${first.message}`);
    figures.push({
      name: 'BuildRustContainers first build and push of 3 FROM-scratch images (buildah, vfs)',
      value: Math.round(performance.now() - started),
      unit: 'ms',
      note: 'shared 2-core machine',
    });
  } finally {
    await registry.stop();
    await fs.rm(scratch, { recursive: true, force: true });
  }
  return figures;
}
