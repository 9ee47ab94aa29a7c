import { strict as assert } from 'node:assert';
import { UserError } from '../../../shared/errors';
import { type ImageChange, updateText } from '../../../shared/updaters/change';
import { fileImageValues, findHelmValuesEdits, parseHelmValues, suggestMapping } from '../../../shared/updaters/helm-values';
import { appendToRootList, type ImagesPin, pinImageEdits } from '../../../shared/updaters/kustomization';
import { applyEdits, formatScalar, parseDocuments } from '../../../shared/updaters/yaml-text';
import { crlf, D } from './fixtures';

const R = 'myacr.azurecr.io';
const change = (tag: string, digest?: string): ImageChange => ({ component: 'heuristic', from: { name: `${R}/heuristic`, tag: 'v1.4.1' }, to: { name: `${R}/heuristic`, tag, digest } });

describe('helmValues: which Helm values keys hold an image', () => {
  it('reads tag-only lines, part lists, and comments', () => {
    assert.deepEqual(parseHelmValues(['heuristic=image.tag', ' collector = repository:app.image.repository, tag:app.image.tag ,digest:app.image.digest', '# note', '', 'web=image:sidecar.image']), [
      { component: 'heuristic', paths: { tag: ['image', 'tag'] }, origin: 'helmValues line 1' },
      { component: 'collector', paths: { repository: ['app', 'image', 'repository'], tag: ['app', 'image', 'tag'], digest: ['app', 'image', 'digest'] }, origin: 'helmValues line 2' },
      { component: 'web', paths: { image: ['sidecar', 'image'] }, origin: 'helmValues line 5' },
    ]);
  });

  for (const [lines, message] of [
    [['image.tag'], /helmValues line 1 \('image.tag'\) has no component before '='/],
    [['heuristic=repository:image.repository'], /says where heuristic's repository or digest is but not its tag/],
    [['heuristic=colour:image.tag,tag:image.tag'], /'colour:image.tag' is not a part:path.to.key/],
    [['heuristic=image:image,tag:image.tag'], /'image' holds the whole reference; it cannot be combined/],
    [['heuristic=image..tag'], /is not a part:path.to.key/],
    [['heuristic=image.tag', 'collector=image.tag'], /helmValues line 1 \(heuristic\) and helmValues line 2 \(collector\) both say the tag is at image.tag: add 'repository:path'/],
  ] as Array<[string[], RegExp]>) {
    it(`refuses ${JSON.stringify(lines)}`, () => assert.throws(() => parseHelmValues(lines), (error: unknown) => error instanceof UserError && message.test(error.message)));
  }

  const update = (text: string, lines: string[], changes = [change('v1.4.2', D('1'))]) =>
    updateText((parsed, c) => findHelmValuesEdits(parsed, c, parseHelmValues(lines)), text, changes, 'values.yaml');

  it('edits a values file in place, quoting kept, a digest added beside the tag (CRLF kept)', () => {
    const text = `image:\n  repository: ${R}/heuristic   # ours\n  tag: 'v1.4.1'\nother:\n  tag: v9\n`;
    const expected = `image:\n  repository: ${R}/heuristic   # ours\n  tag: 'v1.4.2'\n  digest: '${D('1')}'\nother:\n  tag: v9\n`;
    const lines = ['heuristic=repository:image.repository,tag:image.tag,digest:image.digest'];
    assert.deepEqual(update(text, lines), { text: expected, touched: ['heuristic'] });
    assert.equal(update(crlf(text), lines).text, crlf(expected));
    assert.deepEqual(update(expected, lines), { text: expected, touched: [] });
  });

  it("edits a HelmRelease's spec.values, and leaves values of another repository and other kinds alone", () => {
    const release = (repo: string) => `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\nspec:\n  values:\n    image: {repository: ${repo}, tag: v1.4.1}\n`;
    const lines = ['heuristic=repository:image.repository,tag:image.tag'];
    assert.equal(update(release(`${R}/heuristic`), lines).text, release(`${R}/heuristic`).replace('tag: v1.4.1', 'tag: v1.4.2'));
    assert.equal(update(release(`${R}/collector`), lines).text, release(`${R}/collector`));
    const configMap = `kind: ConfigMap\ndata:\n  image:\n    tag: v1.4.1\n`;
    assert.equal(update(configMap, ['heuristic=image.tag']).text, configMap);
  });

  it('sets a whole reference, keeping the registry as written', () => {
    assert.equal(update('sidecar:\n  image: "heuristic:v1.4.1"\n', ['heuristic=image:sidecar.image'], [change('v1.4.2')]).text, 'sidecar:\n  image: "heuristic:v1.4.2"\n');
  });
});

describe('kustomization pins: an images entry or a patches entry added in the file\'s own style', () => {
  const pin = (text: string, p: ImagesPin = { name: `${R}/heuristic`, newTag: 'v1.4.2' }) => {
    const edits = pinImageEdits({ file: 'kustomization.yaml', text, documents: parseDocuments(text, 'kustomization.yaml', 'failsafe') }, p);
    return edits && applyEdits(text, edits);
  };

  it('appends to an existing images list in its indentation', () => {
    assert.equal(pin('images:\n    -   name: a\n        newTag: v1\n'), `images:\n    -   name: a\n        newTag: v1\n    -   name: ${R}/heuristic\n        newTag: v1.4.2\n`);
    assert.equal(pin('images: [{name: a, newTag: v1}]\n'), `images: [{name: a, newTag: v1}, {name: ${R}/heuristic, newTag: v1.4.2}]\n`);
  });

  it('adds an images list in the style of the other lists, at the end (no final newline kept; CRLF kept)', () => {
    assert.equal(pin('resources:\n- ../../base'), `resources:\n- ../../base\nimages:\n- name: ${R}/heuristic\n  newTag: v1.4.2\n`);
    assert.equal(pin('resources:\r\n  - ../../base\r\n'), `resources:\r\n  - ../../base\r\nimages:\r\n  - name: ${R}/heuristic\r\n    newTag: v1.4.2\r\n`);
    assert.equal(pin('resources:\n  - ../../base\nimages:\n'), `resources:\n  - ../../base\nimages:\n  - name: ${R}/heuristic\n    newTag: v1.4.2\n`);
    assert.equal(pin('images: null\nresources: [../../base]\n'), `images:\n- name: ${R}/heuristic\n  newTag: v1.4.2\nresources: [../../base]\n`);
  });

  it('updates the entry of that name exactly: newName, newTag, digest added or removed', () => {
    const text = `images:\n  - name: heuristic\n    newName: old.io/heuristic\n    newTag: "v1"\n    digest: ${D('a')}\n`;
    assert.equal(pin(text, { name: 'heuristic', newName: `${R}/heuristic`, newTag: 'v1.4.2' }), `images:\n  - name: heuristic\n    newName: ${R}/heuristic\n    newTag: "v1.4.2"\n`);
  });

  it('refuses what it cannot edit safely', () => {
    assert.equal(pin('{resources: [../../base]}\n'), undefined);
    assert.equal(pin('images: heuristic\n'), undefined);
  });

  it('adds a patches entry', () => {
    const text = 'resources:\n  - ../../base\n';
    const edit = appendToRootList(text, parseDocuments(text, 'k', 'failsafe')[0], 'patches', [['path', 'p.yaml']]);
    assert.equal(applyEdits(text, [edit!]), 'resources:\n  - ../../base\npatches:\n  - path: p.yaml\n');
  });
});

describe('scalars written plain only where YAML 1.1 (kustomize, Helm) and 1.2 both read a string', () => {
  for (const [value, written] of [['v1.4.2', 'v1.4.2'], ['4.8-apache', '4.8-apache'], ['5.6', '"5.6"'], ['on', '"on"'], ['yes', '"yes"'], ['y', '"y"'], ['1_0', '"1_0"']]) {
    it(`${value} -> ${written}`, () => assert.equal(formatScalar(value, undefined), written));
  }
});

describe('Helm values that hold a changed image without a helmValues line', () => {
  const values = (text: string) => fileImageValues({ file: 'values.yaml', text, documents: parseDocuments(text, 'values.yaml', 'failsafe') }, [change('v1.4.2')]);

  it('are found with their path, and a suggestion for the line that covers them', () => {
    const found = values(`app:\n  image:\n    repository: ${R}/heuristic\n    tag: v1.4.1\n  sidecar: ${R}/heuristic:v1.4.1\n  name: heuristic\n`);
    assert.deepEqual(found.map((v) => [v.path.join('.'), suggestMapping(v)]), [
      ['app.image.repository', 'heuristic=repository:app.image.repository,tag:app.image.tag'],
      ['app.sidecar', 'heuristic=image:app.sidecar'],
    ]);
  });

  it('are not those a Flux marker sets, nor those of other images or kinds', () => {
    assert.deepEqual(values(`image:\n  repository: ${R}/heuristic\n  tag: v1.4.1 # {"$imagepolicy": "flux-system:heuristic:tag"}\n`), []);
    assert.deepEqual(values(`image:\n  repository: ${R}/collector\n  tag: v1\n`), []);
    assert.deepEqual(values(`kind: ConfigMap\ndata:\n  image: ${R}/heuristic:v1\n`), []);
  });
});
