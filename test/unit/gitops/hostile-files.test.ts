import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatError, type UserError } from '../../../shared/errors';
import { MAX_DEPTH, parseDocuments } from '../../../shared/updaters/yaml-text';
import { updateGitOps } from '../../../shared/flows/update-gitops';
import { testLog } from '../../helpers/gitops-tree';

const LOCK = 'schemaVersion: 1\nenvironments:\n  devtest:\n    heuristic:\n      image: reg.example.com/heuristic\n      tag: v1.4.2\n';
const KUSTOMIZATION = 'resources:\n  - deploy.yaml\nimages:\n  - name: reg.example.com/heuristic\n    newTag: v1.4.2\n';
const DEPLOYMENT = 'kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: h\n          image: reg.example.com/heuristic:v1.4.2\n';

describe('gitops: files that are not what they should be', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gitops-hostile-'));
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  async function update(files: Record<string, string | Buffer>) {
    const all: Record<string, string | Buffer> = {
      'versions.yaml': LOCK,
      'environments/devtest/kustomization.yaml': KUSTOMIZATION,
      'environments/devtest/deploy.yaml': DEPLOYMENT,
      ...files,
    };
    for (const [file, content] of Object.entries(all)) {
      await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await fs.writeFile(path.join(dir, file), content);
    }
    return updateGitOps({ gitopsPath: dir, environment: 'devtest', images: ['heuristic=v1.4.3'], pinDigest: false }, testLog());
  }

  const latin1 = (text: string) => Buffer.concat([Buffer.from(text), Buffer.from('# caf\xe9\n', 'latin1')]);

  for (const file of ['versions.yaml', 'environments/devtest/deploy.yaml']) {
    it(`refuses a ${file} that is not UTF-8, naming file and line, and writes nothing (it would come back with U+FFFD)`, async () => {
      const original = latin1(file === 'versions.yaml' ? LOCK : DEPLOYMENT);
      await assert.rejects(update({ [file]: original }), (error: Error) => {
        assert.equal(error.name, 'UserError');
        assert.equal(formatError(error), `${file}:${file === 'versions.yaml' ? 7 : 8}: ${file} is not valid UTF-8: save it as UTF-8 and run again.`);
        return true;
      });
      assert.deepEqual(await fs.readFile(path.join(dir, file)), original);
      if (file !== 'versions.yaml') assert.equal(await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8'), LOCK);
    });
  }

  it('keeps a byte order mark of the lock as it was', async () => {
    await update({ 'versions.yaml': `\ufeff${LOCK}` });
    const bytes = await fs.readFile(path.join(dir, 'versions.yaml'));
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.match(bytes.toString('utf8'), /tag: v1\.4\.3/);
  });

  for (const [what, images, line] of [
    ['a mapping', 'images:\n  name: reg.example.com/heuristic\n', 2],
    ['a string', 'images: reg.example.com/heuristic\n', 1],
    ['a list of strings', 'images:\n  - reg.example.com/heuristic\n', 2],
    ['an alias', 'x: &e\n  name: reg.example.com/heuristic\nimages:\n  - *e\n', 4],
  ] as const) {
    it(`refuses kustomization images that are ${what}, naming file and line (kustomize refuses them too)`, async () => {
      await assert.rejects(update({ 'environments/devtest/kustomization.yaml': `resources:\n  - deploy.yaml\n${images}`.replace('resources:\n  - deploy.yaml\nx:', 'x:') }), (error: Error) => {
        assert.equal(error.name, 'UserError');
        assert.match(formatError(error), new RegExp(`^environments/devtest/kustomization\\.yaml:${line + (what === 'an alias' ? 0 : 2)}: `));
        assert.match(error.message, /'images' must be a list|Each 'images' entry must be a mapping/);
        return true;
      });
      assert.equal(await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8'), LOCK);
    });
  }

  // Beyond about a thousand levels the YAML parser runs out of stack; that is a message about the file, not the engine's.
  const deep: Array<[string, string, string, number]> = [
    ['10,000 nested [ in the lock', 'versions.yaml', `${LOCK}  qa: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, 7],
    ['10,000 nested "- " on one line of a manifest', 'environments/devtest/deploy.yaml', `${DEPLOYMENT}---\n${'- '.repeat(10_000)}x\n`, 9],
    ['1,000 indented list levels in a kustomization', 'environments/devtest/kustomization.yaml', `${KUSTOMIZATION}x:\n${Array.from({ length: 1_000 }, (_, i) => `${' '.repeat(i + 1)}-`).join('\n')} y\n`, 0],
    ['10,000 nested { in a manifest', 'environments/devtest/deploy.yaml', `${DEPLOYMENT}---\n${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`, 9],
  ];
  it(`reads lists and mappings nested ${MAX_DEPTH} levels deep, and refuses one level more, whatever the engine's stack`, () => {
    const nested = (levels: number) => `a: ${'['.repeat(levels - 1)}x${']'.repeat(levels - 1)}\n`;
    assert.equal(parseDocuments(nested(MAX_DEPTH), 'deep.yaml').length, 1);
    assert.throws(() => parseDocuments(nested(MAX_DEPTH + 1), 'deep.yaml'), /^UserError: deep\.yaml is nested too deeply: .* more than 256 levels down/);
  });

  for (const [what, file, text, line] of deep) {
    it(`refuses ${what} as nested too deeply, naming the file and line, and writes nothing`, async () => {
      await assert.rejects(update({ [file]: text }), (error: Error) => {
        assert.equal(error.name, 'UserError');
        const where = (error as UserError).where!;
        assert.equal(where.file, file);
        if (line) assert.equal(where.line, line);
        else assert.ok(where.line! > 7, `line ${where.line}`);
        assert.match(error.message, new RegExp(`^${file.replace(/\./g, '\\.')} is nested too deeply: .*fix the file and run again\\.$`));
        assert.doesNotMatch(error.message, /call stack/);
        return true;
      });
      assert.equal(await fs.readFile(path.join(dir, file), 'utf8'), text);
      if (file !== 'versions.yaml') assert.equal(await fs.readFile(path.join(dir, 'versions.yaml'), 'utf8'), LOCK);
    });
  }
});
