import * as assert from 'node:assert/strict';
import { bumpKind, changeBump, compareVersions, newest, parseVersion } from '../../../shared/versions/order';

describe('versions: order', () => {
  it('parses plain, v-prefixed and pre-release versions, ignoring build metadata', () => {
    assert.deepEqual(parseVersion('1.2.3'), { major: 1, minor: 2, patch: 3, prerelease: [] });
    assert.deepEqual(parseVersion('v1.2.3'), { major: 1, minor: 2, patch: 3, prerelease: [] });
    assert.deepEqual(parseVersion('V1.2.3-rc.5'), { major: 1, minor: 2, patch: 3, prerelease: ['rc', 5] });
    assert.deepEqual(parseVersion('1.2.3-rc10'), { major: 1, minor: 2, patch: 3, prerelease: ['rc', 10] });
    assert.deepEqual(parseVersion('1.2.3+build.7'), { major: 1, minor: 2, patch: 3, prerelease: [] });
  });

  it('refuses what is not a version', () => {
    for (const text of ['', 'latest', '1.2', '01.2.3', 'vv1.2.3', '=1.2.3', 'heuristic/1.2.3', '1.2.3.4', 'v']) {
      assert.equal(parseVersion(text), undefined, text);
    }
  });

  it('orders rc10 after rc9, and a release after its pre-releases', () => {
    const sorted = ['1.0.0', '1.0.0-rc10', '0.9.0', '1.0.0-rc9', '1.0.0-rc.2', '1.0.0-beta3', '1.0.0-rc1', '0.10.0'].sort(compareVersions);
    assert.deepEqual(sorted, ['0.9.0', '0.10.0', '1.0.0-beta3', '1.0.0-rc1', '1.0.0-rc.2', '1.0.0-rc9', '1.0.0-rc10', '1.0.0']);
  });

  it('keeps SemVer precedence for dotted pre-releases and numeric identifiers', () => {
    const cases: Array<[string, string]> = [
      ['1.0.0-alpha', '1.0.0-alpha.1'],
      ['1.0.0-alpha.1', '1.0.0-alpha.beta'],
      ['1.0.0-alpha.beta', '1.0.0-beta'],
      ['1.0.0-beta.2', '1.0.0-beta.11'],
      ['1.0.0-beta.11', '1.0.0-rc.1'],
      ['1.0.0-rc.1', '1.0.0'],
      ['1.0.0-2', '1.0.0-rc1'],
      ['1.9.9', '1.10.0'],
    ];
    for (const [lower, higher] of cases) {
      assert.equal(compareVersions(lower, higher), -1, `${lower} < ${higher}`);
      assert.equal(compareVersions(higher, lower), 1, `${higher} > ${lower}`);
    }
  });

  it('v-prefixed and plain tags compare by version; equal versions are ordered by text, so sorting is stable', () => {
    assert.equal(compareVersions('v2.0.0', '1.9.0'), 1);
    assert.equal(compareVersions('1.9.0', 'v2.0.0'), -1);
    assert.equal(Math.sign(compareVersions('v1.0.0', '1.0.0')), 1);
    assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
  });

  it('sorts non-versions before every version, by name', () => {
    assert.deepEqual(['2.0.0', 'latest', '1.0.0', 'edge'].sort(compareVersions), ['edge', 'latest', '1.0.0', '2.0.0']);
  });

  it('newest: ignores non-versions, honours the filter, including a /g one', () => {
    assert.equal(newest(['latest', 'v1.0.0-rc9', 'v1.0.0-rc10', 'v0.9.0']), 'v1.0.0-rc10');
    assert.equal(newest(['latest', 'stable']), undefined);
    assert.equal(newest([]), undefined);
    assert.equal(newest(['v1.0.0', 'v2.0.0-rc.1', 'v1.5.0'], /^v\d+\.\d+\.\d+$/), 'v1.5.0');
    assert.equal(newest(['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0'], /^v1\./g), 'v1.3.0');
  });

  it('bumpKind names the highest part that changed', () => {
    assert.equal(bumpKind('1.2.3', '2.0.0'), 'major');
    assert.equal(bumpKind('1.2.3', '1.3.0'), 'minor');
    assert.equal(bumpKind('1.2.3', 'v1.2.4'), 'patch');
    assert.equal(bumpKind('1.2.3-rc9', '1.2.3-rc10'), 'prerelease');
    assert.equal(bumpKind('1.2.3-rc10', '1.2.3'), 'prerelease');
    assert.equal(bumpKind('1.2.3', '1.2.3'), 'none');
    assert.equal(bumpKind('latest', '1.2.3'), 'none');
  });

  it('changeBump adds a moved digest and a component new to the environment to bumpKind', () => {
    const pin = (tag: string, digest?: string, image = 'r.io/heuristic') => ({ image, tag, digest });
    const D = (c: string) => `sha256:${c.repeat(64)}`;
    assert.equal(changeBump(pin('v1.4.1'), pin('v1.5.0', D('a'))), 'minor');
    assert.equal(changeBump(pin('v1.4.1', D('a')), pin('v1.4.1', D('b'))), 'digest');
    assert.equal(changeBump(pin('v1.4.1'), pin('v1.4.1', D('b'))), 'digest');
    assert.equal(changeBump(undefined, pin('v1.4.1')), 'none');
    assert.equal(changeBump(pin('v1.4.1', D('a')), pin('v1.4.1', D('b'), 'other.io/heuristic')), 'none');
    assert.equal(changeBump(pin('latest'), pin('stable')), 'none');
  });
});
