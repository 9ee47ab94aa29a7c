import * as path from 'node:path';
import { type Document, type Scalar, visit } from 'yaml';
import { UserError } from '../errors';
import { parseImageRef, sameRepository } from '../images/reference';
import { splitImage } from '../kustomize/images';
import { containerImages, type ContainerImage, describeId, type Render, type RenderedResource } from '../kustomize/render';
import { get, type Leaf, lineAt, type Origin, scalarsOf } from '../kustomize/tree';
import { changeFor, type ImageChange, newReference, type ParsedFile } from '../updaters/change';
import { fileImageValues, type HelmMapping, imageValues, type ImageValue, mappedValues, suggestMapping } from '../updaters/helm-values';
import { appendToRootList, type ImagesPin, pinImageEdits } from '../updaters/kustomization';
import { applyEdits, type Edit, eolOf, formatScalar, parseDocuments, setScalar } from '../updaters/yaml-text';
import type { Environment } from './environment';

/**
 * Success means the environment renders the new images. After the in-place edits, each root kustomization
 * of the environment is rendered (kustomize's own rules, see kustomize/render.ts); a changed component that
 * still renders an old value is fixed where the environment owns the value, never in a shared base:
 * - a value written in one of the environment's files (a resource, a patch, an `images:` entry) is edited there;
 * - a value from outside the environment's folder is pinned in the root kustomization: an `images:` entry
 *   for a container image, a strategic-merge patch file for a HelmRelease's values.
 * Then the environment is rendered again; anything still wrong (or a Helm value no helmValues line covers)
 * fails the run before anything is written, naming the environment's folder, the files and the fix.
 */

type Mismatch =
  | { kind: 'container'; render: Render; change: ImageChange; container: ContainerImage; expected: string }
  | { kind: 'value'; render: Render; change: ImageChange; resource: RenderedResource; path: string[]; leaf?: Leaf; expected: string }
  | { kind: 'unmapped'; render: Render; change: ImageChange; value: ImageValue };

const runsNew = (image: string, change: ImageChange) => {
  const { name, tag, digest } = splitImage(image);
  return sameRepository(name, change.to.name) && tag === change.to.tag && digest === (change.to.digest ?? '');
};

/** What the renders run for changed components that is not their new image, and Helm values no mapping covers. */
export function findMismatches(renders: Render[], changes: readonly ImageChange[], mappings: readonly HelmMapping[]): Mismatch[] {
  const out: Mismatch[] = [];
  for (const render of renders) {
    for (const container of containerImages(render)) {
      const change = changeFor(changes, splitImage(container.image).name);
      if (change && !runsNew(container.image, change)) out.push({ kind: 'container', render, change, container, expected: newReference(change, parseImageRef(container.image) ?? { name: change.to.name }) });
    }
    for (const resource of render.resources) {
      const values = resource.id.kind === 'HelmRelease' ? get(resource.object, 'spec', 'values') : undefined;
      if (!values) continue;
      for (const mapping of mappings) {
        const change = changes.find((c) => c.component === mapping.component);
        const found = change && mappedValues(scalarsOf(values), mapping, change);
        for (const value of found ?? []) {
          if ((value.value ?? '') !== value.expected) out.push({ kind: 'value', render, change: change!, resource, path: value.path, leaf: value.node, expected: value.expected });
        }
      }
      for (const value of imageValues(values, changes)) {
        if (!covered(value, changes, mappings)) out.push({ kind: 'unmapped', render, change: changes.find((c) => c.component === value.component)!, value });
      }
    }
  }
  return out;
}

const at = (origin?: Origin) => (origin ? `${origin.source.file}:${lineAt(origin)}` : '');

/** Where a rendered value was written, and the images entries that changed it, for a message. */
function provenance(leaf: Leaf): string {
  const steps = leaf.steps.map((s) => `the images entry '${s.name}' at ${at(s.origin)}`);
  return [`${at(leaf.origin)}${leaf.origin?.source.inline ? ' (an inline patch)' : ''}`, ...steps].filter(Boolean).join(', then ');
}

export interface RenderFixes {
  /** New texts of changed or new files (real path -> text), on top of the edits the caller made. */
  texts: Map<string, string>;
  /** Files written per component (relative to the repository), and what was done beyond an edit in place, for the log and `changes`. */
  notes: Array<{ component: string; files: string[]; message?: string }>;
}

/**
 * Renders the environment over `edited` (real path -> text), fixes what still renders an old value where the
 * environment owns it (see above), and renders again; throws a UserError when a changed component would still
 * not render its new image. Roots the resolver cannot follow are reported through `skipped`.
 */
export function fixRenders(
  env: Environment,
  edited: Map<string, string>,
  changes: readonly ImageChange[],
  mappings: readonly HelmMapping[],
  manifestsName: string,
  skipped: (message: string, where: { file: string; line?: number }) => void,
): RenderFixes {
  const texts = new Map(edited);
  const notes: RenderFixes['notes'] = [];
  const textOf = (relative: string) => {
    const file = env.byRelative.get(relative)!;
    return texts.get(file.real) ?? file.text;
  };
  const owned = (origin?: Origin) => !!origin && !origin.source.inline && env.holds(origin.source.file) && !env.unusedComponents.has(env.byRelative.get(origin.source.file)!.real);
  const warned = new Set<string>();
  const rendered = () => {
    const renders: Render[] = [];
    for (const root of env.render(texts)) {
      if ('render' in root) renders.push(root.render);
      else if (!warned.has(root.dir) && warned.add(root.dir))
        skipped(`${root.unsupported.message} Its render is not checked: run kubectl kustomize ${path.relative(env.root, root.dir).split(path.sep).join('/')} to see what it runs.`, root.unsupported.where ?? { file: manifestsName });
    }
    return renders;
  };

  // edits change only the values of references that already match a component: a render that runs none
  // of the changed images and no HelmRelease needs no second look (the common overlay of images entries only)
  const relevant = (render: Render) =>
    render.resources.some((r) => r.id.kind === 'HelmRelease') || containerImages(render).some((c) => changeFor(changes, splitImage(c.image).name));
  if (!env.render().some((root) => !('render' in root) || relevant(root.render))) return { texts: new Map(), notes };
  let mismatches = findMismatches(rendered(), changes, mappings);
  const unmapped = mismatches.flatMap((m) => (m.kind === 'unmapped' ? [m.value] : []));
  if (unmapped.length) throw unmappedError(unmapped, manifestsName);
  if (!mismatches.length) return { texts: new Map(), notes };

  // 1. values written in the environment's own files are edited where they are; 2. values from outside it
  // are pinned in the root kustomization (or an environment kustomization whose images entry decides them)
  const scalarEdits = new Map<string, Array<{ offset: number; value: string; component: string }>>();
  const pins: Array<{ file: string; change: ImageChange; pin: ImagesPin; container: ContainerImage }> = [];
  const patches = new Map<string, { render: Render; change: ImageChange; resource: RenderedResource; values: Array<[string[], string]>; origin?: Origin }>();
  const editAt = (leaf: Leaf, value: string, component: string) => {
    const list = scalarEdits.get(leaf.origin!.source.file) ?? [];
    list.push({ offset: leaf.origin!.offset, value, component });
    scalarEdits.set(leaf.origin!.source.file, list);
  };
  for (const m of mismatches) {
    if (m.kind === 'container') {
      const { leaf } = m.container;
      const last = leaf.steps[leaf.steps.length - 1];
      if (!last && owned(leaf.origin)) editAt(leaf, m.expected, m.change.component);
      else if (last && owned(last.origin)) pins.push({ file: last.origin.source.file, change: m.change, container: m.container, pin: pinFor(last.name, splitImage(last.before).name, m.change, !!last.newName) });
      else {
        const arriving = splitImage(leaf.value!).name;
        pins.push({ file: m.render.kustomization, change: m.change, container: m.container, pin: pinFor(arriving, arriving, m.change, false) });
      }
    } else if (m.kind === 'value') {
      if (m.leaf && owned(m.leaf.origin)) editAt(m.leaf, m.expected, m.change.component);
      else {
        const key = `${m.render.kustomization}|${m.resource.written.apiVersion}|${describeId(m.resource.written)}`;
        const patch = patches.get(key) ?? { render: m.render, change: m.change, resource: m.resource, values: [], origin: m.leaf?.origin };
        patch.values.push([m.path, m.expected]);
        patches.set(key, patch);
      }
    }
  }
  for (const [relative, list] of scalarEdits) {
    const text = textOf(relative);
    const documents = parseDocuments(text, relative, 'failsafe');
    const edits = new Map<number, Edit>();
    for (const { offset, value, component } of list) {
      const node = scalarAt(documents, offset);
      const edit = node && setScalar(node, value);
      if (edit) edits.set(offset, edit);
      notes.push({ component, files: [relative] });
    }
    texts.set(env.byRelative.get(relative)!.real, applyEdits(text, [...edits.values()]));
  }
  for (const { file, change, pin, container } of pins) {
    const from = container.leaf;
    const parsed = { file, text: textOf(file), documents: parseDocuments(textOf(file), file, 'failsafe') };
    const edits = pinImageEdits(parsed, pin);
    if (!edits) throw noSafeEdit(`its images: list cannot be edited safely`, file, change, manifestsName, container);
    const updated = applyEdits(parsed.text, edits);
    if (updated === parsed.text) continue;
    texts.set(env.byRelative.get(file)!.real, updated);
    const last = from.steps[from.steps.length - 1];
    const inline = !!from.origin?.source.inline && !last;
    notes.push({
      component: change.component,
      files: [file],
      message: last && owned(last.origin)
        ? undefined
        : inline
          ? `${change.component}: its image is written in ${provenance(from)}: pinned with an images: entry in ${file}`
          : `${change.component}: its image is written outside ${manifestsName} (${provenance(from)}): pinned with an images: entry in ${file}; the shared base is not edited`,
    });
  }
  for (const patch of patches.values()) notes.push(helmPatch(env, texts, textOf, patch, manifestsName));

  mismatches = findMismatches(rendered(), changes, mappings);
  const left = mismatches[0];
  if (left?.kind === 'container') throw noSafeEdit(`no edit inside ${manifestsName} makes it run ${left.expected}`, left.render.kustomization, left.change, manifestsName, left.container);
  if (left?.kind === 'value') throw new UserError(`${manifestsName} renders ${describeId(left.resource.id)} with spec.values.${left.path.join('.')} = ${left.leaf?.value ?? '(none)'}, not ${left.expected}, and no edit inside ${manifestsName} fixes it: check the HelmRelease and the helmValues input.`, { file: left.render.kustomization });
  return { texts: new Map([...texts].filter(([file, text]) => text !== edited.get(file))), notes };
}

/** The scalar node that starts at `offset`. */
function scalarAt(documents: Document.Parsed[], offset: number): Scalar | undefined {
  let found: Scalar | undefined;
  for (const document of documents) {
    visit(document, {
      Scalar(_key, node) {
        if (node.range?.[0] === offset) {
          found = node;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (found) return found;
  }
  return undefined;
}

function pinFor(name: string, arriving: string, change: ImageChange, hadNewName: boolean): ImagesPin {
  return { name, newName: hadNewName || arriving !== change.to.name ? change.to.name : undefined, newTag: change.to.tag, digest: change.to.digest };
}

/** A strategic-merge patch of a HelmRelease that lives outside the environment, written beside the root kustomization and listed in it. */
function helmPatch(
  env: Environment,
  texts: Map<string, string>,
  textOf: (relative: string) => string,
  { render, change, resource, values, origin }: { render: Render; change: ImageChange; resource: RenderedResource; values: Array<[string[], string]>; origin?: Origin },
  manifestsName: string,
): { component: string; files: string[]; message: string } {
  const target = render.kustomization;
  const dir = path.posix.dirname(target);
  const name = `helmrelease-${resource.written.name}-image.yaml`;
  const relative = `${dir}/${name}`;
  const real = path.join(path.dirname(env.byRelative.get(target)!.real), name);
  const where = at(origin ?? resource.origin);
  if (env.holds(relative) || texts.has(real)) {
    throw new UserError(`${relative} already exists but does not patch ${describeId(resource.written)}'s values: ${change.component}'s Helm values are in ${where}, outside ${manifestsName}; rename that file so this task can write its patch there, or patch spec.values yourself.`, { file: relative });
  }
  if (render.resources.filter((r) => describeId(r.written) === describeId(resource.written) && r.written.apiVersion === resource.written.apiVersion).length > 1) {
    throw new UserError(`${manifestsName} renders more than one ${describeId(resource.written)}, so a patch of its values would not apply to one of them: pin ${change.component}'s values in each HelmRelease's own folder.`, { file: target });
  }
  const text = textOf(target);
  const eol = eolOf(text);
  const lines = [
    `# ${change.component}'s image in this environment (written by UpdateGitOpsVersions): the HelmRelease is in ${resource.origin.source.file}, shared with other environments.`,
    `apiVersion: ${resource.written.apiVersion}`,
    `kind: ${resource.written.kind}`,
    'metadata:',
    `  name: ${formatScalar(resource.written.name, undefined)}`,
    ...(resource.written.namespace ? [`  namespace: ${formatScalar(resource.written.namespace, undefined)}`] : []),
    'spec:',
    '  values:',
  ];
  const written: string[][] = [];
  for (const [keys, value] of values) {
    keys.forEach((key, depth) => {
      const prefix = keys.slice(0, depth + 1);
      if (depth < keys.length - 1 && written.some((w) => w.join('.') === prefix.join('.'))) return;
      written.push(prefix);
      lines.push(`${'  '.repeat(depth + 2)}${formatScalar(key, undefined)}:${depth === keys.length - 1 ? ` ${formatScalar(value, undefined)}` : ''}`);
    });
  }
  const parsed = parseDocuments(text, target, 'failsafe');
  const edit = appendToRootList(text, parsed[0], 'patches', [['path', name]]);
  if (!edit) throw new UserError(`${target}: its 'patches' cannot be edited safely, so ${change.component}'s Helm values (in ${where}, outside ${manifestsName}) cannot be pinned: patch spec.values of ${describeId(resource.written)} yourself.`, { file: target });
  texts.set(real, lines.join(eol) + eol);
  texts.set(env.byRelative.get(target)!.real, applyEdits(text, [edit]));
  return {
    component: change.component,
    files: [target, relative],
    message: `${change.component}: ${describeId(resource.written)}'s values are in ${where}, outside ${manifestsName}: pinned with the patch ${relative}, listed in ${target}; the shared base is not edited`,
  };
}

function noSafeEdit(reason: string, file: string, change: ImageChange, manifestsName: string, container: ContainerImage): UserError {
  return new UserError(
    `${manifestsName} renders ${describeId(container.resource)} container '${container.container}' as ${container.image}, written at ${provenance(container.leaf)}, and ${reason}: nothing was written. Add an images: entry for ${splitImage(container.image).name} (newTag: ${change.to.tag}) to ${file}, or set manifestsPath to the folder that owns the image.`,
    { file },
  );
}

/**
 * Helm values in the environment's files that hold a changed component's image where no helmValues line
 * (and no Flux marker) says where its tag is; values already at the new reference are fine.
 */
export function unmappedFileValues(files: readonly ParsedFile[], changes: readonly ImageChange[], mappings: readonly HelmMapping[]): ImageValue[] {
  return files.flatMap((parsed) => fileImageValues(parsed, changes).filter((v) => !covered(v, changes, mappings)));
}

function covered(value: ImageValue, changes: readonly ImageChange[], mappings: readonly HelmMapping[]): boolean {
  const change = changes.find((c) => c.component === value.component)!;
  if (value.withTag && value.leaf.value && runsNew(value.leaf.value, change)) return true;
  // a mapped key itself, or a key beside one (a repository next to a mapped tag)
  const parent = value.path.slice(0, -1).join('.');
  return mappings.some((m) => m.component === value.component && Object.values(m.paths).some((p) => p.join('.') === value.path.join('.') || p.slice(0, -1).join('.') === parent));
}

/** The failure for Helm values that hold a changed image with no helmValues line to update them. */
export function unmappedError(values: ImageValue[], manifestsName: string): UserError {
  const first = values[0];
  const list = values.map((v) => `${at(v.leaf.origin)} (${v.path.join('.')}: ${v.leaf.value})`).join(', ');
  const lines = [...new Map(values.map((v) => [v.component, `'${suggestMapping(v)}'`])).values()].join(' and ');
  return new UserError(
    `${manifestsName} deploys images from Helm values that no input says how to update: ${list}. Nothing was written. Say which keys hold the tag with the helmValues input (paths relative to the values file, or to a HelmRelease's spec.values), e.g. ${lines}.`,
    { file: first.leaf.origin?.source.file ?? manifestsName, line: first.leaf.origin ? lineAt(first.leaf.origin) : undefined },
  );
}
