import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverCargo } from '../../../shared/cargo/discover';
import { requireTool } from '../../helpers/requires';
import { cargoMetadata, FIXTURES, fixtureShapes, snapshot } from './helpers';

// The oracle: for every fixture shape, each workspace root that discovery reports must list exactly the
// packages `cargo metadata --no-deps` lists for it (name, version, manifest path), and the union over
// roots must be everything discovery found. The roots cargo refuses must be exactly those discovery says
// it refuses: a problem's roots (left out), or a crate reported as its own root with a warning that
// Cargo refuses it.
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
    let refusals = 0;
    for (const shape of shapes) {
      const dir = path.join(FIXTURES, shape);
      const warned: string[] = [];
      const { components, problems } = await discoverCargo(dir, { log: { warn: (message, where) => /Cargo refuses/.test(message) && warned.push(where!.file) } });
      assert.ok(components.length > 0, `${shape}: nothing discovered`);
      const leftOut = new Set(problems.flatMap((p) => p.roots));
      const refused = new Set([...leftOut, ...warned]);
      const key = (p: { name: string; version: string }, file: string) => `${p.name} ${p.version} ${file}`;
      const union: string[] = [];
      for (const root of [...new Set([...components.map((c) => path.join(c.workspaceRoot, 'Cargo.toml')), ...leftOut])].sort()) {
        roots++;
        const cargo = await cargoMetadata(root, targetDir);
        if (cargo.code !== 0) {
          if (refused.has(root)) refusals++;
          else failures.push(`${shape}: cargo metadata refuses ${root}, discovery does not say so: ${cargo.stderr}`);
          continue;
        }
        if (refused.has(root)) failures.push(`${shape}: discovery says Cargo refuses ${root}, but cargo metadata accepts it`);
        const expected = cargo.packages.map((p) => key(p, p.manifest_path)).sort();
        const actual = components.filter((c) => path.join(c.workspaceRoot, 'Cargo.toml') === root).map((c) => key(c, c.manifestPath)).sort();
        try {
          assert.deepEqual(actual, expected, `${shape}: root ${root}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
        union.push(...expected);
      }
      assert.deepEqual(
        union.sort(),
        components.filter((c) => !warned.includes(c.manifestPath)).map((c) => key(c, c.manifestPath)).sort(),
        `${shape}: the union over roots is not the full list`,
      );
    }
    assert.deepEqual(failures, []);
    assert.ok(roots >= shapes.length);
    // The broken-* shapes: dozens of fixture manifests and an example that cargo refuses, one root each.
    assert.ok(refusals >= 30, `only ${refusals} refused roots`);
  });

  it('leaves the fixtures exactly as they were (no Cargo.lock, no target/)', async function () {
    await requireTool(this, 'cargo');
    assert.deepEqual(await snapshot(FIXTURES), before);
  });
});
