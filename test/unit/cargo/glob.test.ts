import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { expandMember, GlobSyntaxError, isGlob } from '../../../shared/cargo/glob';
import type { SourceTree } from '../../../shared/cargo/tree';

const ROOT = path.resolve('/ws');

/** A tree of folders given as relative paths (parents are implied). */
function tree(...dirs: string[]): SourceTree {
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
  return { root: ROOT, children, manifests: [] };
}

const expand = (pattern: string, t: SourceTree) => expandMember(pattern, ROOT, t).map((d) => path.relative(ROOT, d).split(path.sep).join('/') || '.');

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
