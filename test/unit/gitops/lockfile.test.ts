import { strict as assert } from 'node:assert';
import { UserError } from '../../../shared/errors';
import { emptyLock, readLock, updateLock } from '../../../shared/lock/lockfile';
import { crlf, D, fixture } from './fixtures';

describe('lock file (versions.yaml)', () => {
  const text = fixture('lock', 'versions.yaml');

  it('reads environments, components, tags and digests with their lines', () => {
    const lock = readLock(text, 'versions.yaml');
    assert.deepEqual([...lock.environments.keys()], ['devtest', 'qa']);
    assert.deepEqual(lock.environments.get('devtest')!.get('heuristic'), { image: 'myacr.azurecr.io/heuristic', tag: 'v1.4.1', digest: D('a'), line: 7 });
    assert.deepEqual(lock.environments.get('devtest')!.get('collector'), { image: 'myacr.azurecr.io/collector', tag: 'v2.0.0', digest: undefined, line: 11 });
    assert.equal(lock.environmentLines.get('qa'), 15);
  });

  const devtest = new Map([
    ['heuristic', { image: 'myacr.azurecr.io/heuristic', tag: 'v1.4.2' }],
    ['collector', { image: 'myacr.azurecr.io/collector', tag: 'v2.1.0', digest: D('1') }],
    ['router', { image: 'myacr.azurecr.io/router', tag: 'v0.1.0', digest: D('2') }],
  ]);

  it('updates values, removes and adds digests, appends a component, keeping every other byte', () => {
    assert.equal(updateLock(text, 'versions.yaml', 'devtest', devtest), fixture('lock', 'versions.expected-devtest.yaml'));
  });

  it('does the same on a CRLF file, writing CRLF', () => {
    assert.equal(updateLock(crlf(text), 'versions.yaml', 'devtest', devtest), crlf(fixture('lock', 'versions.expected-devtest.yaml')));
  });

  it('appends a new environment in the file\'s 4-space indentation', () => {
    const input = fixture('lock', 'versions-4space.yaml');
    const prod = new Map([['heuristic', { image: 'myacr.azurecr.io/heuristic', tag: 'v1.4.1', digest: D('1') }]]);
    assert.equal(updateLock(input, 'versions.yaml', 'prod', prod), fixture('lock', 'versions-4space.expected-prod.yaml'));
  });

  it('leaves the text unchanged when the values are already there', () => {
    const expected = fixture('lock', 'versions.expected-devtest.yaml');
    assert.equal(updateLock(expected, 'versions.yaml', 'devtest', devtest), expected);
  });

  it('fills an empty lock and reads it back', () => {
    const filled = updateLock(emptyLock(), 'versions.yaml', 'devtest', new Map([['heuristic', { image: 'myacr.azurecr.io/heuristic', tag: 'v1.0.0' }]]));
    assert.equal(filled, '# versions.yaml: what runs where. Change it through pull requests.\nschemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: myacr.azurecr.io/heuristic\n      tag: v1.0.0\n');
    assert.equal(readLock(filled, 'versions.yaml').environments.get('devtest')!.get('heuristic')!.tag, 'v1.0.0');
  });

  it('edits a flow-style component in place', () => {
    const input = `schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic: {image: r.io/heuristic, tag: v1, digest: ${D('a')}}\n    collector: {image: r.io/collector, tag: v2}\n`;
    const out = updateLock(input, 'v.yaml', 'devtest', new Map([
      ['heuristic', { image: 'r.io/heuristic', tag: 'v1.1' }],
      ['collector', { image: 'r.io/collector', tag: 'v2', digest: D('b') }],
    ]));
    assert.equal(out, `schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic: {image: r.io/heuristic, tag: v1.1}\n    collector: {image: r.io/collector, tag: v2, digest: ${D('b')}}\n`);
  });

  it('fills an environment that is empty', () => {
    const input = 'schemaVersion: 1\nenvironments:\n  devtest:   # nothing yet\n';
    const out = updateLock(input, 'v.yaml', 'devtest', new Map([['a', { image: 'r.io/a', tag: 'v1' }]]));
    assert.equal(out, 'schemaVersion: 1\nenvironments:\n  devtest:   # nothing yet\n    a:\n      image: r.io/a\n      tag: v1\n');
  });

  it("reads past a key it does not know, and warns naming the line when it looks like a misspelt one ('diegst')", () => {
    const lock = readLock(fixture('lock', 'typo-key.yaml'), 'gitops/typo-key.yaml');
    assert.deepEqual(lock.warnings, [{ line: 7, message: "devtest.heuristic has an unknown key 'diegst', which is ignored: did you mean 'digest'?" }]);
    assert.equal(lock.environments.get('devtest')!.get('heuristic')!.digest, undefined);
    const other = 'schemaVersion: 1\nenvironments:\n  qa:\n    a:\n      image: r.io/a\n      tag: v1\n      owner: team-edge   # a key of a later writer\n      Tag: v2\n      holds: x\n';
    const read = readLock(other, 'v.yaml');
    assert.deepEqual(read.warnings.map((w) => [w.line, /'(\w+)'\?$/.exec(w.message)![1]]), [[8, 'tag'], [9, 'hold']]);
    assert.deepEqual(read.environments.get('qa')!.get('a'), { image: 'r.io/a', tag: 'v1', digest: undefined, line: 4 });
    // kept, byte for byte, when the entry is updated
    assert.equal(updateLock(other, 'v.yaml', 'qa', new Map([['a', { image: 'r.io/a', tag: 'v1.1' }]])), other.replace('tag: v1\n', 'tag: v1.1\n'));
  });

  const held = `schemaVersion: 1\nenvironments:\n  qa:\n    heuristic:\n      image: r.io/heuristic\n      tag: v1.4.1   # rolled back\n      digest: ${D('a')}\n      revision: 9f2c41ab\n      hold: "rollback to abc1234 by Jane in run 17"\n    collector:\n      image: r.io/collector\n      tag: 'v2.0.0'\n`;

  it('reads revision and hold', () => {
    const qa = readLock(held, 'v.yaml').environments.get('qa')!;
    assert.deepEqual(qa.get('heuristic'), { image: 'r.io/heuristic', tag: 'v1.4.1', digest: D('a'), revision: '9f2c41ab', hold: 'rollback to abc1234 by Jane in run 17', line: 4 });
    assert.equal(qa.get('collector')!.hold, undefined);
  });

  it('keeps a hold it is not told about, removes it with null, sets one in double quotes; a revision follows the image', () => {
    const keep = updateLock(held, 'v.yaml', 'qa', new Map([['heuristic', { image: 'r.io/heuristic', tag: 'v1.4.1', digest: D('a'), revision: '9f2c41ab' }]]));
    assert.equal(keep, held);
    const released = updateLock(held, 'v.yaml', 'qa', new Map([['heuristic', { image: 'r.io/heuristic', tag: 'v1.4.3', digest: D('b'), hold: null }]]));
    assert.equal(released, held.replace('v1.4.1   #', 'v1.4.3   #').replace(D('a'), D('b')).replace('      revision: 9f2c41ab\n      hold: "rollback to abc1234 by Jane in run 17"\n', ''));
    const rolled = updateLock(held, 'v.yaml', 'qa', new Map([['collector', { image: 'r.io/collector', tag: 'v1.9.0', revision: '0123456789abcdef', hold: 'rollback to v7: it crashed' }]]));
    assert.equal(rolled, held.replace("tag: 'v2.0.0'\n", "tag: 'v1.9.0'\n      revision: '0123456789abcdef'\n      hold: \"rollback to v7: it crashed\"\n"));
    assert.equal(readLock(rolled, 'v.yaml').environments.get('qa')!.get('collector')!.hold, 'rollback to v7: it crashed');
    const added = updateLock(held, 'v.yaml', 'prod', new Map([['heuristic', { image: 'r.io/heuristic', tag: 'v1.4.1', revision: '1234567', hold: 'x' }]]));
    assert.ok(added.endsWith(`  prod:\n    heuristic:\n      image: r.io/heuristic\n      tag: v1.4.1\n      revision: "1234567"\n      hold: "x"\n`), added);
    assert.equal(readLock(added, 'v.yaml').environments.get('prod')!.get('heuristic')!.revision, '1234567');
  });

  const invalid: Array<[string, number, RegExp]> = [
    ['invalid-digest.yaml', 7, /digest 'sha256:1234' must be 'sha256:' followed by 64/],
    ['invalid-schema.yaml', 2, /schemaVersion must be 1/],
    ['invalid-image.yaml', 5, /must be a repository without tag/],
    ['invalid-tag.yaml', 6, /reads as the number 1.2: quote it/],
    ['invalid-yaml.yaml', 6, /not valid YAML/],
    ['invalid-revision.yaml', 7, /devtest\.heuristic\.revision 'main' must be a git commit id/],
  ];
  for (const [file, line, message] of invalid) {
    it(`refuses ${file} naming file:${line}`, () => {
      assert.throws(
        () => readLock(fixture('lock', file), `gitops/${file}`),
        (error: unknown) => error instanceof UserError && error.where?.file === `gitops/${file}` && error.where.line === line && message.test(error.message),
      );
    });
  }
});
