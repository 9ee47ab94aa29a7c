import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeAllOrNothing } from '../../shared/files';

/** Every entry under `dir` (hidden ones included) with its bytes and mode, to compare before and after. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    out[name] = stat.isDirectory() ? `dir ${(stat.mode & 0o777).toString(8)}` : `${(stat.mode & 0o777).toString(8)} ${readFileSync(full).toString('base64')}`;
  }
  return out;
}

describe('writeAllOrNothing', () => {
  let dir: string;
  const at = (...parts: string[]) => path.join(dir, ...parts);
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'all-or-nothing-'));
    mkdirSync(at('overlay'));
    writeFileSync(at('versions.yaml'), 'schemaVersion: 1\n# before\n');
    writeFileSync(at('overlay', 'kustomization.yaml'), 'images: []\n');
    chmodSync(at('overlay', 'kustomization.yaml'), 0o640);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces every file, keeping each one\'s mode, and leaves no temporary or backup file', () => {
    const before = tree(dir);
    const mode = (file: string) => before[file].split(' ')[0];
    writeAllOrNothing(new Map([[at('versions.yaml'), 'after\n'], [at('overlay', 'kustomization.yaml'), 'images: [a]\n'], [at('overlay', 'new.yaml'), 'new\n']]));
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    assert.deepEqual(tree(dir), {
      ...before,
      'overlay/kustomization.yaml': `640 ${base64('images: [a]\n')}`,
      'overlay/new.yaml': `${mode('versions.yaml')} ${base64('new\n')}`,
      'versions.yaml': `${mode('versions.yaml')} ${base64('after\n')}`,
    });
  });

  it('puts back every file replaced before a rename that fails, and removes the files it created', () => {
    mkdirSync(at('overlay', 'deploy.yaml'));
    writeFileSync(at('overlay', 'deploy.yaml', 'inside'), 'x');
    const before = tree(dir);
    const files = new Map([
      [at('versions.yaml'), 'after\n'],
      [at('overlay', 'new.yaml'), 'new\n'],
      [at('overlay', 'kustomization.yaml'), 'images: [a]\n'],
      // a directory where a file should be: staged like the others, its rename is refused
      [at('overlay', 'deploy.yaml'), 'kind: Deployment\n'],
      [at('later.yaml'), 'never written\n'],
    ]);
    assert.throws(
      () => writeAllOrNothing(files),
      (error: Error) => {
        assert.match(error.message, /^Replacing .*overlay\/deploy\.yaml failed \(E\w+: .*\); the 3 file\(s\) replaced before it are as they were\.$/);
        return true;
      },
    );
    assert.deepEqual(tree(dir), before);
  });

  it('takes a copy where a hard link cannot be made (here: a stale backup of a crashed run in the way)', () => {
    mkdirSync(at('overlay', 'deploy.yaml'));
    writeFileSync(at(`.versions.yaml.${process.pid}.0.bak`), 'stale');
    const before = tree(dir);
    assert.throws(() => writeAllOrNothing(new Map([[at('versions.yaml'), 'after\n'], [at('overlay', 'deploy.yaml'), 'x\n']])), /the 1 file\(s\) replaced before it are as they were/);
    delete before[`.versions.yaml.${process.pid}.0.bak`];
    assert.deepEqual(tree(dir), before);
  });

  it('changes nothing when a file cannot be staged', () => {
    const before = tree(dir);
    assert.throws(() => writeAllOrNothing(new Map([[at('versions.yaml'), 'after\n'], [at('missing', 'x.yaml'), 'x\n']])), /ENOENT/);
    assert.deepEqual(tree(dir), before);
  });
});
