import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { expandMember, GlobSyntaxError, isGlob, pathMatcher } from '../../../shared/cargo/glob';

const ROOT = path.resolve('/ws');

/** A tree of folders given as relative paths (parents are implied). */
function tree(...dirs: string[]): Parameters<typeof expandMember>[2] {
  const children = new Map<string, string[]>([[ROOT, []]]);
  for (const dir of dirs) {
    let parent = ROOT;
    for (const part of dir.split('/')) {
      const child = path.join(parent, part);
      if (!children.has(child)) {
        children.set(child, []);
        children.get(parent)!.push(part);
        children.get(parent)!.sort();
      }
      parent = child;
    }
  }
  return { subdirs: (dir) => children.get(dir) };
}

const expand = (pattern: string, t: Parameters<typeof expandMember>[2]) => expandMember(pattern, ROOT, t).map((d) => path.relative(ROOT, d).split(path.sep).join('/') || '.');

describe('cargo: member globs (glob crate syntax)', () => {
  const t = tree('crates/alpha/src', 'crates/beta', 'crates/.hidden', 'crates/b2', 'platform/services/zero', 'platform/a/services/one', 'platform/a/b/services/two', 'tools');

  it('a literal path is returned whether or not it exists, as Cargo does', () => {
    assert.equal(isGlob('crates/alpha'), false);
    assert.deepEqual(expand('crates/alpha', t), ['crates/alpha']);
    assert.deepEqual(expand('missing/x', t), ['missing/x']);
    assert.deepEqual(expand('./tools/', t), ['tools']);
    assert.deepEqual(expandMember(path.resolve('/elsewhere/x'), ROOT, t), [path.resolve('/elsewhere/x')]);
    assert.deepEqual(expand('../ws/tools', t), ['tools']);
  });

  it('* matches within one component, hidden folders included', () => {
    assert.deepEqual(expand('crates/*', t), ['crates/.hidden', 'crates/alpha', 'crates/b2', 'crates/beta']);
    assert.deepEqual(expand('crates/b*', t), ['crates/b2', 'crates/beta']);
    assert.deepEqual(expand('*/alpha', t), ['crates/alpha']);
  });

  it('? and character classes', () => {
    assert.deepEqual(expand('crates/b?', t), ['crates/b2']);
    assert.deepEqual(expand('crates/[ab]*', t), ['crates/alpha', 'crates/b2', 'crates/beta']);
    assert.deepEqual(expand('crates/[!a.]*', t), ['crates/b2', 'crates/beta']);
    assert.deepEqual(expand('crates/b[0-9]', t), ['crates/b2']);
  });

  it('** matches zero or more folders', () => {
    assert.deepEqual(expand('platform/**/services/*', t), ['platform/a/b/services/two', 'platform/a/services/one', 'platform/services/zero']);
    assert.deepEqual(expand('crates/**', t), ['crates', 'crates/.hidden', 'crates/alpha', 'crates/alpha/src', 'crates/b2', 'crates/beta']);
  });

  it('regex characters in a pattern are literal', () => {
    const odd = tree('a+b', 'a.b', 'axb');
    assert.deepEqual(expand('a.*', odd), ['a.b']);
    assert.deepEqual(expand('a+*', odd), ['a+b']);
  });

  it('a pattern matching nothing gives nothing', () => {
    assert.deepEqual(expand('plugins/*', t), []);
  });

  it('syntax errors: ** inside a component, an unclosed class', () => {
    assert.throws(() => expand('crates/**x', t), GlobSyntaxError);
    assert.throws(() => expand('crates/[ab', t), GlobSyntaxError);
  });
});

describe('cargo: excludePaths patterns (pathMatcher)', () => {
  const matches = (pattern: string, ...paths: string[]) => paths.filter(pathMatcher(pattern));

  it('** is any number of folders, zero included, at the start, middle or end', () => {
    const paths = ['tests', 'tests/fixtures', 'tests/a/fixtures', 'tests/a/b/fixtures/x', 'src/fixtures', 'tests/fixturesx'];
    assert.deepEqual(matches('tests/**/fixtures', ...paths), ['tests/fixtures', 'tests/a/fixtures']);
    assert.deepEqual(matches('tests/**/fixtures/**', ...paths), ['tests/fixtures', 'tests/a/fixtures', 'tests/a/b/fixtures/x']);
    assert.deepEqual(matches('**/fixtures', ...paths), ['tests/fixtures', 'tests/a/fixtures', 'src/fixtures']);
    assert.deepEqual(matches('tests/**', ...paths), paths.filter((p) => p.startsWith('tests')));
  });

  it('a literal path matches that folder only; ./ and trailing slashes are ignored; * stays in one component', () => {
    assert.deepEqual(matches('./tests/', 'tests', 'tests/a', 'xtests'), ['tests']);
    assert.deepEqual(matches('examples/*', 'examples', 'examples/a', 'examples/a/b'), ['examples/a']);
    assert.deepEqual(matches('crates/[ab]?', 'crates/a1', 'crates/c1', 'crates/b22'), ['crates/a1']);
  });

  it('stays linear on a hostile pattern and a deep path', () => {
    const deep = Array.from({ length: 2000 }, () => 'a').join('/');
    const started = Date.now();
    assert.equal(pathMatcher(`${'**/'.repeat(200)}b`)(deep), false);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });

  it('refuses what the glob crate refuses', () => {
    assert.throws(() => pathMatcher('tests/**x'), GlobSyntaxError);
    assert.throws(() => pathMatcher('tests/[ab'), GlobSyntaxError);
  });
});
