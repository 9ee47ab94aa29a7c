import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { gitTag, tagValues } from '../../../shared/git/tag-name';
import { imageTag, validateImageTag, validateRepository } from '../../../shared/images/names';

const heuristic = { name: 'heuristic', version: '1.4.2' };

describe('versions: tags', () => {
  describe('gitTag', () => {
    it('fills the default and the alternative formats', async () => {
      assert.equal(await gitTag('{name}/{version}', heuristic), 'heuristic/1.4.2');
      assert.equal(await gitTag('{name}-v{version}', heuristic), 'heuristic-v1.4.2');
      assert.equal(await gitTag('{name}/{version}', { name: 'x', version: '2.0.0-rc10' }), 'x/2.0.0-rc10');
      assert.equal(await gitTag('release/{name}/v{version}', heuristic), 'release/heuristic/v1.4.2');
    });

    it('fills {dir}, the component’s folder name (the searched folder’s for a package at its root), as the original scripts tagged', async () => {
      const broker = tagValues({ name: 'http-connector', version: '0.1.0', path: 'src/500-application/502-rust-http-connector/services/broker' }, '/repo');
      assert.deepEqual(broker, { name: 'http-connector', version: '0.1.0', dir: 'broker' });
      assert.equal(await gitTag('{dir}/{version}', broker), 'broker/0.1.0');
      assert.equal(tagValues({ name: 'edgectl', version: '1.0.0', path: '.' }, path.join('/work', 'edgectl-repo')).dir, 'edgectl-repo');
    });

    it('refuses a result git does not accept as a ref, saying why', async () => {
      for (const format of ['{name}..{version}', '{name} {version}', '{name}/{version}.lock', '{name}~{version}', '{name}:{version}', '{name}/', '{name}^{version}', '{name}@{version}*']) {
        await assert.rejects(gitTag(format, heuristic), (error: Error) => {
          assert.equal(error.name, 'UserError', format);
          assert.match(error.message, /not a valid git tag \(see git check-ref-format\)/);
          assert.ok(error.message.includes(`tagFormat '${format}'`), error.message);
          return true;
        });
      }
    });

    it('refuses an unknown placeholder, listing the known ones', async () => {
      await assert.rejects(gitTag('{component}/{version}', heuristic), {
        name: 'UserError',
        message: /uses \{component\}, which is not known: use \{name\}, \{version\}/,
      });
    });
  });

  describe('imageTag', () => {
    it('defaults to v{version}, appends the pre-release', () => {
      assert.equal(imageTag('1.4.2'), 'v1.4.2');
      assert.equal(imageTag('1.4.2', { preRelease: 'rc.1234' }), 'v1.4.2-rc.1234');
      assert.equal(imageTag('1.4.2', { format: '{version}' }), '1.4.2');
      assert.equal(imageTag('1.4.2', { format: '' }), 'v1.4.2');
    });

    it('refuses a + with an explanation of why and what to use instead', () => {
      assert.throws(() => imageTag('1.4.2+build.5'), { name: 'UserError', message: /contains '\+'.*registries do not allow.*use '-' instead/ });
      assert.throws(() => imageTag('1.4.2', { preRelease: 'rc+5' }), { name: 'UserError', message: /contains '\+'/ });
    });

    it('refuses an unknown placeholder in imageTagFormat', () => {
      assert.throws(() => imageTag('1.4.2', { format: '{name}-{version}' }), { name: 'UserError', message: /imageTagFormat '\{name\}-\{version\}' uses \{name\}/ });
    });
  });

  describe('validateImageTag', () => {
    it('accepts the OCI tag grammar, up to 128 characters', () => {
      for (const tag of ['v1', 'latest', '_x', '1.2.3-rc.5', 'A_b.c-d', 'x'.repeat(128)]) assert.equal(validateImageTag(tag), tag);
    });

    it('refuses what registries refuse', () => {
      for (const tag of ['', '.v1', '-v1', 'v 1', 'v1/2', 'x'.repeat(129), 'ü']) {
        assert.throws(() => validateImageTag(tag), { name: 'UserError', message: /is not a valid image tag/ }, JSON.stringify(tag));
      }
    });
  });

  describe('validateRepository', () => {
    it('accepts lowercase paths with separators', () => {
      for (const repo of ['edge/heuristic', 'a', 'a.b_c__d---e/f0', 'team/sub/app']) assert.equal(validateRepository(repo), repo);
    });

    it('refuses uppercase, leading or doubled separators and over-long names', () => {
      for (const repo of ['Edge/app', '/app', 'app/', 'a//b', 'a..b', '-a', 'a_', 'a'.repeat(256)]) {
        assert.throws(() => validateRepository(repo), { name: 'UserError' }, repo);
      }
    });
  });
});
