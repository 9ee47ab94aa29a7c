import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageNameProblem, parseManifest, readManifest } from '../../../shared/cargo/manifest';
import { formatError, UserError } from '../../../shared/errors';

const FILE = path.resolve('/repo/crates/a/Cargo.toml');

describe('cargo: manifests Cargo itself refuses', () => {
  it('accepts the package names Cargo accepts', () => {
    for (const name of ['a', 'heuristic', 'edge-http-connector', '_private', 'ab-', 'é', 'snake_case2']) assert.equal(packageNameProblem(name), undefined, name);
  });

  it('refuses names with shell metacharacters, spaces, control characters or a leading digit, naming file and line', () => {
    for (const name of ['$(reboot)', ';rm -rf', '`id`', 'a\nb', 'a b', '1abc', '-a', 'a+b', 'a.b', 'a/b', '..', '']) {
      const text = `[package]\nname = ${JSON.stringify(name)}\nversion = "1.0.0"\n`;
      assert.throws(
        () => parseManifest(FILE, text),
        (error: unknown) => {
          assert.ok(error instanceof UserError, String(error));
          assert.equal(error.where?.file, FILE);
          assert.equal(error.where?.line, 2, name);
          assert.match(error.message, /not a valid Cargo package name|has no `name`/);
          return true;
        },
        name,
      );
    }
  });

  it('refuses a Cargo.toml that is not UTF-8, pointing at the line of the first bad byte; a BOM is fine', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'manifest-utf8-'));
    try {
      const file = path.join(dir, 'Cargo.toml');
      await fs.writeFile(file, Buffer.from('[package]\nversion = "1.0.0"\nname = "caf\xe9"\n', 'latin1'));
      assert.throws(() => readManifest(file), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(formatError(error), `${file}:3: Cargo.toml is not valid UTF-8 (Cargo refuses it): save it as UTF-8.`);
        return true;
      });
      await fs.writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[package]\nname = "a"\nversion = "1.0.0"\n')]));
      assert.equal(readManifest(file).package?.name, 'a');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
