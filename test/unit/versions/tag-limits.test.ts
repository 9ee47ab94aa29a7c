import * as assert from 'node:assert/strict';
import { shown } from '../../../shared/errors';
import { gitTag } from '../../../shared/git/tag-name';
import { validateImageTag } from '../../../shared/images/names';

describe('versions: tags that cannot reach git or a registry', () => {
  it('refuses a tag whose part is longer than a file name may be, or that holds a NUL, as a UserError (not E2BIG)', async () => {
    for (const name of ['a'.repeat(256), 'a'.repeat(300_000)]) {
      await assert.rejects(gitTag('{name}/{version}', { name, version: '1.0.0' }), (error: Error) => {
        assert.equal(error.name, 'UserError');
        assert.match(error.message, /longer than 255 bytes/);
        assert.ok(error.message.length < 600, `message of ${error.message.length} characters`);
        return true;
      });
    }
    assert.equal(await gitTag('{name}/{version}', { name: 'a'.repeat(255), version: '1.0.0' }), `${'a'.repeat(255)}/1.0.0`);
    await assert.rejects(gitTag('{name}/{version}\u0000', { name: 'a', version: '1.0.0' }), { name: 'UserError', message: /"a\/1\.0\.0\\u0000"/ });
  });

  it('quotes values from inputs visibly and briefly', () => {
    assert.equal(shown('v1.0.0'), "'v1.0.0'");
    assert.equal(shown('a\nb'), '"a\\nb"');
    assert.equal(shown('x'.repeat(150)), `"${'x'.repeat(100)}"... (150 characters)`);
    assert.throws(() => validateImageTag(`v1-${'y'.repeat(1_000_000)}`), (error: Error) => error.message.length < 400);
  });
});

describe('git: refs no process can be asked about', () => {
  it('isValidRef says no to a NUL or a 100 KB name instead of throwing', async () => {
    const { Git } = await import('../../../shared/git/git');
    assert.equal(await Git.isValidRef('refs/heads/a\u0000b'), false);
    assert.equal(await Git.isValidRef(`refs/heads/${'a/'.repeat(100_000)}b`), false);
    assert.equal(await Git.isValidRef('refs/heads/gitops/devtest'), true);
  });
});
