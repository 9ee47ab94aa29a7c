import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverComponents } from '../../../shared/cargo/discover';
import { requireTool } from '../../helpers/requires';
import { cargoMetadata, FIXTURES, fixtureShapes, snapshot } from './helpers';

// The oracle: for every fixture shape, each workspace root that discovery reports must list exactly the
// packages `cargo metadata --no-deps` lists for it (name, version, manifest path), and the union over
// roots must be everything discovery found.
describe('cargo discovery against cargo metadata (oracle)', function () {
  let targetDir = '';
  let before: Map<string, string>;
  const shapes: string[] = [];

  this.beforeAll(async () => {
    targetDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cargo-oracle-target-'));
    before = await snapshot(FIXTURES);
    shapes.push(...(await fixtureShapes()));
  });

  this.afterAll(async () => {
    await fs.rm(targetDir, { recursive: true, force: true });
  });

  it('has at least 12 fixture shapes', () => {
    assert.ok(shapes.length >= 12, `only ${shapes.length} shapes in ${FIXTURES}`);
  });

  it('equals cargo metadata for every root of every fixture', async function () {
    await requireTool(this, 'cargo');
    this.timeout(300_000);
    const failures: string[] = [];
    let roots = 0;
    for (const shape of shapes) {
      const dir = path.join(FIXTURES, shape);
      const components = await discoverComponents(dir);
      assert.ok(components.length > 0, `${shape}: nothing discovered`);
      const union: string[] = [];
      for (const root of [...new Set(components.map((c) => c.workspaceRoot))].sort()) {
        roots++;
        const cargo = await cargoMetadata(path.join(root, 'Cargo.toml'), targetDir);
        if (cargo.code !== 0) {
          failures.push(`${shape}: cargo metadata failed for ${root}: ${cargo.stderr}`);
          continue;
        }
        const expected = cargo.packages.map((p) => `${p.name} ${p.version} ${p.manifest_path}`).sort();
        const actual = components.filter((c) => c.workspaceRoot === root).map((c) => `${c.name} ${c.version} ${c.manifestPath}`).sort();
        try {
          assert.deepEqual(actual, expected, `${shape}: root ${root}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
        union.push(...expected);
      }
      assert.deepEqual(
        union.sort(),
        components.map((c) => `${c.name} ${c.version} ${c.manifestPath}`).sort(),
        `${shape}: the union over roots is not the full list`,
      );
    }
    assert.deepEqual(failures, []);
    assert.ok(roots >= shapes.length);
  });

  it('leaves the fixtures exactly as they were (no Cargo.lock, no target/)', async function () {
    await requireTool(this, 'cargo');
    assert.deepEqual(await snapshot(FIXTURES), before);
  });
});
