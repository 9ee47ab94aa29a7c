import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { isSemVer, lineOf, parseManifest } from '../../../shared/cargo/manifest';
import { formatError } from '../../../shared/errors';

const FILE = path.resolve('/repo/crates/a/Cargo.toml');
const parse = (text: string) => parseManifest(FILE, text);

describe('cargo: manifest', () => {
  it('reads name, version kinds, pointer, dependencies of every kind and the workspace table', () => {
    const m = parse(
      [
        '[package]',
        'name = "a"',
        'version = "1.2.3"',
        'workspace = "../.."',
        '',
        '[dependencies]',
        'b = { path = "../b" }',
        'serde = "1"',
        'c = { workspace = true }',
        '[dev-dependencies.d]',
        'path = "../d"',
        '[build_dependencies]',
        'e = { path = "/abs/e", version = "1" }',
        "[target.'cfg(windows)'.dependencies]",
        'f = { path = "../f", optional = true }',
        '[target.x86_64-unknown-linux-gnu.build-dependencies]',
        'g = { path = "../g" }',
        '[patch.crates-io]',
        'h = { path = "../h" }',
      ].join('\n'),
    );
    assert.equal(m.dir, path.dirname(FILE));
    assert.equal(m.package?.name, 'a');
    assert.deepEqual(m.package?.version, { kind: 'explicit', value: '1.2.3' });
    assert.equal(m.package?.workspacePointer, path.resolve('/repo/Cargo.toml'));
    assert.deepEqual(m.package?.dependencies, [
      { name: 'b', table: 'dependencies', dir: path.resolve('/repo/crates/b') },
      { name: 'c', table: 'dependencies' },
      { name: 'd', table: 'dev-dependencies', dir: path.resolve('/repo/crates/d') },
      { name: 'e', table: 'build_dependencies', dir: path.resolve('/abs/e') },
      { name: 'f', table: "target.cfg(windows).dependencies", dir: path.resolve('/repo/crates/f') },
      { name: 'g', table: 'target.x86_64-unknown-linux-gnu.build-dependencies', dir: path.resolve('/repo/crates/g') },
    ]);
    assert.equal(m.workspace, undefined);
  });

  it('version: omitted, inherited (both spellings)', () => {
    assert.deepEqual(parse('[package]\nname = "a"\n').package?.version, { kind: 'default' });
    assert.deepEqual(parse('[package]\nname = "a"\nversion.workspace = true\n').package?.version, { kind: 'workspace' });
    assert.deepEqual(parse('[package]\nname = "a"\nversion = { workspace = true }\n').package?.version, { kind: 'workspace' });
  });

  it('workspace: members, exclude, package version, path dependencies', () => {
    const m = parse('[workspace]\nmembers = ["crates/*"]\nexclude = ["old"]\n[workspace.package]\nversion = "2.0.0"\n[workspace.dependencies]\nx = { path = "libs/x" }\ny = "1"\n');
    assert.equal(m.package, undefined);
    assert.deepEqual(m.workspace?.members, ['crates/*']);
    assert.deepEqual(m.workspace?.exclude, ['old']);
    assert.equal(m.workspace?.packageVersion, '2.0.0');
    assert.deepEqual([...m.workspace!.dependencies], [
      ['x', path.resolve('/repo/crates/a/libs/x')],
      ['y', undefined],
    ]);
    assert.equal(parse('[workspace]\n').workspace?.members, undefined);
  });

  it('a TOML syntax error is a UserError with file, line and column', () => {
    assert.throws(() => parse('[package]\nname = "a"\n\nversion = "1.0.0\n'), (error: Error & { where?: { file: string; line?: number } }) => {
      assert.equal(error.name, 'UserError');
      assert.deepEqual(error.where, { file: FILE, line: 4 });
      assert.match(error.message, /^Invalid TOML in Cargo\.toml: .+ \(line 4, column \d+\)\.$/);
      assert.ok(formatError(error).startsWith(`${FILE}:4: `));
      return true;
    });
    assert.throws(() => parse('[package]\nname = "a"\nname = "b"\n'), { name: 'UserError', where: { file: FILE, line: 3 } });
  });

  it('malformed keys are UserErrors pointing at their line', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['[package]\nversion = "1.0.0"\n', 1, /has no `name`/],
      ['[package]\nname = 5\n', 2, /has no `name`/],
      ['[package]\nname = "a"\nversion = "v1.0.0"\n', 3, /not a SemVer version/],
      ['[package]\nname = "a"\nversion = 1\n', 3, /must be a string/],
      ['[package]\nname = "a"\nworkspace = true\n', 3, /package\.workspace must be a path/],
      ['[workspace]\nmembers = "crates/*"\n', 2, /workspace\.members` must be an array of strings/],
      ['[workspace]\n\nexclude = [1]\n', 3, /workspace\.exclude` must be an array of strings/],
      ['[workspace.package]\nversion = "1.0"\n', 2, /workspace\.package\.version '1\.0' is not a SemVer/],
      ['[package]\nname = "a"\nworkspace = ".."\n[workspace]\n', 3, /cannot be set in a manifest that has its own \[workspace\]/],
      ['package = 3\n', 1, /`package` must be a table/],
    ];
    for (const [text, line, message] of cases) {
      assert.throws(() => parse(text), (error: Error & { where?: { line?: number } }) => {
        assert.equal(error.name, 'UserError', text);
        assert.equal(error.where?.line, line, text);
        assert.match(error.message, message, text);
        return true;
      });
    }
  });

  it('lineOf finds keys in headers, dotted keys and inline positions', () => {
    const text = ['# comment', '[package]', 'name = "a"', 'version.workspace = true', '', '[dependencies]', 'b = { path = "../b" }', "[target.'cfg(unix)'.dependencies]", 'c = { path = "c" }', '[workspace.package]', 'version = "1.0.0"'].join('\n');
    assert.equal(lineOf(text, 'package'), 2);
    assert.equal(lineOf(text, 'package', 'name'), 3);
    assert.equal(lineOf(text, 'package', 'version'), 4);
    assert.equal(lineOf(text, 'dependencies', 'b'), 7);
    assert.equal(lineOf(text, 'target.cfg(unix).dependencies', 'c'), 9);
    assert.equal(lineOf(text, 'workspace.package', 'version'), 11);
    assert.equal(lineOf(text, 'package', 'missing'), 2);
    assert.equal(lineOf(text, 'nothing'), undefined);
    assert.equal(lineOf('package.name = "x"\n', 'package', 'name'), 1);
    assert.equal(lineOf('\npackage.name = "x"\n', 'package'), 2);
  });

  it('isSemVer is strict, as Cargo is', () => {
    for (const v of ['0.0.0', '1.2.3', '1.2.3-rc.1', '1.2.3-rc10', '1.0.0+build.5', '1.0.0-alpha-1']) assert.ok(isSemVer(v), v);
    for (const v of ['1.2', 'v1.2.3', '01.2.3', '1.2.3-01', '1.2.3 ', '=1.2.3', '1.2.3-']) assert.ok(!isSemVer(v), v);
  });
});
