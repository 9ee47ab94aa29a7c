import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverCargo, discoverComponents } from '../../../shared/cargo/discover';
import { formatError, UserError } from '../../../shared/errors';
import { requireTool } from '../../helpers/requires';
import { cargoMetadata, crate, writeTree } from './helpers';

interface Case {
  title: string;
  files: Record<string, string>;
  /** The Cargo.toml (relative) that cargo metadata must refuse too. */
  cargoRoot: string;
  /** The file and line the UserError must name. */
  file: string;
  line: number;
  message: RegExp;
}

const cases: Case[] = [
  {
    title: 'malformed TOML: file and line of the syntax error',
    files: { 'Cargo.toml': '[package]\nname = "bad"\nversion = 1.0.0\n', 'src/lib.rs': '' },
    cargoRoot: 'Cargo.toml',
    file: 'Cargo.toml',
    line: 3,
    message: /Invalid TOML in Cargo\.toml: .*\(line 3, column \d+\)/,
  },
  {
    title: 'malformed TOML in a member deep in a workspace',
    files: { 'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n', ...crate('crates/ok', 'ok'), 'crates/broken/Cargo.toml': '[package]\nname = "broken"\n\n[dependencies\nx = "1"\n', 'crates/broken/src/lib.rs': '' },
    cargoRoot: 'Cargo.toml',
    file: 'crates/broken/Cargo.toml',
    line: 4,
    message: /Invalid TOML/,
  },
  {
    title: 'version.workspace = true without [workspace.package].version names both files',
    files: { 'Cargo.toml': '[workspace]\nmembers = ["a"]\n\n[workspace.package]\nedition = "2021"\n', ...crate('a', 'a', 'version.workspace = true\n') },
    cargoRoot: 'Cargo.toml',
    file: 'a/Cargo.toml',
    line: 3,
    message: /workspace root .*Cargo\.toml has no `version` in \[workspace\.package\].*a\/Cargo\.toml/,
  },
  {
    title: 'version.workspace = true with no workspace at all',
    files: { ...crate('solo', 'solo', 'version = { workspace = true }\n') },
    cargoRoot: 'solo/Cargo.toml',
    file: 'solo/Cargo.toml',
    line: 3,
    message: /no \[workspace\] root contains it/,
  },
  {
    title: 'a member glob matching a folder without Cargo.toml names the root manifest and the member',
    files: { 'Cargo.toml': '[workspace]\nresolver = "2"\nmembers = ["crates/*"]\n', ...crate('crates/a', 'a'), 'crates/docs/README.md': 'not a crate\n' },
    cargoRoot: 'Cargo.toml',
    file: 'Cargo.toml',
    line: 3,
    message: /workspace member crates\/docs \(from members entry 'crates\/\*'\) has no Cargo\.toml/,
  },
  {
    title: 'a member glob matching nothing',
    files: { 'Cargo.toml': '[workspace]\nmembers = [\n  "a",\n  "plugins/*",\n]\n', ...crate('a', 'a') },
    cargoRoot: 'Cargo.toml',
    file: 'Cargo.toml',
    line: 2,
    message: /members entry 'plugins\/\*' matches no directory/,
  },
  {
    title: 'a literal member that does not exist',
    files: { 'Cargo.toml': '[workspace]\nmembers = ["a", "gone"]\n', ...crate('a', 'a') },
    cargoRoot: 'Cargo.toml',
    file: 'Cargo.toml',
    line: 2,
    message: /workspace member gone has no Cargo\.toml/,
  },
  {
    title: 'two packages with one name in a workspace',
    files: { 'Cargo.toml': '[workspace]\nmembers = ["a", "b"]\n', ...crate('a', 'twin'), ...crate('b', 'twin') },
    cargoRoot: 'Cargo.toml',
    file: 'b/Cargo.toml',
    line: 2,
    message: /Two packages named 'twin'.*a\/Cargo\.toml and b\/Cargo\.toml/,
  },
  {
    title: 'a member that is its own workspace root (member of the wrong workspace)',
    files: { 'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n', ...crate('crates/a', 'a'), ...crate('crates/b', 'b', undefined, '[workspace]\n') },
    cargoRoot: 'Cargo.toml',
    file: 'Cargo.toml',
    line: 2,
    message: /crates\/b\/Cargo\.toml is a member of this workspace .* its own workspace root is crates\/b\/Cargo\.toml/,
  },
  {
    title: 'a path dependency pointing at a folder without Cargo.toml',
    files: { 'Cargo.toml': '[workspace]\nmembers = ["a"]\n', ...crate('a', 'a', undefined, '\n[dependencies]\nlost = { path = "../lost" }\n') },
    cargoRoot: 'Cargo.toml',
    file: 'a/Cargo.toml',
    line: 7,
    message: /Path dependency 'lost' in \[dependencies\] points at lost, which has no Cargo\.toml/,
  },
  {
    title: 'dep.workspace = true missing from [workspace.dependencies]',
    files: { 'Cargo.toml': '[workspace]\nmembers = ["a"]\n[workspace.dependencies]\nother = { path = "other" }\n', ...crate('a', 'a', undefined, '[build-dependencies]\nmissing = { workspace = true }\n'), ...crate('other', 'other') },
    cargoRoot: 'Cargo.toml',
    file: 'a/Cargo.toml',
    line: 6,
    message: /has no 'missing' in \[workspace\.dependencies\]/,
  },
  {
    title: 'a package without a name',
    files: { 'Cargo.toml': '[package]\nversion = "1.0.0"\nedition = "2021"\n', 'src/lib.rs': '' },
    cargoRoot: 'Cargo.toml',
    file: 'Cargo.toml',
    line: 1,
    message: /\[package\] has no `name`/,
  },
  {
    title: 'a version that is not SemVer',
    files: { ...crate('', 'short', 'version = "1.0"\n') },
    cargoRoot: 'Cargo.toml',
    file: 'Cargo.toml',
    line: 3,
    message: /package\.version '1\.0' is not a SemVer version/,
  },
  {
    title: 'an invalid member glob',
    files: { 'Cargo.toml': '[workspace]\nmembers = ["crates/**x"]\n', ...crate('crates/a', 'a') },
    cargoRoot: 'Cargo.toml',
    file: 'Cargo.toml',
    line: 2,
    message: /invalid glob/,
  },
];

describe('cargo discovery: errors Cargo also refuses', function () {
  let targetDir = '';
  const made: string[] = [];
  this.beforeAll(async () => {
    targetDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cargo-errors-target-'));
  });
  this.afterAll(async () => Promise.all([targetDir, ...made].map((dir) => fs.rm(dir, { recursive: true, force: true }))));

  for (const c of cases) {
    it(c.title, async function () {
      const dir = await writeTree(c.files);
      made.push(dir);
      const error = await discoverComponents(dir).then(
        () => assert.fail('discovery succeeded'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof UserError, `not a UserError: ${String(error)}`);
      assert.equal(error.where?.file, path.join(dir, c.file));
      assert.equal(error.where?.line, c.line);
      assert.match(error.message, c.message);
      assert.ok(formatError(error).startsWith(`${path.join(dir, c.file)}:${c.line}: `));
      // Without the strict wrapper: one problem, naming the root cargo refuses among those it leaves out.
      const { problems } = await discoverCargo(dir);
      assert.deepEqual(problems.map((p) => [p.file, p.line]), [[path.join(dir, c.file), c.line]]);
      assert.ok(problems[0].roots.includes(path.join(dir, c.cargoRoot)), problems[0].roots.join(', '));
      await requireTool(this, 'cargo');
      const cargo = await cargoMetadata(path.join(dir, c.cargoRoot), targetDir);
      assert.notEqual(cargo.code, 0, `cargo metadata accepted what discovery refused: ${JSON.stringify(cargo.packages.map((p) => p.name))}`);
    });
  }

  it('a member glob may match a folder without Cargo.toml when exclude covers it (as in Cargo)', async function () {
    const dir = await writeTree({ 'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\nexclude = ["crates/docs"]\n', ...crate('crates/a', 'a'), 'crates/docs/README.md': '' });
    made.push(dir);
    assert.deepEqual((await discoverComponents(dir)).map((c) => c.name), ['a']);
    await requireTool(this, 'cargo');
    assert.deepEqual((await cargoMetadata(path.join(dir, 'Cargo.toml'), targetDir)).packages.map((p) => p.name), ['a']);
  });
});
