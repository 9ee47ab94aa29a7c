import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { runTask } from '../../test/helpers/run-task';
import { workingCopy } from '../../test/integration/create-env-pr/fixture';
import { AdoServer } from '../../stand-ins/azure-devops';
import type { Figure } from '../run';

const LATENCY_MS = 50;

/** A lock and (with `manifests`) one manifest per component: `count` components in devtest. */
function files(count: number, tag: string, manifests: boolean): Record<string, string> {
  const names = Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
  const lock = ['schemaVersion: 1', 'environments:', '  devtest:'];
  const out: Record<string, string> = {};
  for (const name of names) {
    lock.push(`    ${name}:`, `      image: registry.example.com/edge/${name}`, `      tag: ${tag}`);
    if (manifests) out[`environments/devtest/${name}.yaml`] = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  template:\n    spec:\n      containers:\n        - name: ${name}\n          image: registry.example.com/edge/${name}:${tag}\n`;
  }
  out['versions.yaml'] = lock.join('\n') + '\n';
  // The environment's folder always exists; without per-component manifests it holds only this.
  if (!manifests) out['environments/devtest/namespace.yaml'] = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: devtest\n';
  return out;
}

/**
 * HTTP round trips and wall time for CreateEnvPR to open a pull request when 1 and when 100 files
 * changed, with 50 ms added to every request (REST and git) by the Azure DevOps stand-in.
 * Goal: the same small number of REST round trips (at most 8) whatever the number of files.
 */
export async function run(): Promise<Figure[]> {
  const token = 'bench-token-1b2c3d';
  const ado = await AdoServer.start(token);
  const figures: Figure[] = [];
  try {
    // 1 changed file: the lock alone; 100 changed files: the lock and 99 manifests.
    for (const [count, manifests] of [[1, false], [99, true]] as const) {
      const repo = `bench-${count}`;
      await ado.createRepo('Edge', repo, files(count, 'v1.0.0', manifests));
      const dir = await workingCopy(ado, 'Edge', repo, token);
      for (const [file, content] of Object.entries(files(count, 'v1.1.0', manifests))) await fs.writeFile(path.join(dir, file), content);
      ado.faults = { latencyMs: LATENCY_MS, scope: 'all' };
      const start = ado.requests.length;
      const began = process.hrtime.bigint();
      const result = await runTask('CreateEnvPR', { inputs: { gitopsPath: dir, environment: 'devtest' }, accessToken: token, collectionUrl: ado.collectionUrl });
      const wall = Number(process.hrtime.bigint() - began) / 1e6;
      ado.faults = undefined;
      if (result.result !== 'Succeeded') throw new Error(`CreateEnvPR failed: ${result.errors.join('\n')}`);
      const requests = ado.requests.slice(start);
      const rest = requests.filter((r) => r.kind === 'rest').length;
      const git = requests.filter((r) => r.kind === 'git').length;
      const changed = manifests ? count + 1 : 1;
      figures.push({ name: `CreateEnvPR REST round trips, ${changed} changed file${changed === 1 ? '' : 's'}`, value: rest, unit: 'requests', goal: 8, note: `${LATENCY_MS} ms latency per request; opens the PR` });
      figures.push({ name: `CreateEnvPR git HTTP requests, ${changed} changed file${changed === 1 ? '' : 's'}`, value: git, unit: 'requests', note: 'fetch target+source in one fetch, one push' });
      figures.push({ name: `CreateEnvPR wall time, ${changed} changed file${changed === 1 ? '' : 's'}`, value: Math.round(wall), unit: 'ms', note: `${LATENCY_MS} ms latency per request, includes node start` });
      // A later build: the open pull request is updated in place.
      const again = await workingCopy(ado, 'Edge', repo, token);
      for (const [file, content] of Object.entries(files(count, 'v1.2.0', manifests))) await fs.writeFile(path.join(again, file), content);
      ado.faults = { latencyMs: LATENCY_MS, scope: 'all' };
      const updateStart = ado.requests.length;
      const updated = await runTask('CreateEnvPR', { inputs: { gitopsPath: again, environment: 'devtest' }, accessToken: token, collectionUrl: ado.collectionUrl });
      ado.faults = undefined;
      if (updated.result !== 'Succeeded' || updated.outputs.created !== 'false') throw new Error(`CreateEnvPR update failed: ${updated.errors.join('\n')}`);
      figures.push({
        name: `CreateEnvPR REST round trips to update the open PR, ${changed} changed file${changed === 1 ? '' : 's'}`,
        value: ado.requests.slice(updateStart).filter((r) => r.kind === 'rest').length,
        unit: 'requests',
        goal: 8,
      });
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rm(again, { recursive: true, force: true });
    }
  } finally {
    await ado.stop();
  }
  return figures;
}
