import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverCargo } from '../../shared/cargo/discover';
import { run } from '../../shared/process';
import { EDGE_AI, EDGE_AI_REGISTRY, EDGE_AI_SERVICES, edgeAiApp, edgeAiGitops } from '../helpers/edge-ai';
import { requireTool } from '../helpers/requires';

// The edge-ai fixtures are what the migration tests (issue 13) stand on: they must be the shapes their
// README says, as cargo and kubectl read them.
describe('edge-ai fixtures', function () {
  this.timeout(120_000);
  const app = path.join(EDGE_AI, 'app');

  it('each service is its own Cargo root, named by package.name, and cargo metadata agrees', async function () {
    await requireTool(this, 'cargo');
    const warnings: string[] = [];
    const { components } = await discoverCargo(app, { log: { warn: (m) => warnings.push(m) } });
    assert.deepEqual(warnings, []);
    const expected = EDGE_AI_SERVICES.map((s) => `${s.packageName} ${s.version} ${s.path}`).sort();
    assert.deepEqual(components.map((c) => `${c.name} ${c.version} ${c.path}`).sort(), expected);
    const target = await fs.mkdtemp(path.join(os.tmpdir(), 'edge-ai-target-'));
    try {
      for (const service of EDGE_AI_SERVICES) {
        const result = await run('cargo', ['metadata', '--no-deps', '--format-version', '1', '--offline', '--manifest-path', path.join(app, service.path, 'Cargo.toml')], {
          env: { CARGO_TARGET_DIR: target },
        });
        const metadata = JSON.parse(result.stdout) as { packages: Array<{ name: string; version: string }>; workspace_root: string };
        assert.deepEqual(metadata.packages.map((p) => `${p.name} ${p.version}`), [`${service.packageName} ${service.version}`]);
        assert.equal(metadata.workspace_root, path.join(app, service.path));
      }
    } finally {
      await fs.rm(target, { recursive: true, force: true });
    }
    const publisher = components.find((c) => c.name === 'ai-edge-mqtt-publisher')!;
    assert.deepEqual(publisher.pathDependencies, [path.join(app, EDGE_AI_SERVICES.find((s) => s.packageName === 'ai-edge-inference-crate')!.path)]);
  });

  it('every Dockerfile copies from the build context its README names; the wider ones fail from the service folder', async () => {
    const exists = (file: string) => fs.stat(file).then(() => true, () => false);
    for (const service of EDGE_AI_SERVICES.filter((s) => s.context)) {
      const dockerfile = await fs.readFile(path.join(app, service.path, 'Dockerfile'), 'utf8');
      const sources = [...dockerfile.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1].split(' '));
      assert.ok(sources.length >= 2, service.folder);
      for (const source of sources) assert.ok(await exists(path.join(app, service.context!, source)), `${service.folder}: ${source} is not in ${service.context}`);
      if (service.context === service.path) continue;
      const fromFolder = await Promise.all(sources.map((source) => exists(path.join(app, service.path, source))));
      assert.ok(fromFolder.includes(false), `${service.folder}: builds from its own folder too`);
    }
  });

  it('rebuilds the app repository with the folder-name tags the original script made', async () => {
    const repo = await edgeAiApp();
    try {
      const tags = (await repo.git('tag', '-l', '--format=%(refname:strip=2) %(objecttype) %(contents:subject)')).split('\n').sort();
      assert.deepEqual(tags, EDGE_AI_SERVICES.map((s) => `${s.folder}/${s.version} tag Tag ${s.folder} ${s.version}`).sort());
      assert.equal(await repo.git('status', '--porcelain'), '');
    } finally {
      await fs.rm(repo.dir, { recursive: true, force: true });
    }
  });

  it('the GitOps environments render the folder-named images at X.Y.Z tags (kubectl kustomize), on any registry', async function () {
    await requireTool(this, 'kubectl');
    const images = async (dir: string) =>
      [...(await run('kubectl', ['kustomize', dir])).stdout.matchAll(/image: (\S+)/g)].map((m) => m[1]).sort();
    assert.deepEqual(await images(path.join(EDGE_AI, 'gitops', 'environments', 'devtest')), [
      `${EDGE_AI_REGISTRY}/ai-edge-inference:0.2.0`,
      `${EDGE_AI_REGISTRY}/broker:0.1.0`,
      `${EDGE_AI_REGISTRY}/receiver:0.1.0`,
      `${EDGE_AI_REGISTRY}/sender:0.1.0`,
      `${EDGE_AI_REGISTRY}/subscriber:0.1.0`,
    ]);
    const gitops = await edgeAiGitops('127.0.0.1:5999');
    try {
      const prod = await images(path.join(gitops.dir, 'environments', 'prod'));
      assert.ok(prod.includes('127.0.0.1:5999/ai-edge-inference:0.1.0'), prod.join(', '));
      assert.ok(prod.every((image) => image.startsWith('127.0.0.1:5999/')), prod.join(', '));
    } finally {
      await fs.rm(gitops.dir, { recursive: true, force: true });
    }
  });
});
