/**
 * A generated corpus of malformed and adversarial inputs for the reliability suite. Nothing here is
 * committed as a file: each case describes the files of a repository (and of a sentinel folder
 * outside it) that the test writes into a temp dir, the task inputs, and what a user must get back:
 * a clear error naming the file at fault, or the correct result.
 */

/** Where a symbolic link or a path may point: the sentinel folder beside the repository. */
export const OUTSIDE = '<OUTSIDE>';

/** A file's content (built lazily for huge ones), or a symbolic link (`<OUTSIDE>` is replaced). */
export type FileSpec = string | Buffer | (() => string | Buffer) | { symlink: string } | { fifo: true };

/** What the user must get: an error (matching, naming a file) or a result. */
export type Expectation =
  | { error: RegExp; file?: string }
  /** TagComponents: the [name, version, tag] of every component, sorted by name. */
  | { tags: Array<[string, string, string]> }
  /** imageTag: the tag. */
  | { imageTag: string }
  /**
   * BuildRustContainers plan: these [name, version] planned with the tag `v{version}`, or (for a name
   * or version Cargo accepts but an image reference cannot carry) a clear error saying so.
   */
  | { planned: Array<[string, string]> }
  /** UpdateGitOpsVersions: exactly these files (relative, sorted) rewritten. */
  | { written: string[] }
  /** Either a clear error or a result checked by the target's generic rules (e.g. a huge file). */
  | { either: true };

export type Target = 'tag-components' | 'image-tag' | 'build-plan' | 'gitops';

export interface HostileCase {
  id: string;
  /** The family of hostility, for the coverage check (alias bomb, huge, wrong type, ...). */
  kind: string;
  target: Target;
  /** Files of the repository (relative paths). Absent: a clean three-component repository. */
  files?: Record<string, FileSpec>;
  /** Task inputs (TagComponents: components, tagFormat, message; imageTag: imageTagFormat, preRelease, version). */
  inputs?: Record<string, string>;
  expect: Expectation;
}

const pkg = (name: string, version = '1.0.0') => `[package]\nname = ${JSON.stringify(name)}\nversion = ${JSON.stringify(version)}\nedition = "2021"\n`;
const lib = 'pub fn f() {}\n';

/** A clean app: a workspace (one inheriting its version) and a standalone crate. */
export const CLEAN_APP: Record<string, FileSpec> = {
  'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n\n[workspace.package]\nversion = "1.4.2"\n',
  'crates/heuristic/Cargo.toml': '[package]\nname = "heuristic"\nversion.workspace = true\n',
  'crates/heuristic/src/lib.rs': lib,
  'crates/http-connector/Cargo.toml': pkg('edge-http-connector', '0.3.1'),
  'crates/http-connector/src/lib.rs': lib,
};
const CLEAN_TAGS: Array<[string, string, string]> = [
  ['edge-http-connector', '0.3.1', 'edge-http-connector/0.3.1'],
  ['heuristic', '1.4.2', 'heuristic/1.4.2'],
];

/** Names a user (or an attacker with a pull request) could write; Cargo accepts only the safe ones. */
const HOSTILE_NAMES: Array<[string, boolean]> = [
  ['$(reboot)', false],
  ['`reboot`', false],
  ['a`id`', false],
  [';rm -rf /', false],
  ['a;rm -rf ~', false],
  ['a&&id', false],
  ['a||id', false],
  ['a|id', false],
  ['a>x', false],
  ['a<x', false],
  ['$HOME', false],
  ['a${IFS}b', false],
  ['a\nb', false],
  ['a\rb', false],
  ['a\tb', false],
  ['a\u0000b', false],
  ['a\u001bb', false],
  ['a b', false],
  ["a'b", false],
  ['a"b', false],
  ['../x', false],
  ['..', false],
  ['a/b', false],
  ['a\\b', false],
  ['-rf', false],
  ['--upload-pack=touch', false],
  ['1abc', false],
  ['a+b', false],
  ['a.b', false],
  ['a:b', false],
  ['a@{b}', false],
  ['*', false],
  ['a?', false],
  ['[a]', false],
  ['~a', false],
  ['a^b', false],
  ['a\u202eb', false],
  ['a\u2028b', false],
  ['', false],
  ['edge-http', true],
  ['_private', true],
  ['ab-', true],
  ['é', true],
  ['ｆｕｌｌ', true],
  ['a'.repeat(200), true],
];

/** Versions: SemVer with build metadata is Cargo's; the rest Cargo refuses. */
const HOSTILE_VERSIONS: Array<[string, boolean]> = [
  ['1.0.0+build.5', true],
  ['1.0.0-rc.1', true],
  ['1.0.0-rc10', true],
  ['1..0', false],
  ['1.0.0..1', false],
  ['$(reboot)', false],
  ['1.0.0;rm -rf /', false],
  ['1.0.0`id`', false],
  ['1.0.0\n', false],
  [' 1.0.0', false],
  ['01.0.0', false],
  ['1.0', false],
  ['1.0.0-', false],
  ['v1.0.0', false],
  ['1.0.0+', false],
  ['1.0.0+a+b', false],
  ['', false],
];

/** TOML values of the wrong type for package.version. */
const WRONG_VERSION_VALUES = ['1', '1.0', 'true', '[]', '["1.0.0"]', '{}', '{ workspace = false }', '{ workspace = "yes" }', '1979-05-27', '{ path = "../x" }'];

/** Whole manifests of the wrong shape: every one must be refused naming the file. */
const WRONG_SHAPES: Array<[string, string, RegExp]> = [
  ['package-string', 'package = "a"\n', /`package` must be a table/],
  ['package-number', 'package = 1\n', /`package` must be a table/],
  ['package-array', 'package = []\n', /`package` must be a table/],
  ['package-array-of-tables', '[[package]]\nname = "a"\n', /`package` must be a table/],
  ['name-array', '[package]\nname = ["a"]\n', /has no `name`/],
  ['name-number', '[package]\nname = 1\n', /has no `name`/],
  ['name-table', '[package.name]\nx = 1\n', /has no `name`/],
  ['name-bool', '[package]\nname = true\n', /has no `name`/],
  ['name-missing', '[package]\nversion = "1.0.0"\n', /has no `name`/],
  ['workspace-pointer-number', '[package]\nname = "a"\nworkspace = 1\n', /package\.workspace must be a path string/],
  ['workspace-pointer-array', '[package]\nname = "a"\nworkspace = [".."]\n', /package\.workspace must be a path string/],
  ['workspace-string', 'workspace = "x"\n', /`workspace` must be a table/],
  ['workspace-array-of-tables', '[[workspace]]\nmembers = []\n', /`workspace` must be a table/],
  ['members-string', '[workspace]\nmembers = "a"\n', /`workspace\.members` must be an array of strings/],
  ['members-numbers', '[workspace]\nmembers = [1]\n', /`workspace\.members` must be an array of strings/],
  ['members-nested', '[workspace]\nmembers = [["a"]]\n', /`workspace\.members` must be an array of strings/],
  ['members-table', '[workspace.members]\na = 1\n', /`workspace\.members` must be an array of strings/],
  ['exclude-string', '[workspace]\nexclude = "a"\n', /`workspace\.exclude` must be an array of strings/],
  ['exclude-tables', '[workspace]\nexclude = [{}]\n', /`workspace\.exclude` must be an array of strings/],
  ['ws-dependencies-array', '[workspace]\ndependencies = []\n', /`workspace\.dependencies` must be a table/],
  ['ws-package-version-number', '[workspace]\nmembers = []\n[workspace.package]\nversion = 1\n', /workspace\.package\.version '1' is not a SemVer/],
  ['ws-package-version-bad', '[workspace]\nmembers = []\n[workspace.package]\nversion = "$(reboot)"\n', /is not a SemVer/],
  ['dependencies-number', 'dependencies = 5\n[package]\nname = "a"\n', /`dependencies` must be a table/],
  ['dev-dependencies-array', 'dev-dependencies = []\n[package]\nname = "a"\n', /`dev-dependencies` must be a table/],
  ['target-deps-string', '[package]\nname = "a"\n[target."cfg(unix)"]\ndependencies = "x"\n', /`target\.cfg\(unix\)\.dependencies` must be a table/],
  ['pointer-and-workspace', '[package]\nname = "a"\nworkspace = ".."\n[workspace]\n', /package\.workspace cannot be set/],
  ['inherit-without-root', '[package]\nname = "a"\nversion.workspace = true\n', /no \[workspace\] root contains it/],
  ['inherit-dep-without-root', '[package]\nname = "a"\n[dependencies]\nb.workspace = true\n', /no \[workspace\] root contains it/],
  ['ws-inherit-missing-version', '[workspace]\nmembers = ["."]\n[package]\nname = "a"\nversion.workspace = true\n', /has no `version` in \[workspace\.package\]/],
];

/** TOML that no parser may accept. */
const BAD_TOML: Array<[string, string]> = [
  ['escape-q', '[package]\nname = "a\\q"\n'],
  ['escape-short-u', '[package]\nname = "a\\u12"\n'],
  ['escape-big-U', '[package]\nname = "a\\UFFFFFFFF"\n'],
  ['escape-surrogate', '[package]\nname = "a\\uD800"\n'],
  ['unterminated-string', '[package]\nname = "a\n'],
  ['unterminated-multiline', '[package]\nname = """a\n'],
  ['unterminated-header', '[package\nname = "a"\n'],
  ['key-without-value', '[package]\nname =\n'],
  ['value-without-key', '[package]\n= "a"\n'],
  ['bare-key-space', '[package]\nna me = "a"\n'],
  ['duplicate-key', '[package]\nname = "a"\nname = "b"\n'],
  ['duplicate-table', '[package]\nname = "a"\n[package]\nversion = "1.0.0"\n'],
  ['duplicate-workspace', '[workspace]\nmembers = []\n[workspace]\nexclude = []\n'],
  ['dotted-redefines-table', '[package]\nname = "a"\n[package.name]\nx = 1\n'],
  ['inline-then-dotted', 'package = { name = "a" }\npackage.version = "1.0.0"\n'],
  ['integer-overflow', '[package]\nname = "a"\n[package.metadata]\nn = 99999999999999999999\n'],
  ['invalid-date', '[package]\nname = "a"\n[package.metadata]\nd = 1979-13-45\n'],
  ['control-in-literal', "[package]\nname = 'a\u0001'\n"],
  ['raw-nul', '[package]\nname = "a\u0000"\n'],
  ['cr-only-lines', '[package]\rname = "a"\r'],
  ['array-unclosed', '[workspace]\nmembers = ["a"\n'],
];

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** Bytes that are not UTF-8, and a UTF-8 BOM (which Cargo accepts). */
const ENCODINGS: Array<[string, Buffer, boolean, number?]> = [
  ['latin1-e-acute', latin1('[package]\nversion = "1.0.0"\nname = "caf\xe9"\n'), false, 3],
  ['lone-continuation', bytes('[package]\nname = "a"\n# ', [0x80], '\n'), false, 3],
  ['overlong-slash', bytes('[package]\nname = "a', [0xc0, 0xaf], '"\n'), false, 2],
  ['utf16le-bom', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[package]\nname = "a"\n', 'utf16le')]), false, 1],
  ['utf16be-bom', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('[package]\nname = "a"\n', 'utf16le').swap16()]), false, 1],
  ['truncated-sequence-at-eof', bytes('[package]\nname = "a"\n# ', [0xe2, 0x82]), false, 3],
  ['encoded-surrogate', bytes('[package]\nname = "a"\n# ', [0xed, 0xa0, 0x80], '\n'), false, 3],
  ['byte-f5', bytes('[package]\n\nname = "a', [0xf5, 0x80, 0x80, 0x80], '"\n'), false, 3],
  ['utf8-bom', bytes([0xef, 0xbb, 0xbf], pkg('bom')), true],
  ['utf8-bom-crlf', bytes([0xef, 0xbb, 0xbf], pkg('bom').replace(/\n/g, '\r\n')), true],
];

const MB = 1024 * 1024;

function cargoCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (c: Omit<HostileCase, 'target'>) => cases.push({ target: 'tag-components', ...c });

  HOSTILE_NAMES.forEach(([name, valid], i) => {
    const expect = (file: string): Expectation => (valid ? { tags: [[name, '1.0.0', `${name}/1.0.0`]] } : { error: /package\.name|has no `name`/, file });
    add({ id: `name-${i}-standalone`, kind: 'shell-metacharacters-in-name', files: { 'Cargo.toml': pkg(name), 'src/lib.rs': lib }, expect: expect('Cargo.toml') });
    add({
      id: `name-${i}-member`,
      kind: 'shell-metacharacters-in-name',
      files: { 'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n', 'crates/x/Cargo.toml': pkg(name), 'crates/x/src/lib.rs': lib },
      expect: expect('crates/x/Cargo.toml'),
    });
  });
  // The same names written as TOML literal strings (no escapes) where they can be.
  // eslint-disable-next-line no-control-regex -- a literal string cannot hold control characters
  HOSTILE_NAMES.filter(([name, valid]) => !valid && name && !/['\u0000-\u001f\u007f\u2028]/.test(name)).forEach(([name], i) =>
    add({ id: `name-literal-${i}`, kind: 'shell-metacharacters-in-name', files: { 'Cargo.toml': `[package]\nname = '${name}'\n` }, expect: { error: /package\.name/, file: 'Cargo.toml' } }),
  );

  HOSTILE_VERSIONS.forEach(([version, valid], i) =>
    add({
      id: `version-${i}`,
      kind: version.includes('..') || version.includes('+') ? 'plus-and-dotdot-in-tag' : 'malformed-version',
      files: { 'Cargo.toml': pkg('svc', version), 'src/lib.rs': lib },
      expect: valid ? { tags: [['svc', version, `svc/${version}`]] } : { error: /is not a SemVer version/, file: 'Cargo.toml' },
    }),
  );
  WRONG_VERSION_VALUES.forEach((value, i) =>
    add({
      id: `version-type-${i}`,
      kind: 'wrong-type',
      files: { 'Cargo.toml': `[package]\nname = "svc"\nversion = ${value}\n` },
      expect: { error: /package\.version must be a string|is not a SemVer/, file: 'Cargo.toml' },
    }),
  );
  for (const [id, text, error] of WRONG_SHAPES) add({ id: `shape-${id}`, kind: 'wrong-type', files: { 'Cargo.toml': text }, expect: { error, file: 'Cargo.toml' } });
  for (const [id, text] of BAD_TOML) {
    add({
      id: `toml-${id}`,
      kind: id.startsWith('duplicate') || id.includes('redefine') || id.includes('dotted') ? 'duplicate-keys' : 'invalid-toml',
      files: { 'Cargo.toml': text },
      expect: { error: /Invalid TOML in Cargo\.toml/, file: 'Cargo.toml' },
    });
    // The same fault in a workspace member: the message names the member, not the root.
    add({
      id: `toml-${id}-member`,
      kind: 'invalid-toml',
      files: { ...CLEAN_APP, 'crates/broken/Cargo.toml': text },
      expect: { error: /Invalid TOML in Cargo\.toml/, file: 'crates/broken/Cargo.toml' },
    });
  }
  // TOML 1.1 forms that Cargo (1.95) accepts: the same result, not an error.
  add({ id: 'toml11-escape-x', kind: 'invalid-toml', files: { 'Cargo.toml': '[package]\nname = "a\\x41"\n' }, expect: { tags: [['aA', '0.0.0', 'aA/0.0.0']] } });
  add({ id: 'toml11-newline-in-inline-table', kind: 'invalid-toml', files: { 'Cargo.toml': '[package]\nname = "a"\n[package.metadata]\nx = { a = 1,\n b = 2 }\n' }, expect: { tags: [['a', '0.0.0', 'a/0.0.0']] } });
  for (const [id, content, valid, line] of ENCODINGS) {
    add({
      id: `encoding-${id}`,
      kind: valid ? 'bom' : 'non-utf8',
      files: { 'Cargo.toml': content, 'src/lib.rs': lib },
      expect: valid ? { tags: [['bom', '1.0.0', 'bom/1.0.0']] } : { error: new RegExp(`Cargo\\.toml:${line}: Cargo\\.toml is not valid UTF-8`), file: 'Cargo.toml' },
    });
  }

  // Empty and comment-only manifests: no package found is a clear error, next to a valid one they are ignored.
  const EMPTY: Array<[string, string | Buffer]> = [
    ['empty', ''],
    ['space', '   '],
    ['newlines', '\n\n\n'],
    ['comment', '# nothing here\n'],
    ['comments-crlf', '# a\r\n# b\r\n'],
    ['bom-only', bytes([0xef, 0xbb, 0xbf])],
    ['many-comments', '#\n'.repeat(100_000)],
  ];
  for (const [id, text] of EMPTY) {
    add({ id: `empty-${id}`, kind: 'empty-or-comments', files: { 'Cargo.toml': text }, expect: { error: /No Cargo package .* was found/ } });
    add({ id: `empty-${id}-beside`, kind: 'empty-or-comments', files: { ...CLEAN_APP, 'crates/empty/Cargo.toml': text }, expect: { tags: CLEAN_TAGS } });
  }

  // Deep nesting and huge files.
  const deep = (n: number) => `[package]\nname = "a"\n[package.metadata]\nx = ${'['.repeat(n)}${']'.repeat(n)}\n`;
  add({ id: 'deep-arrays', kind: 'deeply-nested', files: { 'Cargo.toml': () => deep(100_000) }, expect: { error: /excessively nested|Invalid TOML/, file: 'Cargo.toml' } });
  add({ id: 'deep-inline-tables', kind: 'deeply-nested', files: { 'Cargo.toml': () => `[package]\nname = "a"\nx = ${'{a='.repeat(50_000)}1${'}'.repeat(50_000)}\n` }, expect: { error: /excessively nested|Invalid TOML/, file: 'Cargo.toml' } });
  add({ id: 'deep-dotted-key', kind: 'deeply-nested', files: { 'Cargo.toml': () => `[package]\nname = "a"\n${'a.'.repeat(50_000)}a = 1\n` }, expect: { either: true } });
  add({ id: 'deep-table-header', kind: 'deeply-nested', files: { 'Cargo.toml': () => `[package]\nname = "a"\n[${'a.'.repeat(50_000)}a]\n` }, expect: { either: true } });
  add({ id: 'deep-member-dirs', kind: 'deeply-nested', files: { [`${'d/'.repeat(60)}Cargo.toml`]: pkg('deep'), [`${'d/'.repeat(60)}src/lib.rs`]: lib }, expect: { tags: [['deep', '1.0.0', 'deep/1.0.0']] } });
  add({ id: 'globstar-member-dirs', kind: 'deeply-nested', files: { 'Cargo.toml': '[workspace]\nmembers = ["**"]\n', [`${'d/'.repeat(60)}Cargo.toml`]: pkg('deep') }, expect: { either: true } });
  add({
    id: 'huge-20mb-comments',
    kind: 'huge-file',
    files: { 'Cargo.toml': () => pkg('big') + `# ${'x'.repeat(78)}\n`.repeat((20 * MB) / 80), 'src/lib.rs': lib },
    expect: { tags: [['big', '1.0.0', 'big/1.0.0']] },
  });
  add({
    id: 'huge-20mb-string',
    kind: 'huge-file',
    files: { 'Cargo.toml': () => `${pkg('big')}[package.metadata]\nblob = "${'y'.repeat(20 * MB)}"\n`, 'src/lib.rs': lib },
    expect: { tags: [['big', '1.0.0', 'big/1.0.0']] },
  });
  add({
    id: 'huge-200k-keys',
    kind: 'huge-file',
    files: { 'Cargo.toml': () => `${pkg('big')}[package.metadata]\n${Array.from({ length: 200_000 }, (_, i) => `k${i} = ${i}`).join('\n')}\n` },
    expect: { tags: [['big', '1.0.0', 'big/1.0.0']] },
  });
  add({ id: 'huge-20mb-garbage', kind: 'huge-file', files: { 'Cargo.toml': () => '='.repeat(20 * MB) }, expect: { error: /Invalid TOML in Cargo\.toml/, file: 'Cargo.toml' } });
  add({ id: 'huge-5mb-name', kind: 'long-name', files: { 'Cargo.toml': () => pkg('n'.repeat(5 * MB)) }, expect: { error: /not a valid git tag/ } });
  add({ id: 'long-name-256', kind: 'long-name', files: { 'Cargo.toml': pkg('n'.repeat(256)) }, expect: { error: /longer than 255 bytes/ } });
  add({ id: 'long-version-number', kind: 'long-name', files: { 'Cargo.toml': pkg('svc', `${'9'.repeat(400)}.0.0`) }, expect: { error: /longer than 255 bytes/ } });
  add({ id: 'long-version', kind: 'long-name', files: { 'Cargo.toml': pkg('svc', `1.0.0-${'r'.repeat(300)}`) }, expect: { error: /longer than 255 bytes/ } });
  add({
    id: 'huge-members-list',
    kind: 'huge-file',
    files: { 'Cargo.toml': () => `[workspace]\nmembers = [${Array.from({ length: 50_000 }, () => '"m"').join(', ')}]\n`, 'm/Cargo.toml': pkg('m'), 'm/src/lib.rs': lib },
    expect: { tags: [['m', '1.0.0', 'm/1.0.0']] },
  });

  // Paths that lead outside the repository: nothing outside is read as a component or written.
  const local = { 'crates/ok/Cargo.toml': pkg('ok'), 'crates/ok/src/lib.rs': lib };
  const okOnly: Expectation = { tags: [['ok', '1.0.0', 'ok/1.0.0']] };
  const ws = (members: string, extra = '') => `[workspace]\nmembers = [${members}]\n${extra}`;
  add({ id: 'members-parent-glob', kind: 'outside-path', files: { 'Cargo.toml': ws('"crates/*", "../*"'), ...local }, expect: { error: /'\.\.\/\*' matches no directory/, file: 'Cargo.toml' } });
  add({ id: 'members-parent-literal', kind: 'outside-path', files: { 'Cargo.toml': ws('"crates/*", "../outside/crate"'), ...local }, expect: okOnly });
  add({ id: 'members-etc', kind: 'outside-path', files: { 'Cargo.toml': ws('"crates/*", "../../../../../../../../etc"'), ...local }, expect: okOnly });
  add({ id: 'members-absolute', kind: 'outside-path', files: { 'Cargo.toml': ws('"crates/*", "/etc"'), ...local }, expect: okOnly });
  add({ id: 'members-globstar-parent', kind: 'outside-path', files: { 'Cargo.toml': ws('"crates/*", "**/../../*"'), ...local }, expect: { either: true } });
  add({ id: 'members-dot-dot-inside', kind: 'outside-path', files: { 'Cargo.toml': ws('"crates/../crates/ok"'), ...local }, expect: okOnly });
  add({ id: 'exclude-outside', kind: 'outside-path', files: { 'Cargo.toml': ws('"crates/*"', 'exclude = ["../outside", "/etc"]\n'), ...local }, expect: okOnly });
  add({
    id: 'path-dependency-outside',
    kind: 'outside-path',
    files: { 'Cargo.toml': ws('"crates/*"'), 'crates/ok/Cargo.toml': `${pkg('ok')}[dependencies]\nevil = { path = "../../../outside/crate" }\netc = { path = "/etc" }\n` },
    expect: okOnly,
  });
  add({
    id: 'workspace-dependency-outside',
    kind: 'outside-path',
    files: { 'Cargo.toml': ws('"crates/*"', '[workspace.dependencies]\nevil = { path = "../outside/crate" }\n'), 'crates/ok/Cargo.toml': `${pkg('ok')}[dependencies]\nevil.workspace = true\n` },
    expect: okOnly,
  });
  add({ id: 'package-workspace-outside', kind: 'outside-path', files: { 'Cargo.toml': `${pkg('ok')}workspace = "../outside"\n` }, expect: okOnly });
  add({ id: 'package-workspace-root', kind: 'outside-path', files: { 'Cargo.toml': `${pkg('ok')}workspace = "/"\n` }, expect: okOnly });
  add({ id: 'path-dependency-missing', kind: 'outside-path', files: { 'Cargo.toml': `${pkg('ok')}[dependencies]\nx = { path = "nowhere" }\n` }, expect: { error: /Path dependency 'x' .* has no Cargo\.toml/, file: 'Cargo.toml' } });
  add({ id: 'symlinked-member-glob', kind: 'symlink', files: { 'Cargo.toml': ws('"crates/*"'), ...local, 'crates/evil': { symlink: `${OUTSIDE}/crate` } }, expect: okOnly });
  add({ id: 'symlinked-member-literal', kind: 'symlink', files: { 'Cargo.toml': ws('"crates/ok", "crates/evil"'), ...local, 'crates/evil': { symlink: `${OUTSIDE}/crate` } }, expect: { error: /workspace member crates\/evil has no Cargo\.toml/, file: 'Cargo.toml' } });
  add({ id: 'symlinked-manifest', kind: 'symlink', files: { ...local, 'crates/evil/Cargo.toml': { symlink: `${OUTSIDE}/crate/Cargo.toml` }, 'Cargo.toml': ws('"crates/ok"') }, expect: okOnly });
  add({ id: 'symlinked-manifest-to-passwd', kind: 'symlink', files: { ...local, 'Cargo.toml': ws('"crates/ok"'), 'crates/ok/x/Cargo.toml': { symlink: '/etc/passwd' } }, expect: okOnly });
  add({ id: 'symlink-loop', kind: 'symlink', files: { ...local, 'Cargo.toml': ws('"crates/*"'), 'crates/ok/loop': { symlink: '..' } }, expect: okOnly });
  add({ id: 'dangling-symlink', kind: 'symlink', files: { ...local, 'Cargo.toml': ws('"crates/*"'), 'crates/gone': { symlink: `${OUTSIDE}/nothing-here` } }, expect: okOnly });
  add({ id: 'manifest-is-directory', kind: 'wrong-type', files: { ...local, 'Cargo.toml': ws('"crates/ok"'), 'crates/dir/Cargo.toml/x': 'y' }, expect: okOnly });
  add({ id: 'manifest-is-fifo', kind: 'wrong-type', files: { ...local, 'Cargo.toml': ws('"crates/ok"'), 'crates/fifo/Cargo.toml': { fifo: true } }, expect: okOnly });

  // Member globs: syntax errors, and patterns that make a backtracking matcher take hours.
  const GLOBS: Array<[string, Expectation]> = [
    ['[', { error: /invalid glob/, file: 'Cargo.toml' }],
    ['crates/[!', { error: /invalid glob/, file: 'Cargo.toml' }],
    ['crates/**x', { error: /invalid glob/, file: 'Cargo.toml' }],
    [`crates/${'*a'.repeat(40)}*b`, { error: /matches no directory/, file: 'Cargo.toml' }],
    [`crates/${'?'.repeat(300)}`, { error: /matches no directory/, file: 'Cargo.toml' }],
    ['crates/$(reboot)', { error: /has no Cargo\.toml/, file: 'Cargo.toml' }],
    ['crates/`id`*', { error: /matches no directory/, file: 'Cargo.toml' }],
    ['crates/*;rm -rf ~', { error: /matches no directory/, file: 'Cargo.toml' }],
  ];
  GLOBS.forEach(([glob, expect], i) =>
    add({ id: `member-glob-${i}`, kind: i === 3 || i === 4 ? 'regex-blowup' : 'malformed-glob', files: { 'Cargo.toml': ws(JSON.stringify(glob)), ...local, [`crates/${'a'.repeat(200)}/Cargo.toml`]: pkg('aaa') }, expect }),
  );
  return cases;
}

/** TagComponents inputs, on the clean app: tagFormat, components and message. */
function tagInputCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (id: string, kind: string, inputs: Record<string, string>, expect: Expectation) => cases.push({ id, kind, target: 'tag-components', files: CLEAN_APP, inputs, expect });
  const refused = { error: /not a valid git tag/ };
  const FORMATS: Array<[string, Expectation]> = [
    ['$(reboot)/{name}/{version}', { tags: CLEAN_TAGS.map(([n, v]) => [n, v, `$(reboot)/${n}/${v}`]) }],
    ['{name}`id`/{version}', { tags: CLEAN_TAGS.map(([n, v]) => [n, v, `${n}\`id\`/${v}`]) }],
    ['{name};rm -rf /{version}', refused],
    ['{name}&&{version}', { tags: CLEAN_TAGS.map(([n, v]) => [n, v, `${n}&&${v}`]) }],
    ['{name}|{version}', { tags: CLEAN_TAGS.map(([n, v]) => [n, v, `${n}|${v}`]) }],
    ['{name}\n{version}', refused],
    ['{name}\r{version}', refused],
    ['{name}\u0000{version}', refused],
    ['{name}\t{version}', refused],
    ['{name} {version}', refused],
    ['{name}..{version}', refused],
    ['../{name}/{version}', refused],
    ['{name}/../{version}', refused],
    ['/{name}/{version}', refused],
    ['{name}/{version}/', refused],
    ['{name}/{version}.lock', refused],
    ['{name}~{version}', refused],
    ['{name}^{version}', refused],
    ['{name}:{version}', refused],
    ['{name}?{version}', refused],
    ['{name}*{version}', refused],
    ['{name}[{version}', refused],
    ['{name}\\{version}', refused],
    ['{name}@{{version}', refused],
    ['{name}//{version}', refused],
    ['.{name}/{version}', refused],
    ['{name}/.{version}', refused],
    ['@', { error: /same tag '@'/ }],
    ['{name}', { tags: CLEAN_TAGS.map(([n, v]) => [n, v, n]) }],
    ['{version}', { tags: CLEAN_TAGS.map(([n, v]) => [n, v, v]) }],
    ['{name}+{version}', { tags: CLEAN_TAGS.map(([n, v]) => [n, v, `${n}+${v}`]) }],
    ['{name}/{version}+build.5', { tags: CLEAN_TAGS.map(([n, v]) => [n, v, `${n}/${v}+build.5`]) }],
    ['{name}/{verison}', { error: /uses \{verison\}, which is not known/ }],
    ['{$(reboot)}', { error: /same tag|not a valid git tag/ }],
    ['{constructor}/{version}', { error: /uses \{constructor\}, which is not known/ }],
    ['{__proto__}/{version}', { error: /uses \{__proto__\}, which is not known/ }],
    [`{name}/${'x'.repeat(300)}`, { error: /longer than 255 bytes/ }],
    [`${'{name}'.repeat(200)}`, { error: /longer than 255 bytes/ }],
    [`${'x/'.repeat(50_000)}{name}`, { either: true }],
  ];
  FORMATS.forEach(([tagFormat, expect], i) =>
    add(`tag-format-${i}`, /\.\.|\+/.test(tagFormat) ? 'plus-and-dotdot-in-tag' : /\$|`|;|&|\|/.test(tagFormat) ? 'shell-metacharacters-in-tag' : 'malformed-tag-format', { tagFormat }, expect),
  );
  const all = { tags: CLEAN_TAGS };
  const COMPONENTS: Array<[string, Expectation]> = [
    ['$(reboot)', { error: /No component matches '\$\(reboot\)'/ }],
    ['`id`', { error: /No component matches/ }],
    [';rm -rf /', { error: /No component matches/ }],
    ['heuristic;rm -rf /', { error: /No component matches/ }],
    ['heuristic\n$(reboot)', { error: /No component matches '\$\(reboot\)'/ }],
    ['!*', { error: /excludes every component/ }],
    ['!$(reboot)', { error: /No component matches/ }],
    ['*', all],
    ['*,*,*', all],
    ['\n\n,,\n', all],
    ['heur*', { tags: [CLEAN_TAGS[1]] }],
    ['[a-z]*', { error: /No component matches/ }],
    ['.*', { error: /No component matches/ }],
    ['heuristic|edge', { error: /No component matches/ }],
    [`${'*a'.repeat(40)}*z`, { error: /No component matches/ }],
    [`${'?'.repeat(10_000)}`, { error: /No component matches/ }],
    ['x'.repeat(1_000_000), { error: /No component matches/ }],
  ];
  COMPONENTS.forEach(([components, expect], i) => add(`components-${i}`, i === 14 || i === 15 ? 'regex-blowup' : 'hostile-components-input', { components }, expect));
  const MESSAGES: Array<[string, Expectation]> = [
    ['$(reboot) {name}', all],
    ['`id` {name}\n; rm -rf /', all],
    ['{name} {nope}', { error: /uses \{nope\}, which is not known/ }],
    ['{name} {constructor}', { error: /uses \{constructor\}, which is not known/ }],
    ['{__proto__}', { error: /uses \{__proto__\}, which is not known/ }],
    ['-m {name}', all],
    ['--cleanup=verbatim {name}', all],
    ['x'.repeat(100_000), all],
  ];
  MESSAGES.forEach(([message, expect], i) => add(`message-${i}`, 'shell-metacharacters-in-message', { message }, expect));
  return cases;
}

/** imageTagFormat and preRelease inputs (the BuildRustContainers / UpdateGitOpsVersions tag rule). */
function imageTagCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (id: string, kind: string, inputs: Record<string, string>, expect: Expectation) => cases.push({ id, kind, target: 'image-tag', inputs, expect });
  const refused = { error: /is not a valid image tag/ };
  const PRE: Array<[string, Expectation]> = [
    ['rc.5678', { imageTag: 'v1.4.2-rc.5678' }],
    ['rc10', { imageTag: 'v1.4.2-rc10' }],
    ['$(Build.BuildId)', refused],
    ['rc.$(reboot)', refused],
    ['`reboot`', refused],
    [';rm -rf /', refused],
    ['a&&b', refused],
    ['rc\n1', refused],
    ['rc\u00001', refused],
    ['rc 1', refused],
    ['rc+5678', { error: /contains '\+'.*use '-' instead/ }],
    ['build+meta', { error: /contains '\+'/ }],
    ['rc..1', { imageTag: 'v1.4.2-rc..1' }],
    ['../../etc', refused],
    ['rc/1', refused],
    ['x'.repeat(200), refused],
    ['x'.repeat(122), refused],
    ['x'.repeat(121), { imageTag: `v1.4.2-${'x'.repeat(121)}` }],
    ['é', refused],
  ];
  PRE.forEach(([preRelease, expect], i) =>
    add(`pre-release-${i}`, preRelease.includes('+') || preRelease.includes('..') ? 'plus-and-dotdot-in-tag' : 'shell-metacharacters-in-tag', { preRelease }, expect),
  );
  const FORMATS: Array<[string, Expectation]> = [
    ['v{version}', { imageTag: 'v1.4.2' }],
    ['{version}', { imageTag: '1.4.2' }],
    ['-{version}', refused],
    ['.{version}', refused],
    ['{version}+b', { error: /contains '\+'/ }],
    ['$(reboot){version}', refused],
    ['{name}', { error: /uses \{name\}, which is not known/ }],
    ['{version}{constructor}', { error: /uses \{constructor\}/ }],
    ['v{version}\n', refused],
    ['{version}:latest', refused],
    ['{version}@sha256:abc', refused],
    ['v{version}/../x', refused],
    ['{version}..', { imageTag: '1.4.2..' }],
  ];
  FORMATS.forEach(([imageTagFormat, expect], i) => add(`image-tag-format-${i}`, 'malformed-tag-format', { imageTagFormat }, expect));
  const VERSIONS: Array<[string, Expectation]> = [
    ['1.4.2+build.5', { error: /contains '\+'/ }],
    ['1.4.2-rc.1', { imageTag: 'v1.4.2-rc.1' }],
    ['$(reboot)', refused],
  ];
  VERSIONS.forEach(([version, expect], i) => add(`image-tag-version-${i}`, 'plus-and-dotdot-in-tag', { version }, expect));
  return cases;
}

/** One Dockerfile at the root serves every component (input `dockerfile: Dockerfile`). */
export const DOCKERFILE = 'FROM scratch\nCOPY Cargo.toml /\n';

/**
 * The Cargo cases again through BuildRustContainers in plan mode: the same discovery errors, and
 * for valid crates the image tags and repositories derived from hostile names and versions.
 */
function buildPlanCases(cargo: HostileCase[]): HostileCase[] {
  return cargo
    .filter((c) => c.files && !c.inputs && !c.files['Dockerfile'])
    .map((c) => {
      let expect: Expectation = { either: true };
      if ('error' in c.expect && c.expect.file) expect = c.expect;
      else if ('tags' in c.expect) expect = { planned: c.expect.tags.map(([name, version]) => [name, version]) };
      return { ...c, id: `build-${c.id}`, target: 'build-plan' as const, files: { ...c.files, Dockerfile: DOCKERFILE }, expect };
    });
}

/** BuildRustContainers inputs with shell syntax, traversal and prototype keys, on the clean app. */
function buildInputCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  const files = { ...CLEAN_APP, Dockerfile: DOCKERFILE };
  const planned: Expectation = { planned: CLEAN_TAGS.map(([name, version]) => [name, version]) };
  const add = (id: string, kind: string, inputs: Record<string, string>, expect: Expectation) => cases.push({ id: `build-input-${id}`, kind, target: 'build-plan', files, inputs, expect });
  add('dockerfile-constructor', 'malformed-tag-format', { dockerfile: '{constructor}' }, { error: /uses \{constructor\}, which is not known/ });
  add('dockerfile-proto', 'malformed-tag-format', { dockerfile: '{__proto__}/Dockerfile' }, { error: /uses \{__proto__\}, which is not known/ });
  add('context-tostring', 'malformed-tag-format', { buildContext: '{toString}' }, { error: /uses \{toString\}, which is not known/ });
  add('dockerfile-shell', 'shell-metacharacters-in-input', { dockerfile: '$(reboot)' }, { planned: [] });
  add('registry-shell', 'shell-metacharacters-in-input', { registry: '$(reboot)' }, { error: /is not a registry host/ });
  add('registry-semicolon', 'shell-metacharacters-in-input', { registry: 'localhost:5000;rm -rf /' }, { error: /is not a registry host/ });
  add('registry-newline', 'shell-metacharacters-in-input', { registry: 'localhost:5000\nevil.example.com' }, { error: /is not a registry host/ });
  add('prefix-traversal', 'outside-path', { repositoryPrefix: '../' }, { error: /is not a valid image repository/ });
  add('prefix-shell', 'shell-metacharacters-in-input', { repositoryPrefix: '$(reboot)/' }, { error: /is not a valid image repository/ });
  add('prefix-long', 'long-name', { repositoryPrefix: `${'a'.repeat(300)}/` }, { error: /is not a valid image repository/ });
  add('platforms-shell', 'shell-metacharacters-in-input', { platforms: 'linux/amd64;reboot' }, { error: /is not a platform/ });
  add('platforms-traversal', 'outside-path', { platforms: '../../etc' }, { error: /is not a platform/ });
  add('build-args-shell-value', 'shell-metacharacters-in-input', { buildArgs: 'A=$(reboot)\nB=`id`; rm -rf /' }, planned);
  add('build-args-shell-key', 'shell-metacharacters-in-input', { buildArgs: '$(reboot)=1' }, { error: /is not KEY=VALUE/ });
  add('additional-tags-plus', 'plus-and-dotdot-in-tag', { additionalTags: 'latest+1' }, { error: /contains '\+'/ });
  add('additional-tags-shell', 'shell-metacharacters-in-tag', { additionalTags: 'latest;reboot' }, { error: /is not a valid image tag/ });
  add('pre-release-plus', 'plus-and-dotdot-in-tag', { preRelease: 'rc+1' }, { error: /contains '\+'/ });
  add('pre-release-dotdot', 'plus-and-dotdot-in-tag', { preRelease: 'rc..1' }, planned);
  add('mode-shell', 'shell-metacharacters-in-input', { mode: 'plan;reboot' }, { error: /mode .* is not known/ });
  add('builder-shell', 'shell-metacharacters-in-input', { builder: 'docker;reboot' }, { error: /builder/ });
  add('components-redos', 'regex-blowup', { components: `${'*a'.repeat(40)}*z` }, { error: /No component matches/ });
  return cases;
}

/** A small GitOps repository: the lock, an overlay's kustomization and a Deployment. */
export const GITOPS: Record<string, FileSpec> = {
  'versions.yaml': '# what runs where\nschemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: reg.example.com/heuristic\n      tag: v1.4.2\n',
  'environments/devtest/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deploy.yaml\nimages:\n  - name: reg.example.com/heuristic\n    newTag: v1.4.2\n',
  'environments/devtest/deploy.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: heuristic\nspec:\n  template:\n    spec:\n      containers:\n        - name: heuristic\n          image: reg.example.com/heuristic:v1.4.2\n',
};
const LOCK = 'versions.yaml';
const KUST = 'environments/devtest/kustomization.yaml';
const DEPLOY = 'environments/devtest/deploy.yaml';
const ALL_WRITTEN = [DEPLOY, KUST, LOCK];

/** An alias bomb ("billion laughs"): 9^depth nodes if anything expanded it. */
export function aliasBomb(depth: number, prefix = 'lol'): string {
  const lines = [`${prefix}0: &${prefix}0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]`];
  for (let i = 1; i <= depth; i++) lines.push(`${prefix}${i}: &${prefix}${i} [${Array(9).fill(`*${prefix}${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

/** versions.yaml, kustomizations and manifests for UpdateGitOpsVersions (images source, no registry). */
function gitopsCases(): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (id: string, kind: string, files: Record<string, FileSpec | null>, expect: Expectation, inputs?: Record<string, string>) => {
    const merged: Record<string, FileSpec> = { ...GITOPS };
    for (const [file, spec] of Object.entries(files)) {
      if (spec === null) delete merged[file];
      else merged[file] = spec;
    }
    cases.push({ id: `gitops-${id}`, kind, target: 'gitops', files: merged, inputs, expect });
  };
  const lock = GITOPS[LOCK] as string;
  const kust = GITOPS[KUST] as string;
  const deploy = GITOPS[DEPLOY] as string;
  const ok: Expectation = { written: ALL_WRITTEN };
  const invalidYaml = (file: string): Expectation => ({ error: /is not valid YAML/, file });

  // Alias bombs: nothing ever expands an alias, so each is read in linear time.
  add('bomb-lock-top', 'alias-bomb', { [LOCK]: lock + aliasBomb(12) }, { error: /unknown key 'lol0' at the top level/, file: LOCK });
  add('bomb-lock-environment', 'alias-bomb', { [LOCK]: `${lock}  qa:\n${aliasBomb(12).replace(/^(?=.)/gm, '    ')}` }, { error: /qa\.lol0 must be a mapping/, file: LOCK });
  add('bomb-lock-component', 'alias-bomb', { [LOCK]: `${lock}  qa:\n    heuristic: *lol\n` }, { error: /not valid YAML|must be a mapping/, file: LOCK });
  add('bomb-kustomization-key', 'alias-bomb', { [KUST]: kust + aliasBomb(12) }, ok);
  add('bomb-kustomization-images', 'alias-bomb', { [KUST]: `${aliasBomb(12)}resources:\n  - deploy.yaml\nimages: *lol12\n` }, { error: /'images' must be a list of entries, not|'images' must be a list/, file: KUST });
  add('bomb-deployment-document', 'alias-bomb', { [DEPLOY]: `${deploy}---\n${aliasBomb(12)}` }, ok);
  add('bomb-deployment-containers', 'alias-bomb', { [DEPLOY]: `${aliasBomb(12)}${deploy}`.replace('containers:\n', 'containers: *lol12\n      x:\n') }, { either: true });
  add('bomb-merge-keys', 'alias-bomb', { [DEPLOY]: `base: &base\n  image: reg.example.com/heuristic:v1.4.2\n---\n${deploy}` }, ok);
  add('bomb-manifest-extra-file', 'alias-bomb', { 'environments/devtest/bomb.yaml': aliasBomb(20) }, ok);
  add('bomb-undefined-alias', 'alias-bomb', { [DEPLOY]: `${deploy}x: *nothing\n` }, ok);

  // Huge and deeply nested.
  // Over 4 MB a YAML file is refused before parsing: 20 MB of one-character items exhausted the heap (a crash without a message).
  const tooBig = (file: string): Expectation => ({ error: /is 20\.0 MB, more than the 4\.0 MB this task reads/, file });
  add('huge-20mb-manifest-comment', 'huge-file', { 'environments/devtest/big.yaml': () => `# ${'x'.repeat(20 * MB - 3)}\n` }, tooBig('environments/devtest/big.yaml'));
  add('huge-20mb-lock-comment', 'huge-file', { [LOCK]: () => `${lock}# ${'x'.repeat(20 * MB - lock.length - 3)}\n` }, tooBig(LOCK));
  add('huge-20mb-flow-sequence', 'huge-file', { 'environments/devtest/big.yaml': () => `a: [${'1,'.repeat(10 * MB - 4)}1]\n` }, tooBig('environments/devtest/big.yaml'));
  add('huge-3mb-comment', 'huge-file', { 'environments/devtest/big.yaml': () => `# ${'x'.repeat(3 * MB)}\n` }, ok);
  add('huge-20k-documents', 'huge-file', { 'environments/devtest/many.yaml': () => 'a: 1\n---\n'.repeat(20_000) }, ok);
  // Not an image reference (a tag is at most 128 characters): left alone, the rest updated.
  add('huge-long-tag-in-manifest', 'long-name', { [DEPLOY]: deploy.replace('v1.4.2', `v1.4.2-${'x'.repeat(MB)}`) }, { written: [KUST, LOCK] });
  // Beyond about a thousand levels the YAML parser runs out of stack: a message naming the file, not the engine's.
  const tooDeep = (file: string): Expectation => ({ error: /is nested too deeply: .*fix the file/, file });
  add('deep-flow', 'deeply-nested', { 'environments/devtest/deep.yaml': () => `a: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n` }, tooDeep('environments/devtest/deep.yaml'));
  add('deep-block', 'deeply-nested', { 'environments/devtest/deep.yaml': () => `${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} 1\n` }, tooDeep('environments/devtest/deep.yaml'));
  add('deep-lock', 'deeply-nested', { [LOCK]: () => `${lock}  qa: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n` }, tooDeep(LOCK));
  add('deep-kustomization-dashes', 'deeply-nested', { [KUST]: () => `${kust}x:\n  ${'- '.repeat(10_000)}y\n` }, tooDeep(KUST));
  add('deep-deployment-mappings', 'deeply-nested', { [DEPLOY]: () => `${deploy}---\n${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n` }, tooDeep(DEPLOY));
  // Shallower than the parser's limit is read, and nothing walks it into a stack overflow either.
  add('deep-200-within-limit', 'deeply-nested', { 'environments/devtest/deep.yaml': () => `a: ${'['.repeat(200)}reg.example.com/heuristic:v1.4.2 ${']'.repeat(200)}  # {"$imagepolicy": "flux-system:heuristic"}\n` }, ok);

  // Duplicate keys.
  add('duplicate-lock-key', 'duplicate-keys', { [LOCK]: `${lock}schemaVersion: 1\n` }, invalidYaml(LOCK));
  add('duplicate-lock-component', 'duplicate-keys', { [LOCK]: `${lock}    heuristic:\n      image: x\n      tag: y\n` }, invalidYaml(LOCK));
  add('duplicate-lock-environment', 'duplicate-keys', { [LOCK]: `${lock}  devtest: {}\n` }, invalidYaml(LOCK));
  add('duplicate-kustomization-images', 'duplicate-keys', { [KUST]: `${kust}images: []\n` }, invalidYaml(KUST));
  add('duplicate-deployment-image', 'duplicate-keys', { [DEPLOY]: `${deploy}          image: evil.example.com/x:1\n` }, invalidYaml(DEPLOY));
  add('duplicate-merge-and-key', 'duplicate-keys', { [DEPLOY]: `${deploy}---\na: &a {b: 1}\nc:\n  <<: *a\n  b: 2\n` }, ok);

  // Wrong types.
  const lockError = (re: RegExp): Expectation => ({ error: re, file: LOCK });
  add('lock-list', 'wrong-type', { [LOCK]: '- devtest\n- qa\n' }, lockError(/must be a mapping with 'schemaVersion: 1'/));
  add('lock-scalar', 'wrong-type', { [LOCK]: 'devtest\n' }, lockError(/must be a mapping/));
  add('lock-schema-string', 'wrong-type', { [LOCK]: lock.replace('schemaVersion: 1', 'schemaVersion: "1"') }, lockError(/schemaVersion must be 1/));
  add('lock-schema-2', 'wrong-type', { [LOCK]: lock.replace('schemaVersion: 1', 'schemaVersion: 2') }, lockError(/schemaVersion must be 1/));
  add('lock-schema-list', 'wrong-type', { [LOCK]: lock.replace('schemaVersion: 1', 'schemaVersion: [1]') }, lockError(/schemaVersion must be 1/));
  add('lock-environments-list', 'wrong-type', { [LOCK]: 'schemaVersion: 1\nenvironments:\n  - devtest\n' }, lockError(/'environments' must be a mapping/));
  add('lock-environment-list', 'wrong-type', { [LOCK]: 'schemaVersion: 1\nenvironments:\n  devtest:\n    - heuristic\n' }, lockError(/must be a mapping of components/));
  add('lock-component-string', 'wrong-type', { [LOCK]: 'schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic: reg.example.com/heuristic:v1\n' }, lockError(/must be a mapping with 'image' and 'tag'/));
  add('lock-image-number', 'wrong-type', { [LOCK]: lock.replace('image: reg.example.com/heuristic', 'image: 42') }, lockError(/image must be a non-empty string/));
  add('lock-tag-number', 'wrong-type', { [LOCK]: lock.replace('tag: v1.4.2', 'tag: 1.4') }, lockError(/tag must be a non-empty string \(it reads as the number 1\.4: quote it\)/));
  add('lock-tag-list', 'wrong-type', { [LOCK]: lock.replace('tag: v1.4.2', 'tag: [v1.4.2]') }, lockError(/tag must be a non-empty string/));
  add('lock-component-number-name', 'wrong-type', { [LOCK]: lock.replace('    heuristic:', '    12345:') }, { error: /heuristic is not in versions\.yaml/ });
  // Readers ignore entry keys they do not know (the contract): nothing runs or expands them, and the writer keeps them.
  add('lock-unknown-field', 'wrong-type', { [LOCK]: `${lock}      command: $(reboot)\n` }, ok);
  add('lock-two-documents', 'wrong-type', { [LOCK]: `${lock}---\n${lock}` }, lockError(/holds 2 YAML documents/));
  add('kustomization-images-map', 'wrong-type', { [KUST]: kust.replace('images:\n  - name', 'images:\n  name') .replace('\n    newTag', '\n  newTag') }, { error: /'images' must be a list/, file: KUST });
  add('kustomization-images-strings', 'wrong-type', { [KUST]: kust.replace('  - name: reg.example.com/heuristic\n    newTag: v1.4.2\n', '  - reg.example.com/heuristic:v1.4.2\n') }, { error: /Each 'images' entry must be a mapping/, file: KUST });
  add('kustomization-name-number', 'wrong-type', { [KUST]: kust.replace('name: reg.example.com/heuristic', 'name: 5') }, { written: [DEPLOY, LOCK] });
  add('deployment-containers-map', 'wrong-type', { [DEPLOY]: deploy.replace('        - name: heuristic\n', '          name: heuristic\n').replace('          image', '          image') }, { written: [KUST, LOCK] });
  add('deployment-image-list', 'wrong-type', { [DEPLOY]: deploy.replace('image: reg.example.com/heuristic:v1.4.2', 'image: [reg.example.com/heuristic:v1.4.2]') }, { written: [KUST, LOCK] });
  add('deployment-kind-list', 'wrong-type', { [DEPLOY]: deploy.replace('kind: Deployment', 'kind: [Deployment]') }, { written: [KUST, LOCK] });
  add('manifest-top-level-list', 'wrong-type', { 'environments/devtest/list.yaml': '- a\n- b\n' }, ok);

  // Encodings and empty files.
  const latin1Tail = (text: string) => Buffer.concat([Buffer.from(text), Buffer.from('# caf\xe9\n', 'latin1')]);
  const notUtf8 = (file: string): Expectation => ({ error: /is not valid UTF-8/, file });
  add('latin1-lock', 'non-utf8', { [LOCK]: latin1Tail(lock) }, notUtf8(LOCK));
  add('latin1-kustomization', 'non-utf8', { [KUST]: latin1Tail(kust) }, notUtf8(KUST));
  add('latin1-deployment', 'non-utf8', { [DEPLOY]: latin1Tail(deploy) }, notUtf8(DEPLOY));
  add('latin1-other-manifest', 'non-utf8', { 'environments/devtest/other.yaml': latin1Tail('a: 1\n') }, notUtf8('environments/devtest/other.yaml'));
  add('utf16-lock', 'non-utf8', { [LOCK]: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lock, 'utf16le')]) }, notUtf8(LOCK));
  add('bom-lock', 'bom', { [LOCK]: `\ufeff${lock}` }, ok);
  add('bom-deployment', 'bom', { [DEPLOY]: `\ufeff${deploy}` }, ok);
  add('crlf-everything', 'bom', { [LOCK]: lock.replace(/\n/g, '\r\n'), [KUST]: kust.replace(/\n/g, '\r\n'), [DEPLOY]: deploy.replace(/\n/g, '\r\n') }, ok);
  add('empty-lock', 'empty-or-comments', { [LOCK]: '' }, lockError(/holds 0 YAML documents/));
  add('comments-lock', 'empty-or-comments', { [LOCK]: '# nothing\n# here\n' }, lockError(/holds 0 YAML documents/));
  add('missing-lock', 'empty-or-comments', { [LOCK]: null }, { error: /heuristic is not in versions\.yaml/ });
  add('empty-kustomization', 'empty-or-comments', { [KUST]: '' }, { written: [DEPLOY, LOCK] });
  add('comments-deployment', 'empty-or-comments', { [DEPLOY]: '# nothing\n' }, { written: [KUST, LOCK] });
  add('empty-overlay', 'empty-or-comments', { [KUST]: null, [DEPLOY]: null, 'environments/devtest/.keep': '' }, { written: [LOCK] });

  // Paths and links that lead outside the repository.
  const outside = (re = /leads outside/): Expectation => ({ error: re });
  add('manifests-etc', 'outside-path', {}, outside(), { manifestsPath: '../../etc' });
  add('manifests-sentinel', 'outside-path', {}, outside(), { manifestsPath: '../outside/overlay' });
  add('manifests-absolute', 'outside-path', {}, outside(), { manifestsPath: '/etc' });
  add('manifests-template-climb', 'outside-path', {}, outside(), { manifestsPath: 'environments/{environment}/../../..' });
  add('manifests-prototype-key', 'outside-path', {}, { error: /manifestsPath '\{constructor\}' uses \{constructor\}, which is not known: use \{environment\}/ }, { manifestsPath: '{constructor}' });
  add('lock-outside', 'outside-path', {}, outside(), { lockFile: `../outside/versions.yaml` });
  add('lock-etc-passwd', 'outside-path', {}, outside(), { lockFile: '/etc/passwd' });
  add('symlinked-overlay-dir', 'symlink', { [KUST]: null, [DEPLOY]: null, 'environments/devtest': { symlink: `${OUTSIDE}/overlay` } }, outside());
  add('symlinked-manifest', 'symlink', { 'environments/devtest/evil.yaml': { symlink: `${OUTSIDE}/overlay/kustomization.yaml` } }, { error: /symbolic link to .* outside the GitOps repository/ });
  add('symlinked-subdir', 'symlink', { 'environments/devtest/sub': { symlink: `${OUTSIDE}/overlay` } }, { error: /symbolic link to .* outside the GitOps repository/ });
  add('symlinked-lock', 'symlink', { [LOCK]: { symlink: `${OUTSIDE}/versions.yaml` } }, outside());
  add('symlinked-manifest-inside', 'symlink', { 'environments/devtest/link.yaml': { symlink: 'deploy.yaml' } }, ok);
  add('symlink-loop', 'symlink', { 'environments/devtest/loop': { symlink: '.' } }, ok);
  add('dangling-symlink', 'symlink', { 'environments/devtest/gone.yaml': { symlink: 'nowhere.yaml' } }, { error: /broken symbolic link/ });
  add('manifest-fifo', 'wrong-type', { 'environments/devtest/fifo.yaml': { fifo: true } }, ok);

  // The images input and the environment name.
  const images = (id: string, kind: string, line: string, expect: Expectation) => add(`images-${id}`, kind, {}, expect, { images: line });
  images('shell-tag', 'shell-metacharacters-in-tag', 'heuristic=$(reboot)', { error: /is not a valid image tag/ });
  images('backtick-tag', 'shell-metacharacters-in-tag', 'heuristic=`reboot`', { error: /is not a valid image tag/ });
  images('semicolon-tag', 'shell-metacharacters-in-tag', 'heuristic=v1;reboot', { error: /is not a valid image tag/ });
  images('plus-tag', 'plus-and-dotdot-in-tag', 'heuristic=v1.4.3+build.5', { error: /contains '\+'/ });
  images('dotdot-tag', 'plus-and-dotdot-in-tag', 'heuristic=v1..4', { either: true });
  images('dotdot-repository', 'plus-and-dotdot-in-tag', 'heuristic=../../etc:v1', { error: /is not an image reference/ });
  images('dotdot-in-repository', 'plus-and-dotdot-in-tag', 'heuristic=reg.example.com/a/../b:v1.4.3', { error: /is not an image reference/ });
  images('shell-name', 'shell-metacharacters-in-name', 'heuristic;reboot=v1.4.3', { error: /is not a component name/ });
  images('subshell-name', 'shell-metacharacters-in-name', '$(reboot)=reg.example.com/x:v1', { error: /is not a component name/ });
  images('proto-name', 'shell-metacharacters-in-name', '__proto__=reg.example.com/x:v1', { error: /is not a component name/ });
  images('constructor-name', 'shell-metacharacters-in-name', 'constructor=v1.4.3', { error: /constructor is not in versions\.yaml/ });
  images('bad-digest', 'malformed-reference', 'heuristic=reg.example.com/heuristic:v1.4.3@sha256:xyz', { error: /not an image reference|digest/ });
  images('long-line', 'long-name', `heuristic=${'v'.repeat(1_000_000)}`, { error: /is not a valid image tag/ });
  images('many-lines', 'huge-file', Array.from({ length: 5000 }, () => 'heuristic=v1.4.3').join('\n'), { either: true });
  images('equals-only', 'malformed-reference', '=', { error: /images line 1/ });
  images('twice', 'duplicate-keys', 'heuristic=v1.4.3\nheuristic=v1.4.4', { either: true });
  images('uppercase-repo', 'malformed-reference', 'heuristic=REG.example.com/Heuristic:v1.4.3', { either: true });
  add('environment-shell', 'shell-metacharacters-in-input', {}, { error: /is not a valid environment name/ }, { environment: '$(reboot)' });
  add('environment-traversal', 'outside-path', {}, { error: /is not a valid environment name/ }, { environment: '../../etc' });
  add('environment-newline', 'shell-metacharacters-in-input', {}, { error: /is not a valid environment name/ }, { environment: 'devtest\nprod' });
  add('environment-prototype', 'shell-metacharacters-in-input', {}, { error: /manifestsPath 'environments\/constructor' is not a folder/ }, { environment: 'constructor' });
  add('components-redos', 'regex-blowup', {}, { error: /No component matches/ }, { components: `${'*a'.repeat(40)}*z` });
  return cases;
}

/** Every case of the corpus, with unique ids. */
export function hostileCorpus(): HostileCase[] {
  const cargo = cargoCases();
  const cases = [...cargo, ...tagInputCases(), ...imageTagCases(), ...buildPlanCases(cargo), ...buildInputCases(), ...gitopsCases()];
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    ids.add(c.id);
  }
  return cases;
}
