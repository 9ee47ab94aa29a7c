import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SourceLocation } from '../../../shared/agent';
import { discoverCargo, type DiscoverOptions } from '../../../shared/cargo/discover';
import { skippedManifestsSummary } from '../../../shared/summaries';
import { selectComponents } from '../../../shared/cargo/select';
import { formatError, UserError } from '../../../shared/errors';
import { run } from '../../../shared/process';
import { requireTool } from '../../helpers/requires';
import { cargoMetadata, crate, FIXTURES, rel, tempTrees } from './helpers';

interface Warning {
  message: string;
  where?: SourceLocation;
}

/** Discovery and selection as the tasks run them, with every warning kept. */
async function select(dir: string, components = '', options: DiscoverOptions = {}) {
  const warnings: Warning[] = [];
  const log = { warn: (message: string, where?: SourceLocation) => warnings.push({ message, where }) };
  const discovery = await discoverCargo(dir, { log, ...options });
  const discoveryWarnings = warnings.length;
  const selection = selectComponents(discovery, components, log);
  return { discovery, ...selection, names: selection.selected.map((c) => c.name), warnings, skipWarnings: warnings.slice(discoveryWarnings) };
}

/** The error a selection fails with: a UserError, formatted as the task prints it. */
async function failure(dir: string, components = '', options: DiscoverOptions = {}): Promise<string> {
  const error = await select(dir, components, options).then(
    () => assert.fail('the selection succeeded'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof UserError, String(error));
  return formatError(error);
}

const TOOL = path.join(FIXTURES, 'broken-test-fixtures');
const EXAMPLES = path.join(FIXTURES, 'broken-example-path-dep');
const SUITE = 'tests/testsuite';

describe('cargo discovery: a broken Cargo.toml outside the selection', () => {
  const tree = tempTrees();

  describe('a tool repository whose test suite keeps invalid fixture manifests under tests/', () => {
    it('discovers every usable root and returns each broken manifest with the roots Cargo refuses and the packages left out', async () => {
      const { components, problems } = await discoverCargo(TOOL);
      assert.deepEqual(
        components.map((c) => [c.name, c.path]),
        [
          ['cargo-list-test-fixture', `${SUITE}/cargo_add/add_basic/in`],
          ['cargo-list-test-fixture', `${SUITE}/cargo_add/workspace_name/in/primary`],
          ['cargo-list-test-fixture-dependency', `${SUITE}/cargo_add/workspace_name/in/dependency`],
          ['cargo-remove-test-fixture', `${SUITE}/cargo_remove/remove_basic/in`],
          ['fixture-tool', 'crates/cli'],
          ['fixture-util', 'crates/util'],
          ['stray-fixture', `${SUITE}/stray_fixture`],
        ],
      );
      assert.equal(problems.length, 29);
      const at = (file: string) => problems.find((p) => rel(TOOL, p.file) === `${SUITE}/${file}`)!;
      const nested = at('features/nested_broken/in/Cargo.toml');
      assert.equal(nested.line, 4);
      assert.match(nested.message, /^Invalid TOML in Cargo\.toml: .*\(line 4, column 10\)\.$/);
      // Cargo reads the broken parent while looking for the child's workspace: both are refused.
      assert.deepEqual(nested.roots.map((r) => rel(TOOL, r)), [`${SUITE}/features/nested_broken/in/Cargo.toml`, `${SUITE}/features/nested_broken/in/child/Cargo.toml`]);
      assert.deepEqual(nested.packages, ['nested-child', 'nested-parent']);
      // A workspace is refused as a whole, naming the file at fault (here a member), not only the root.
      const twins = at('workspace/duplicate_names/in/b/Cargo.toml');
      assert.deepEqual(twins.roots.map((r) => rel(TOOL, r)), [`${SUITE}/workspace/duplicate_names/in/Cargo.toml`]);
      assert.deepEqual(twins.packages, ['twin']);
      assert.deepEqual(at('cargo_publish/bad_version/in/Cargo.toml').packages, ['bad-version']);
      assert.deepEqual(at('cargo_add/unclosed_header/in/Cargo.toml').packages, [], 'no readable name');
      assert.ok(problems.every((p) => p.neededBy.length === 0));
    });

    it('with the default selection, every broken manifest is a warning naming file and line, and is listed as skipped', async () => {
      const { names, skipped, skipWarnings, warnings } = await select(TOOL);
      assert.equal(names.length, 7);
      assert.equal(skipped.length, 29);
      assert.equal(skipWarnings.length, 29);
      for (const [i, s] of skipped.entries()) {
        assert.equal(skipWarnings[i].where?.file, path.join(TOOL, s.file));
        assert.equal(skipWarnings[i].where?.line, s.line);
        assert.ok(typeof s.line === 'number', s.file);
      }
      const bad = skipWarnings.find((w) => w.where?.file.endsWith('bad_version/in/Cargo.toml'))!;
      assert.equal(
        bad.message,
        `package.version '1.0' is not a SemVer version such as 1.2.3 (Cargo refuses it). Cargo refuses ${SUITE}/cargo_publish/bad_version/in/Cargo.toml because of it, leaving out bad-version. No selected component needs it, so the run goes on without it: fix it, or leave its folder out with excludePaths.`,
      );
      // The crate inside the tool's workspace folder that the workspace does not list: reported, with Cargo's refusal.
      const stray = warnings.filter((w) => /not one of its members/.test(w.message));
      assert.deepEqual(stray.map((w) => rel(TOOL, w.where!.file)), [`${SUITE}/stray_fixture/Cargo.toml`]);
      assert.match(stray[0].message, /Cargo refuses it as it stands \("believes it's in a workspace when it's not"\).*workspace\.members or workspace\.exclude.*excludePaths/);
    });

    it('fails, naming file and line, when the components input names a package a broken manifest leaves out', async () => {
      assert.match(
        await failure(TOOL, 'fixture-tool\nbad-version'),
        new RegExp(`^${TOOL}/${SUITE}/cargo_publish/bad_version/in/Cargo\\.toml:3: package\\.version '1\\.0' is not a SemVer.* The run needs it: the components input selects 'bad-version', which it leaves out\\.$`),
      );
      // A valid crate below a broken one: the broken parent is what to fix.
      assert.match(await failure(TOOL, 'nested-*'), /nested_broken\/in\/Cargo\.toml:4: Invalid TOML.* The run needs it: the components input selects 'nested-child', which it leaves out\.$/);
      // A member of a refused workspace.
      assert.match(await failure(TOOL, 'twin'), /duplicate_names\/in\/b\/Cargo\.toml:2: Two packages named 'twin'/);
      // Two at once: the first fails the run, the others are counted.
      assert.match(await failure(TOOL, 'bad-version, twin, parse-case-0*'), /bad_version\/in\/Cargo\.toml:3: .* The selection needs 11 more: .*toml_edit\/parse\/case_00\/in\/Cargo\.toml:4, .* and 6 more\.$/);
    });

    it('a left-out package with the name of a discovered one is not selected by that name; an exclusion of a left-out name is fine', async () => {
      // invalid_manifest/in is also called cargo-list-test-fixture (as Cargo's own fixtures are)
      const { names, skipped } = await select(TOOL, 'cargo-list-test-fixture');
      assert.deepEqual(names, ['cargo-list-test-fixture', 'cargo-list-test-fixture']);
      assert.equal(skipped.length, 29);
      assert.equal((await select(TOOL, '!bad-version')).names.length, 7);
    });

    it('a name that matches nothing points at the Cargo.toml files whose name could not be read', async () => {
      const message = await failure(TOOL, 'not-a-crate');
      assert.match(message, /No component matches 'not-a-crate' in the components input\. Known: .*bad-version.* It may be in a Cargo\.toml that could not be read: .*cargo_add\/invalid_key_type\/in\/Cargo\.toml:2, /);
      assert.ok(message.startsWith(`${TOOL}/${SUITE}/cargo_add/invalid_key_type/in/Cargo.toml:2: `), message);
    });

    it('excludePaths leaves tests/ out: nothing broken is read, nothing is warned about', async () => {
      const { names, skipped, warnings, discovery } = await select(TOOL, '', { excludePaths: ['tests/**'] });
      assert.deepEqual(names, ['fixture-tool', 'fixture-util']);
      assert.deepEqual(skipped, []);
      assert.deepEqual(warnings, []);
      assert.deepEqual(discovery.problems, []);
    });

    it('excludePaths globs: ** at the start matches at any depth, and only folders that match are left out', async () => {
      const { discovery, warnings } = await select(TOOL, '', { excludePaths: ['**/in'] });
      assert.deepEqual(discovery.problems, []);
      assert.deepEqual(
        discovery.components.map((c) => c.name),
        ['fixture-tool', 'fixture-util', 'stray-fixture'],
      );
      assert.equal(warnings.length, 1, 'the stray fixture is not under an in/ folder');
    });
  });

  describe('examples whose path dependency points at a folder without Cargo.toml', () => {
    it('an example with its own [workspace] is a root Cargo refuses: left out with a warning', async () => {
      const { names, skipped, skipWarnings } = await select(EXAMPLES, '!loose-example');
      assert.deepEqual(names, ['core-lib', 'edge-server', 'tidy-example']);
      assert.deepEqual(skipped[0], {
        file: 'examples/demo/Cargo.toml',
        line: 8,
        message: "Path dependency 'demo-support' in [dependencies] points at examples/support, which has no Cargo.toml: fix its path.",
        packages: ['demo-app'],
      });
      assert.match(skipWarnings[0].message, /Cargo refuses examples\/demo\/Cargo\.toml because of it, leaving out demo-app\. No selected component needs it/);
    });

    it('an example without [workspace] is a component (cargo metadata accepts it) that needs the missing folder: selected, it fails the run', async () => {
      const { discovery } = await select(EXAMPLES, '!loose-example');
      const loose = discovery.problems.find((p) => p.file.endsWith(path.join('loose', 'Cargo.toml')))!;
      assert.deepEqual(loose.roots, []);
      assert.deepEqual(loose.neededBy, [path.join(EXAMPLES, 'examples', 'loose', 'Cargo.toml')]);
      assert.match(
        await failure(EXAMPLES, ''),
        /examples\/loose\/Cargo\.toml:7: Path dependency 'helper' .* The run needs it: the selected component 'loose-example' depends on it by path\.$/,
      );
      const { skipWarnings } = await select(EXAMPLES, 'edge-server');
      assert.match(skipWarnings[1].message, /^Path dependency 'helper' .* loose-example \(not selected\) depends on it by path\. No selected component needs it/);
    });
  });

  it('a broken manifest a selected component depends on by path, outside its workspace, fails the run; unselected it is a warning', async () => {
    const dir = await tree({
      ...crate('app', 'app', undefined, '[dependencies]\nshared = { path = "../shared" }\n'),
      ...crate('other', 'other'),
      'shared/Cargo.toml': '[package]\nname = "shared"\nversion = 1\n',
    });
    assert.match(await failure(dir, 'app'), /shared\/Cargo\.toml:3: package\.version must be a string.* The run needs it: the selected component 'app' depends on it by path\./);
    const { names, skipWarnings } = await select(dir, 'other');
    assert.deepEqual(names, ['other']);
    assert.match(skipWarnings[0].message, /Cargo refuses shared\/Cargo\.toml because of it, leaving out shared\. app \(not selected\) depends on it by path\./);
  });

  it('nothing usable at all: the first problem fails the run', async () => {
    const dir = await tree({ 'Cargo.toml': '[workspace]\nmembers = ["a"]\n', 'a/Cargo.toml': '[package]\nname = "a"\nversion = "x"\n' });
    assert.match(await failure(dir), /a\/Cargo\.toml:3: package\.version 'x' is not a SemVer version.* The run needs it: no other Cargo package was found under /);
    assert.match(await failure(await tree({ 'README.md': '' })), /No Cargo package \(a Cargo\.toml with \[package\]\) was found under .*: check componentsPath\./);
  });

  describe('excludePaths and git-ignored folders', () => {
    it('a folder left out is not searched for roots, but a workspace outside it still reads the members it lists there (as cargo does)', async function () {
      const dir = await tree({
        'Cargo.toml': '[workspace]\nmembers = ["crates/*", "examples/listed"]\nexclude = ["examples/own"]\n',
        ...crate('crates/a', 'a', undefined, '[dependencies]\nhelper = { path = "../../examples/helper" }\n'),
        ...crate('examples/listed', 'listed'),
        ...crate('examples/helper', 'helper'),
        ...crate('examples/own', 'own', undefined, '[workspace]\n'),
      });
      const { names } = await select(dir, '', { excludePaths: ['examples'] });
      assert.deepEqual(names, ['a', 'helper', 'listed']);
      assert.deepEqual((await select(dir)).names, ['a', 'helper', 'listed', 'own']);
      await requireTool(this, 'cargo');
      const cargo = await cargoMetadata(path.join(dir, 'Cargo.toml'), path.join(dir, 'target'));
      assert.deepEqual(cargo.packages.map((p) => p.name).sort(), ['a', 'helper', 'listed']);
    });

    it('refuses an excludePaths entry outside componentsPath or with an invalid glob; takes an absolute path inside it', async () => {
      const dir = await tree({ ...crate('a', 'a'), ...crate('b', 'b') });
      const refused = async (entry: string, message: RegExp) => assert.rejects(discoverCargo(dir, { excludePaths: [entry] }), (e: Error) => e instanceof UserError && message.test(e.message));
      await refused('../elsewhere', /excludePaths entry '\.\.\/elsewhere' climbs out with '\.\.'/);
      await refused(path.join(os.tmpdir(), 'not-this-one'), /lies outside componentsPath/);
      await refused('a/**x', /excludePaths has an invalid glob 'a\/\*\*x': '\*\*' must be a whole path component/);
      await refused('[ab', /invalid glob '\[ab': '\[' without a closing '\]'/);
      assert.deepEqual((await discoverCargo(dir, { excludePaths: [path.join(dir, 'b')] })).components.map((c) => c.name), ['a']);
    });

    it('never enters a folder git ignores (untracked), still reads a member listed there, and walks tracked files under an ignore pattern', async () => {
      const dir = await tree({
        '.gitignore': 'scratch/\ngenerated/\nvendored/\n',
        'Cargo.toml': '[workspace]\nmembers = ["crates/*", "generated/listed"]\nexclude = ["scratch", "vendored"]\n',
        ...crate('crates/a', 'a'),
        'scratch/broken/Cargo.toml': '[package\n',
        ...crate('scratch/experiment', 'experiment', undefined, '[workspace]\n'),
        ...crate('generated/listed', 'listed'),
        ...crate('generated/other', 'generated-other', undefined, '[workspace]\n'),
        ...crate('vendored/kept', 'kept', undefined, '[workspace]\n'),
      });
      const git = (...args: string[]) => run('git', args, { cwd: dir, env: { GIT_CONFIG_NOSYSTEM: '1', HOME: dir } });
      await git('init', '--quiet');
      await git('add', '.gitignore', 'Cargo.toml', 'crates');
      await git('add', '--force', 'vendored/kept/Cargo.toml', 'vendored/kept/src/lib.rs');
      const { discovery, warnings } = await select(dir);
      assert.deepEqual(discovery.components.map((c) => [c.name, rel(dir, c.workspaceRoot)]), [
        ['a', '.'],
        ['kept', 'vendored/kept'],
        ['listed', '.'],
      ]);
      assert.deepEqual(discovery.problems, []);
      assert.deepEqual(warnings, []);
      // Outside a git working copy a .gitignore means nothing: the scratch folder is searched.
      await fs.rm(path.join(dir, '.git'), { recursive: true });
      const plain = await discoverCargo(dir);
      assert.deepEqual(plain.problems.map((p) => rel(dir, p.file)), ['scratch/broken/Cargo.toml']);
      assert.ok(plain.components.some((c) => c.name === 'experiment'));
    });
  });

  it('the summary section lists skipped manifests with file:line, escaped, and stops after 50', () => {
    assert.equal(skippedManifestsSummary([]), '');
    const section = skippedManifestsSummary([{ file: 'tests/a|b/Cargo.toml', line: 3, message: 'Invalid TOML\nhere', packages: ['x', 'y'] }]);
    assert.match(section, /\*\*Skipped Cargo manifests\*\* \(1\): no selected component needs them/);
    assert.match(section, /\| `tests\/a\\\|b\/Cargo\.toml:3` \| Invalid TOML here \| x, y \|/);
    const many = skippedManifestsSummary(Array.from({ length: 60 }, (_, i) => ({ file: `t/${i}/Cargo.toml`, message: 'm', packages: [] })));
    assert.equal(many.split('\n').filter((line) => line.startsWith('| `t/')).length, 50);
    assert.match(many, /\| and 10 more \|/);
  });
});
