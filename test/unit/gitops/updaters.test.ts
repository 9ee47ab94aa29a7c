import { strict as assert } from 'node:assert';
import * as kustomization from '../../../shared/updaters/kustomization';
import * as setters from '../../../shared/updaters/setters';
import * as workloads from '../../../shared/updaters/workloads';
import { UserError } from '../../../shared/errors';
import type { ImageChange } from '../../../shared/updaters/change';
import { CHANGES, crlf, D, fixture } from './fixtures';

type Updater = (text: string, changes: readonly ImageChange[], file?: string) => { text: string; touched: string[] };

const cases: Array<{ name: string; update: Updater; changes: ImageChange[]; touched: string[] }> = [
  { name: 'kustomization-2space', update: kustomization.update, changes: CHANGES, touched: ['collector', 'heuristic'] },
  {
    name: 'kustomization-4space',
    update: kustomization.update,
    changes: [{ component: 'heuristic', from: { name: 'myacr.azurecr.io/edge/heuristic', tag: 'v1.4.1' }, to: { name: 'myacr.azurecr.io/edge/heuristic', tag: 'v1.5.0', digest: D('2') } }],
    touched: ['heuristic'],
  },
  { name: 'workloads-multi', update: workloads.update, changes: CHANGES, touched: ['collector', 'heuristic'] },
  { name: 'workloads-kinds', update: workloads.update, changes: CHANGES, touched: ['collector', 'heuristic'] },
  { name: 'setters-helmrelease', update: setters.update, changes: CHANGES, touched: ['collector', 'heuristic'] },
  { name: 'setters-values', update: setters.update, changes: CHANGES, touched: ['collector'] },
];

/** Lines that differ between two texts, as [before, after] pairs (same line count expected). */
function changedLines(before: string, after: string): Array<[string, string]> {
  const a = before.split('\n');
  const b = after.split('\n');
  return a.map((line, i) => [line, b[i]] as [string, string]).filter(([x, y]) => x !== y);
}

describe('updaters: only the changed values change', () => {
  for (const c of cases) {
    describe(c.name, () => {
      const input = fixture('updaters', `${c.name}.yaml`);
      const expected = fixture('updaters', `${c.name}.expected.yaml`);

      it('gives exactly the expected bytes (LF)', () => {
        const result = c.update(input, c.changes);
        assert.equal(result.text, expected);
        assert.deepEqual(result.touched, c.touched);
      });

      it('gives exactly the expected bytes with CRLF line endings, and no bare LF appears', () => {
        const result = c.update(crlf(input), c.changes);
        assert.equal(result.text, crlf(expected));
        assert.equal(/[^\r]\n/.test(result.text), false);
      });

      it('changes nothing when already up to date', () => {
        const result = c.update(expected, c.changes);
        assert.equal(result.text, expected);
        assert.deepEqual(result.touched, []);
      });

      it('changes nothing when no change concerns the file', () => {
        const other: ImageChange[] = [{ component: 'router', to: { name: 'myacr.azurecr.io/router', tag: 'v9.9.9' } }];
        assert.equal(c.update(input, other).text, input);
      });
    });
  }

  it('keeps every line that holds no changed value byte-identical (workloads)', () => {
    const input = fixture('updaters', 'workloads-multi.yaml');
    const result = workloads.update(input, CHANGES);
    for (const [before, after] of changedLines(input, result.text)) {
      const prefix = before.slice(0, before.indexOf('image:'));
      assert.ok(after.startsWith(prefix), `indentation kept: ${after}`);
      assert.match(before, /image: /);
    }
  });

  it('moves an image to another repository when the lock names a new one', () => {
    const text = 'kind: Kustomization\nimages:\n  - name: heuristic\n    newTag: v1\n';
    const change: ImageChange = { component: 'heuristic', from: { name: 'myacr.azurecr.io/heuristic' }, to: { name: 'newacr.azurecr.io/edge/heuristic', tag: 'v2' } };
    assert.equal(kustomization.update(text, [change]).text, 'kind: Kustomization\nimages:\n  - name: heuristic\n    newTag: v2\n    newName: newacr.azurecr.io/edge/heuristic\n');
  });

  it('adds newTag to an entry that had only a digest, at the end of a file without final newline', () => {
    const text = `images:\n- name: myacr.azurecr.io/heuristic\n  digest: ${D('a')}`;
    const change: ImageChange = { component: 'heuristic', to: { name: 'myacr.azurecr.io/heuristic', tag: 'v3', digest: D('b') } };
    assert.equal(kustomization.update(text, [change]).text, `images:\n- name: myacr.azurecr.io/heuristic\n  digest: ${D('b')}\n  newTag: v3`);
    const moved: ImageChange = { component: 'heuristic', from: { name: 'myacr.azurecr.io/heuristic' }, to: { name: 'other.io/heuristic', tag: 'v3', digest: D('b') } };
    assert.equal(kustomization.update('images:\n- name: myacr.azurecr.io/heuristic', [moved]).text, `images:\n- name: myacr.azurecr.io/heuristic\n  newName: other.io/heuristic\n  newTag: v3\n  digest: ${D('b')}`);
  });

  it('edits flow-style entries in place: adds and removes pairs inside the braces', () => {
    const text = `images:\n  - {name: heuristic, newName: myacr.azurecr.io/heuristic, newTag: v1.4.1}   # flow\n  - {name: myacr.azurecr.io/collector, digest: "sha256:${'a'.repeat(64)}", newTag: v2.0.0}\n`;
    assert.equal(
      kustomization.update(text, CHANGES).text,
      `images:\n  - {name: heuristic, newName: myacr.azurecr.io/heuristic, newTag: v1.4.2, digest: ${D('1')}}   # flow\n  - {name: myacr.azurecr.io/collector, newTag: v2.1.0}\n`,
    );
  });

  it('does not confuse repositories that share a last path part', () => {
    const text = 'kind: Pod\nspec:\n  containers:\n  - image: other/heuristic:v1\n  - image: myacr.azurecr.io/team/heuristic:v1\n';
    const change: ImageChange = { component: 'heuristic', to: { name: 'myacr.azurecr.io/heuristic', tag: 'v2' } };
    assert.equal(workloads.update(text, [change]).text, text);
  });

  it('quotes a tag that would otherwise read as a number', () => {
    const text = 'images:\n- name: heuristic\n  newTag: v1\n';
    const change: ImageChange = { component: 'heuristic', to: { name: 'heuristic', tag: '1.5' } };
    assert.equal(kustomization.update(text, [change]).text, 'images:\n- name: heuristic\n  newTag: "1.5"\n');
  });

  it('workloads: containers that are not a list, or an image that is not a reference, are refused naming the line', () => {
    const refused = (text: string, line: number, message: RegExp) =>
      assert.throws(
        () => workloads.update(text, CHANGES, 'base/app.yaml'),
        (error: unknown) => error instanceof UserError && error.where?.file === 'base/app.yaml' && error.where.line === line && message.test(error.message),
      );
    const deployment = (containers: string) => `kind: Deployment\nspec:\n  template:\n    spec:\n      containers:${containers}\n`;
    refused(deployment(' myacr.azurecr.io/heuristic:v1.4.1'), 5, /'containers' of this Deployment must be a list of containers, not the string/);
    refused(deployment('\n        image: myacr.azurecr.io/heuristic:v1.4.1'), 6, /must be a list of containers, not a mapping/);
    refused(deployment('\n      - name: app\n        image:\n          name: myacr.azurecr.io/heuristic'), 8, /'image' must be an image reference, not a mapping/);
  });

  it('workloads: an image through an alias is left alone unless it is a changed component, then refused', () => {
    const pod = (image: string) =>
      `kind: Pod\nmetadata:\n  annotations:\n    sidecar: &img ${image}\nspec:\n  containers:\n  - name: side\n    image: *img\n  - name: app\n    image: myacr.azurecr.io/heuristic:v1.4.1\n`;
    const other = pod('docker.io/library/busybox:1.36');
    assert.equal(workloads.update(other, CHANGES).text, other.replace('heuristic:v1.4.1', `heuristic:v1.4.2@${D('1')}`));
    assert.throws(
      () => workloads.update(pod('myacr.azurecr.io/collector:v2.0.0'), CHANGES, 'base/pod.yaml'),
      (error: unknown) =>
        error instanceof UserError && error.where?.line === 8 && /component 'collector' must be written out here to be updated, not an alias \(\*img\)/.test(error.message),
    );
  });

  for (const [name, update] of [['kustomization', kustomization.update], ['workloads', workloads.update], ['setters', setters.update]] as const) {
    it(`${name}: malformed YAML is a UserError naming the file and line`, () => {
      const text = 'kind: Deployment\nspec:\n  template:\n    spec:\n      containers: [\n        - image: x\n';
      assert.throws(
        () => update(text, CHANGES, 'environments/devtest/broken.yaml'),
        (error: unknown) => error instanceof UserError && error.where?.file === 'environments/devtest/broken.yaml' && typeof error.where.line === 'number' && error.where.line > 1,
      );
    });
  }
});
