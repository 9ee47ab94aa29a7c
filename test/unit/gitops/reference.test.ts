import { strict as assert } from 'node:assert';
import { UserError } from '../../../shared/errors';
import { formatImageRef, parseImageLine, parseImageRef, parseImagesJson, sameRepository, splitRegistry } from '../../../shared/images/reference';
import { D } from './fixtures';

describe('image references', () => {
  it('splits the registry host by docker\'s rule', () => {
    assert.deepEqual(splitRegistry('myacr.azurecr.io/edge/heuristic'), { registry: 'myacr.azurecr.io', path: 'edge/heuristic' });
    assert.deepEqual(splitRegistry('localhost/heuristic'), { registry: 'localhost', path: 'heuristic' });
    assert.deepEqual(splitRegistry('127.0.0.1:5000/heuristic'), { registry: '127.0.0.1:5000', path: 'heuristic' });
    assert.deepEqual(splitRegistry('edge/heuristic'), { path: 'edge/heuristic' });
    assert.deepEqual(splitRegistry('heuristic'), { path: 'heuristic' });
  });

  it('parses and formats name, tag and digest, with a registry port', () => {
    assert.deepEqual(parseImageRef(`127.0.0.1:5000/edge/heuristic:v1.2.3@${D('a')}`), { name: '127.0.0.1:5000/edge/heuristic', tag: 'v1.2.3', digest: D('a') });
    assert.deepEqual(parseImageRef('127.0.0.1:5000/heuristic'), { name: '127.0.0.1:5000/heuristic', tag: undefined, digest: undefined });
    assert.equal(parseImageRef('heuristic@sha256:12'), undefined);
    assert.equal(formatImageRef({ name: 'r.io/a', tag: 'v1', digest: D('b') }), `r.io/a:v1@${D('b')}`);
  });

  it('matches repositories with or without registry host, and Docker Hub spellings', () => {
    assert.ok(sameRepository('heuristic', 'myacr.azurecr.io/heuristic'));
    assert.ok(sameRepository('edge/heuristic', 'myacr.azurecr.io/edge/heuristic'));
    assert.ok(!sameRepository('heuristic', 'myacr.azurecr.io/edge/heuristic'));
    assert.ok(!sameRepository('other.io/heuristic', 'myacr.azurecr.io/heuristic'));
    assert.ok(sameRepository('nginx', 'docker.io/library/nginx'));
  });

  it('parses every images line form', () => {
    assert.deepEqual(parseImageLine('heuristic=v1.4.2', 'images line 1'), { component: 'heuristic', tag: 'v1.4.2', digest: undefined, origin: 'images line 1' });
    assert.deepEqual(parseImageLine(`heuristic=r.io/edge/heuristic:v1@${D('c')}`, 'l'), { component: 'heuristic', name: 'r.io/edge/heuristic', tag: 'v1', digest: D('c'), origin: 'l' });
    assert.deepEqual(parseImageLine('r.io/edge/collector:v2', 'l'), { component: 'collector', name: 'r.io/edge/collector', tag: 'v2', digest: undefined, origin: 'l' });
    assert.deepEqual(parseImageLine(`collector=v2@${D('d')}`, 'l'), { component: 'collector', tag: 'v2', digest: D('d'), origin: 'l' });
  });

  for (const bad of ['heuristic=v1+build', 'heuristic=', 'heuristic=v1@sha256:xyz', 'r.io/heuristic', 'bad name=v1', `heuristic=r.io/heuristic@${D('a')}`]) {
    it(`refuses '${bad}' naming the line`, () => {
      assert.throws(() => parseImageLine(bad, 'images line 3'), (e: unknown) => e instanceof UserError && e.message.startsWith('images line 3'));
    });
  }

  it('reads images.json and names the file on errors', () => {
    const json = JSON.stringify({ schemaVersion: 1, buildId: '5', commit: 'abc', images: [{ component: 'heuristic', version: '1.4.2', image: 'r.io/heuristic', tags: ['v1.4.2', 'latest'], digest: D('e'), platforms: [], status: 'pushed' }] });
    assert.deepEqual(parseImagesJson(json, 'images.json'), [{ component: 'heuristic', version: '1.4.2', image: 'r.io/heuristic', tags: ['v1.4.2', 'latest'], digest: D('e'), status: 'pushed' }]);
    assert.throws(() => parseImagesJson('{"schemaVersion": 2, "images": []}', 'out/images.json'), (e: unknown) => e instanceof UserError && e.where?.file === 'out/images.json');
    assert.throws(() => parseImagesJson('{nope', 'out/images.json'), (e: unknown) => e instanceof UserError && /not valid JSON/.test(e.message));
    assert.throws(() => parseImagesJson('{"schemaVersion":1,"images":[{"component":"a","image":"r.io/a:v1","tags":[]}]}', 'x.json'), /without tag/);
  });

  it("records the commit built: an image's own revision, else the file's commit, when it is a commit id", () => {
    const file = (commit: string, revision?: string) =>
      JSON.stringify({ schemaVersion: 1, buildId: '5', commit, images: [{ component: 'a', image: 'r.io/a', tags: ['v1'], status: 'pushed', ...(revision ? { revision } : {}) }] });
    const sha = '9f2c41ab'.repeat(5);
    assert.equal(parseImagesJson(file(sha), 'i.json')[0].revision, sha);
    assert.equal(parseImagesJson(file(sha, 'abcdef0'), 'i.json')[0].revision, 'abcdef0');
    // a TFVC changeset (Build.SourceVersion) or an empty commit is not a git commit: nothing recorded
    assert.equal(parseImagesJson(file('1234'), 'i.json')[0].revision, undefined);
    assert.equal(parseImagesJson(file(''), 'i.json')[0].revision, undefined);
  });
});
