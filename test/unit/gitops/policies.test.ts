import { strict as assert } from 'node:assert';
import { UserError } from '../../../shared/errors';
import { checkVersionPolicies, type MovesFrom } from '../../../shared/gitops/policies';
import type { Desired } from '../../../shared/gitops/sources';

// Item 6 of issue 13: a first release candidate of the version an environment runs is older by SemVer.
describe('version policies: a candidate of the version already running', () => {
  const desired = (tag: string): Desired => new Map([['http-connector', { image: 'edgeacr.azurecr.io/broker', tag, origin: 'images.json (http-connector)' }]]);
  const running = (tag: string, deployed = false): Map<string, MovesFrom> =>
    new Map([['http-connector', { pins: [{ image: 'edgeacr.azurecr.io/broker', tag }], where: { file: 'versions.yaml', line: 4 }, deployed }]]);
  const check = (from: string, to: string) => checkVersionPolicies('devtest', desired(to), running(from), { maxBump: 'major' });

  it('explains the refusal in one sentence and names the three ways out, at the lock line', () => {
    assert.throws(
      () => check('0.1.0', 'v0.1.0-rc.7'),
      (e: unknown) =>
        e instanceof UserError &&
        e.where?.file === 'versions.yaml' &&
        e.where.line === 4 &&
        e.message ===
          "http-connector runs 0.1.0 in 'devtest', and v0.1.0-rc.7 (from images.json (http-connector)) is a pre-release of that same 0.1.0, which SemVer orders before the release, so this move is a downgrade. " +
            "Either bump the crate's version (to 0.1.1 or later) so its candidates are newer, build a release without preRelease, or set allowDowngrade: true for this one run.",
    );
    assert.throws(() => check('v2.3.4', '2.3.4-rc5680'), /is a pre-release of that same 2\.3\.4, .* \(to 2\.3\.5 or later\)/);
  });

  it('keeps the plain downgrade message for an older release, and lets a candidate of the next version through', () => {
    assert.throws(() => check('0.2.0', 'v0.1.9-rc.1'), /http-connector would move down from 0\.2\.0 to v0\.1\.9-rc\.1 in 'devtest' .*set allowDowngrade: true/);
    assert.throws(() => check('0.1.0-rc.9', '0.1.0-rc.8'), /would move down from 0\.1\.0-rc\.9/);
    assert.deepEqual(check('0.1.0', 'v0.1.1-rc.1'), []);
    assert.deepEqual(checkVersionPolicies('devtest', desired('v0.1.0-rc.7'), running('0.1.0'), { maxBump: 'major', allowDowngrade: true }), []);
  });
});
