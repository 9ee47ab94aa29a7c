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

  const invalid: Array<[string, number, RegExp]> = [
    ['invalid-digest.yaml', 7, /digest 'sha256:1234' must be 'sha256:' followed by 64/],
    ['invalid-schema.yaml', 2, /schemaVersion must be 1/],
    ['invalid-image.yaml', 5, /must be a repository without tag/],
    ['invalid-tag.yaml', 6, /reads as the number 1.2: quote it/],
    ['invalid-yaml.yaml', 6, /not valid YAML/],
    ['invalid-unknown.yaml', 7, /unknown key 'diegst'/],
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
