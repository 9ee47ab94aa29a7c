import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Component } from '../../../shared/cargo/component';
import { discoverComponents } from '../../../shared/cargo/discover';
import type { SourceLocation } from '../../../shared/agent';
import { FIXTURES, crate, rel, tempTrees } from './helpers';

type Row = [name: string, version: string, source: Component['versionSource'], path: string, root: string];

async function discover(shape: string): Promise<{ rows: Row[]; components: Component[]; dir: string }> {
  const dir = path.join(FIXTURES, shape);
  const components = await discoverComponents(dir);
  const rows = components.map((c): Row => [c.name, c.version, c.versionSource, c.path, rel(dir, c.workspaceRoot)]);
  return { rows, components, dir };
}

function deps(dir: string, components: Component[], name: string): string[] {
  const component = components.find((c) => c.name === name);
  assert.ok(component, `${name} not discovered`);
  return component.pathDependencies.map((d) => rel(dir, d));
}

describe('cargo discovery: fixture shapes', () => {
  it('virtual workspace with globs: files and non-matching folders are not members', async () => {
    const { rows } = await discover('virtual-globs');
    assert.deepEqual(rows, [
      ['alpha', '0.1.0', 'explicit', 'crates/alpha', '.'],
      ['beta', '1.2.0', 'explicit', 'crates/beta', '.'],
      ['gamma', '0.3.0-rc.1', 'explicit', 'crates/gamma', '.'],
      ['svc-a', '2.0.0', 'explicit', 'services/svc-a', '.'],
      ['svc-b', '2.1.0', 'explicit', 'services/svc-b', '.'],
      ['svc-long', '9.9.9', 'explicit', 'services/svc-long', 'services/svc-long'],
    ]);
  });

  it('root-package workspace: the root package and its path dependency are members', async () => {
    const { rows, components, dir } = await discover('root-package');
    assert.deepEqual(rows, [
      ['helper', '0.4.0', 'explicit', 'helper', '.'],
      ['plugin-one', '0.1.1', 'explicit', 'plugins/p1', '.'],
      ['plugin-two', '0.1.2', 'explicit', 'plugins/p2', '.'],
      ['root-app', '4.0.0', 'explicit', '.', '.'],
    ]);
    assert.deepEqual(deps(dir, components, 'root-app'), ['helper']);
  });

  it('exclude is a path prefix (no globs); an explicit member path beats it', async () => {
    const { rows } = await discover('exclude-prefixes');
    assert.deepEqual(rows, [
      ['active', '1.0.0', 'explicit', 'crates/active', '.'],
      ['bee', '1.2.0', 'explicit', 'crates/bee', '.'],
      ['kept', '1.1.0', 'explicit', 'crates/kept', '.'],
      ['legacy-thing', '0.0.1', 'explicit', 'legacy/deep/thing', 'legacy/deep/thing'],
      ['old', '0.9.0', 'explicit', 'crates/old', 'crates/old'],
    ]);
  });

  it('version.workspace = true (both spellings) resolves from [workspace.package]', async () => {
    const { rows } = await discover('inherit-version');
    assert.deepEqual(rows, [
      ['one', '3.1.4', 'workspace', 'crates/one', '.'],
      ['own', '0.7.0', 'explicit', 'crates/own', '.'],
      ['three', '3.1.4', 'workspace', 'crates/three', '.'],
      ['two', '3.1.4', 'workspace', 'crates/two', '.'],
    ]);
  });

  it('an omitted version is 0.0.0, reported as default', async () => {
    const { rows } = await discover('omitted-version');
    assert.deepEqual(rows, [
      ['no-version-a', '0.0.0', 'default', 'a', '.'],
      ['no-version-solo', '0.0.0', 'default', 'solo', 'solo'],
      ['versioned-b', '1.0.0', 'explicit', 'b', '.'],
    ]);
  });

  it('standalone crates are their own roots; their path dependencies are still tracked', async () => {
    const { rows, components, dir } = await discover('standalone');
    assert.deepEqual(rows, [
      ['first', '0.1.0', 'explicit', 'first', 'first'],
      ['second', '0.2.0', 'explicit', 'group/second', 'group/second'],
      ['third', '0.3.0', 'explicit', 'group/deeper/third', 'group/deeper/third'],
    ]);
    assert.deepEqual(deps(dir, components, 'third'), ['group/second']);
  });

  it('nested workspaces are separate roots, each inheriting from its own [workspace.package]', async () => {
    const { rows } = await discover('nested-workspaces');
    assert.deepEqual(rows, [
      ['deeper-x', '0.0.9', 'explicit', 'tools/deeper/x', 'tools/deeper'],
      ['fmt-tool', '7.1.0', 'explicit', 'tools/fmt-tool', 'tools'],
      ['lint-tool', '7.0.0', 'workspace', 'tools/lint-tool', 'tools'],
      ['outer-a', '1.0.0', 'workspace', 'crates/outer-a', '.'],
      ['outer-b', '1.5.0', 'explicit', 'crates/outer-b', '.'],
    ]);
  });

  it('path dependencies of members join the workspace (all dependency kinds, renamed, inherited), transitively', async () => {
    const { rows, components, dir } = await discover('path-deps');
    assert.deepEqual(rows, [
      ['app', '1.0.0', 'explicit', 'app', '.'],
      ['codegen', '0.5.1', 'explicit', 'libs/codegen', '.'],
      ['corelib', '0.5.0', 'explicit', 'libs/core', '.'],
      ['shared', '0.6.0', 'explicit', 'libs/shared', '.'],
      ['testkit', '0.0.3', 'explicit', 'libs/testkit', '.'],
      ['unix-only', '0.1.0', 'explicit', 'libs/unix-only', '.'],
      // only listed in [workspace.dependencies], used by nobody, excluded: its own root
      ['unused', '0.1.0', 'explicit', 'vendor/unused', 'vendor/unused'],
    ]);
    assert.deepEqual(deps(dir, components, 'app'), ['libs/codegen', 'libs/core', 'libs/shared', 'libs/testkit', 'libs/unix-only']);
    assert.deepEqual(deps(dir, components, 'corelib'), ['libs/codegen']);
    assert.deepEqual(deps(dir, components, 'codegen'), []);
  });

  it('path dependencies outside the root folder, or excluded, stay their own roots but are still tracked', async () => {
    const { rows, components, dir } = await discover('path-deps-outside');
    assert.deepEqual(rows, [
      ['outside-app', '1.0.0', 'explicit', 'ws/app', 'ws'],
      ['patched', '0.2.0', 'explicit', 'ws/vendored/patched', 'ws/vendored/patched'],
      ['shared-outside', '0.1.0', 'explicit', 'shared', 'shared'],
    ]);
    assert.deepEqual(deps(dir, components, 'outside-app'), ['shared', 'ws/vendored/patched']);
  });

  it('never enters target/ or node_modules/, even where their Cargo.toml is not TOML', async () => {
    const { rows } = await discover('target-ignored');
    assert.deepEqual(rows, [['real', '1.0.0', 'explicit', 'crates/real', '.']]);
  });

  it('members given as explicit paths (trailing slash, ./ prefix)', async () => {
    const { rows } = await discover('explicit-paths');
    assert.deepEqual(rows, [
      ['api', '1.0.0', 'explicit', 'services/api', '.'],
      ['cli', '0.2.0', 'explicit', 'tools/cli', '.'],
      ['worker', '1.0.1', 'explicit', 'services/worker', '.'],
    ]);
  });

  it('names come from package.name, never the folder', async () => {
    const { rows, components, dir } = await discover('renamed-packages');
    assert.deepEqual(
      rows.map((r) => [r[0], r[3]]),
      [
        ['Beta_Service', 'svc_b'],
        ['alpha-service', 'svc-a'],
        ['edge-common', 'lib'],
      ],
    );
    assert.deepEqual(deps(dir, components, 'alpha-service'), ['lib']);
  });

  it('[workspace.package] inheritance of other fields does not disturb name and version', async () => {
    const { rows } = await discover('workspace-package-fields');
    assert.deepEqual(rows, [
      ['fields-m1', '0.9.0', 'workspace', 'members/m1', '.'],
      ['fields-m2', '2.0.0', 'explicit', 'members/m2', '.'],
    ]);
  });

  it('deep globs: ** matches zero or more folders; character classes', async () => {
    const { rows } = await discover('deep-globs');
    assert.deepEqual(rows, [
      ['apps-cli-main', '1.0.0', 'explicit', 'apps/cli/main-app', '.'],
      ['apps-web-api', '1.0.0', 'explicit', 'apps/web/api', '.'],
      ['apps-web-zeta', '1.0.0', 'explicit', 'apps/web/zeta', 'apps/web/zeta'],
      ['deep-one', '0.1.0', 'explicit', 'platform/a/services/one', '.'],
      ['deep-two', '0.1.0', 'explicit', 'platform/b/c/services/two', '.'],
      ['deep-zero', '0.1.0', 'explicit', 'platform/services/zero', '.'],
    ]);
  });

  it('the seed layout: independent crates one level below components/', async () => {
    const { rows } = await discover('seed-components');
    assert.deepEqual(rows, [
      ['heuristic', '1.4.2', 'explicit', 'components/heuristic', 'components/heuristic'],
      ['ingest', '0.3.0', 'explicit', 'components/ingest', 'components/ingest'],
      ['notifier', '2.0.0-rc10', 'explicit', 'components/notifier', 'components/notifier'],
      ['sensor-sim', '0.0.0', 'default', 'components/sensor-sim', 'components/sensor-sim'],
    ]);
  });

  it('the edge-ai layout: services below numbered application folders, standalone and in a workspace', async () => {
    const { rows } = await discover('edge-ai-layout');
    const app = 'src/500-application';
    assert.deepEqual(rows, [
      ['http-broker', '1.3.0', 'workspace', `${app}/502-rust-http/services/broker`, `${app}/502-rust-http/services`],
      ['http-gateway', '1.3.0', 'workspace', `${app}/502-rust-http/services/gateway`, `${app}/502-rust-http/services`],
      ['telemetry-receiver', '0.2.0', 'explicit', `${app}/501-rust-telemetry/services/receiver`, `${app}/501-rust-telemetry/services/receiver`],
      ['telemetry-sender', '0.2.0', 'explicit', `${app}/501-rust-telemetry/services/sender`, `${app}/501-rust-telemetry/services/sender`],
    ]);
  });

  it('package.workspace points a member outside the root folder back at its root', async () => {
    const { rows } = await discover('workspace-pointer');
    assert.deepEqual(rows, [
      ['pointer-inner', '0.1.0', 'explicit', 'ws/inner', 'ws'],
      ['pointer-outside', '0.2.0', 'explicit', 'outside', 'ws'],
    ]);
  });

  it('a crate excluded by the inner workspace falls through to the outer one that lists it', async () => {
    const { rows } = await discover('exclude-falls-through');
    assert.deepEqual(rows, [
      ['inner-a', '0.1.0', 'explicit', 'inner/a', 'inner'],
      ['outer-skip', '0.2.0', 'explicit', 'inner/skip', '.'],
    ]);
  });

  it('the same tree discovered from a subfolder reports paths relative to it', async () => {
    const components = await discoverComponents(path.join(FIXTURES, 'nested-workspaces', 'tools'));
    assert.deepEqual(
      components.map((c) => [c.name, c.path]),
      [
        ['deeper-x', 'deeper/x'],
        ['fmt-tool', 'fmt-tool'],
        ['lint-tool', 'lint-tool'],
      ],
    );
  });
});

describe('cargo discovery: walking and warnings', () => {
  const tree = tempTrees();

  it('never enters .git/, target/ or node_modules/ at any depth', async () => {
    const dir = await tree({
      ...crate('a', 'a'),
      '.git/Cargo.toml': 'not = [toml',
      '.git/modules/x/Cargo.toml': '[package]\nname = "in-git"\n',
      'a/node_modules/x/Cargo.toml': '[package]\nname = "in-node-modules"\n',
      'a/target/release/Cargo.toml': '[package]\nname = "in-target"\n',
      ...crate('.hidden/b', 'hidden-b'),
    });
    assert.deepEqual(
      (await discoverComponents(dir)).map((c) => c.name),
      ['a', 'hidden-b'],
    );
  });

  it('a crate inside a workspace that neither lists nor excludes it is reported standalone, with a warning naming it', async () => {
    const dir = await tree({
      'Cargo.toml': '[workspace]\nmembers = ["a"]\n',
      ...crate('a', 'a'),
      ...crate('stray', 'stray'),
    });
    const warnings: Array<{ message: string; where?: SourceLocation }> = [];
    const components = await discoverComponents(dir, { log: { warn: (message, where) => warnings.push({ message, where }) } });
    assert.deepEqual(
      components.map((c) => [c.name, rel(dir, c.workspaceRoot)]),
      [
        ['a', '.'],
        ['stray', 'stray'],
      ],
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].where?.file, path.join(dir, 'stray', 'Cargo.toml'));
    assert.equal(warnings[0].where?.line, 1);
    assert.match(warnings[0].message, /not one of its members/);
    assert.match(warnings[0].message, /workspace\.exclude/);
  });

  it('a package.workspace naming no workspace is reported standalone, with a warning', async () => {
    const dir = await tree({ ...crate('a', 'a', 'version = "1.0.0"\nworkspace = "../nowhere"\n') });
    const warnings: string[] = [];
    const components = await discoverComponents(dir, { log: { warn: (message) => warnings.push(message) } });
    assert.deepEqual(components.map((c) => c.name), ['a']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /package\.workspace names .*nowhere/);
  });

  it('warns when the searched folder lies inside a workspace it cannot see the root of', async () => {
    const dir = await tree({ 'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n', ...crate('crates/a', 'a') });
    const warnings: Array<{ message: string; where?: SourceLocation }> = [];
    const components = await discoverComponents(path.join(dir, 'crates'), { log: { warn: (message, where) => warnings.push({ message, where }) } });
    assert.deepEqual(components.map((c) => [c.name, c.path]), [['a', 'a']]);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].where?.file, path.join(dir, 'Cargo.toml'));
    assert.ok(warnings[0].message.includes(`Set componentsPath to ${dir}.`), warnings[0].message);
    // from the root itself: no warning
    warnings.length = 0;
    await discoverComponents(dir, { log: { warn: (message, where) => warnings.push({ message, where }) } });
    assert.deepEqual(warnings, []);
  });

  it('sorts by name, then manifest path, by code point (not locale)', async () => {
    const dir = await tree({ ...crate('z', 'same'), ...crate('y', 'same'), ...crate('b', 'B'), ...crate('a', 'a') });
    assert.deepEqual(
      (await discoverComponents(dir)).map((c) => [c.name, c.path]),
      [
        ['B', 'b'],
        ['a', 'a'],
        ['same', 'y'],
        ['same', 'z'],
      ],
    );
  });

  it('dependency cycles through dev-dependencies terminate', async () => {
    const dir = await tree({
      'Cargo.toml': '[workspace]\nmembers = ["a"]\n',
      ...crate('a', 'a', undefined, '[dev-dependencies]\nb = { path = "../b" }\n'),
      ...crate('b', 'b', undefined, '[dependencies]\na = { path = "../a" }\n'),
    });
    const components = await discoverComponents(dir);
    assert.deepEqual(
      components.map((c) => [c.name, c.pathDependencies.map((d) => rel(dir, d))]),
      [
        ['a', ['b']],
        ['b', ['a']],
      ],
    );
  });

  it('a componentsPath that is not a folder is a UserError', async () => {
    await assert.rejects(discoverComponents(path.join(os.tmpdir(), 'no-such-folder-for-discovery')), { name: 'UserError', message: /is not a folder/ });
  });
});
