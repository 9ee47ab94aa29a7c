import { readFileSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { type Document, isMap, isScalar, isSeq, type Scalar, type YAMLMap } from 'yaml';
import { UserError } from '../errors';
import { parseDocuments } from '../updaters/yaml-text';
import { applyImagesEntry } from './images';
import { KUSTOMIZATION_NAMES, type KustomizationFile, kustomizationTree, type PatchEntry, readKustomization, readReferences, RenderUnsupported } from './kustomization-file';
import { applyOperations, isBuiltIn, mergePatch, readOperations, type Selectable, selects } from './patch';
import { clone, fromYaml, get, isLeaf, isTMap, Leaf, lineAt, type Origin, SourceText, str, type TMap, type TNode } from './tree';

/**
 * What `kubectl kustomize DIR` renders, as far as images go, without kubectl: the kustomization's resources
 * (files, and folders such as `../../bases/x` built as kustomizations themselves), its components, and the
 * transformers that can change an image or a resource's identity, in kustomize 5's order: patchesStrategicMerge,
 * patches, namespace, namePrefix, nameSuffix, labels, annotations, patchesJson6902, images. Every rendered
 * scalar keeps the file and line that wrote it and the `images:` entries that changed it. Generators,
 * replicas and the rest do not touch images and are left out; fields that could change images in ways this
 * resolver does not follow (remote bases, helmCharts, plugins, image fieldspec configurations, replacements
 * of images) raise RenderUnsupported.
 */

/** How the resolver reads files: from disk by default; the flow reads its in-memory edits instead. */
export interface KustomizeFiles {
  /** The text of a file (real path), or undefined when there is no such file. */
  read(file: string): string | undefined;
  /** 'file', 'dir', or undefined when nothing is there. */
  kind(file: string): 'file' | 'dir' | undefined;
  /** The path with symbolic links resolved (itself when it does not exist). */
  real(file: string): string;
  /** The parsed documents of a file's text (a cache may return earlier parses). */
  documents?(file: string, text: string, shown: string): Document.Parsed[];
}

export const diskFiles: KustomizeFiles = {
  read: (file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  kind: (file) => {
    const stat = statSync(file, { throwIfNoEntry: false });
    return stat?.isDirectory() ? 'dir' : stat?.isFile() ? 'file' : undefined;
  },
  real: (file) => {
    try {
      return realpathSync(file);
    } catch {
      return file;
    }
  },
};

export interface ResourceId {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface RenderedResource {
  /** As rendered (prefixes, namespace). */
  id: ResourceId;
  /** As its file wrote it: what a patch in an overlay names it by. */
  written: ResourceId;
  object: TMap;
  /** Where its document starts. */
  origin: Origin;
}

export interface Render {
  /** The kustomization file rendered, relative to the repository. */
  kustomization: string;
  resources: RenderedResource[];
  /** Every kustomization and component file the render followed, the rendered one first. */
  kustomizations: string[];
}

/** Resources as the render accumulates them, with their earlier identities (patches and selectors match any). */
interface Res {
  object: TMap;
  previous: ResourceId[];
  origin: Origin;
}

const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass',
  'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'IngressClass', 'RuntimeClass', 'CSIDriver', 'CSINode',
  'VolumeAttachment', 'CertificateSigningRequest', 'PodSecurityPolicy', 'ComponentStatus', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
]);
const NO_PREFIX = new Set(['CustomResourceDefinition', 'APIService', 'Namespace']);

export function idOf(object: TMap): ResourceId {
  const namespace = str(object, 'metadata', 'namespace');
  return { apiVersion: str(object, 'apiVersion') ?? '', kind: str(object, 'kind') ?? '', name: str(object, 'metadata', 'name') ?? '', ...(namespace ? { namespace } : {}) };
}

const effectiveNamespace = (id: ResourceId) => (CLUSTER_SCOPED.has(id.kind) ? '' : id.namespace || 'default');
const sameId = (a: ResourceId, b: ResourceId) => a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name && effectiveNamespace(a) === effectiveNamespace(b);
/** What sameId compares, as one string. */
const idKey = (id: ResourceId) => `${id.apiVersion}|${id.kind}|${id.name}|${effectiveNamespace(id)}`;
export const describeId = (id: ResourceId) => `${id.kind}/${id.name}${id.namespace ? ` (namespace ${id.namespace})` : ''}`;

function metadata(object: TMap): TMap {
  let meta = object.get('metadata');
  if (!isTMap(meta)) {
    meta = new Map();
    object.set('metadata', meta);
  }
  return meta;
}

function selectable(res: Res): Selectable {
  const current = idOf(res.object);
  const original = res.previous[0] ?? current;
  const slash = current.apiVersion.indexOf('/');
  const strings = (node: TNode | undefined) => new Map(isTMap(node) ? [...node].flatMap(([k, v]) => (isLeaf(v) && v.value !== null ? [[k, v.value] as [string, string]] : [])) : []);
  return {
    group: slash < 0 ? '' : current.apiVersion.slice(0, slash),
    version: slash < 0 ? current.apiVersion : current.apiVersion.slice(slash + 1),
    kind: current.kind,
    names: [original.name, current.name],
    namespaces: [effectiveNamespace(original), effectiveNamespace(current)],
    labels: strings(get(res.object, 'metadata', 'labels')),
    annotations: strings(get(res.object, 'metadata', 'annotations')),
  };
}

class Builder {
  readonly kustomizations: string[] = [];
  private readonly realRoot: string;

  constructor(
    private readonly files: KustomizeFiles,
    root: string,
  ) {
    this.realRoot = files.real(path.resolve(root));
  }

  shown(file: string): string {
    return path.relative(this.realRoot, file).split(path.sep).join('/') || '.';
  }

  private inside(real: string): boolean {
    const rel = path.relative(this.realRoot, real);
    return !rel.startsWith('..') && !path.isAbsolute(rel);
  }

  private parse(file: string, text: string): Document.Parsed[] {
    const shown = this.shown(file);
    return this.files.documents ? this.files.documents(file, text, shown) : parseDocuments(text, shown, 'failsafe');
  }

  /** The kustomization file of `dir`, read. */
  load(dir: string): KustomizationFile & { real: string } {
    const found = KUSTOMIZATION_NAMES.map((name) => path.join(dir, name)).filter((file) => this.files.kind(file) === 'file');
    if (found.length > 1) throw new UserError(`${this.shown(dir)} has ${found.map((f) => path.basename(f)).join(' and ')}: kustomize refuses more than one kustomization file in a folder; keep one.`, { file: this.shown(found[1]) });
    if (!found.length) throw new UserError(`${this.shown(dir)} has no kustomization.yaml (or kustomization.yml, Kustomization): kustomize cannot build it.`, { file: this.shown(dir) });
    const real = this.files.real(found[0]);
    const text = this.files.read(real) ?? '';
    const shown = this.shown(real);
    const [document] = this.parse(real, text);
    return { ...readKustomization(kustomizationTree(document, new SourceText(shown, text)), shown), real };
  }

  /** Where an entry of the kustomization in `dir` points: a real path inside the repository. */
  private resolve(dir: string, entry: { value: string; origin?: Origin }, k: KustomizationFile, what: string): { real: string; kind?: 'file' | 'dir' } {
    const real = this.files.real(path.resolve(dir, entry.value));
    const at = { file: k.file, line: entry.origin ? lineAt(entry.origin) : undefined };
    if (!this.inside(real)) throw new UserError(`${what} '${entry.value}' leads outside the GitOps repository: this task follows only files inside it.`, at);
    const kind = this.files.kind(real);
    if (kind === 'file') {
      const rel = path.relative(dir, real);
      if (rel.startsWith('..') || path.isAbsolute(rel)) {
        throw new UserError(`${what} '${entry.value}' is a file outside ${this.shown(dir)}: kustomize reads files only in or below the kustomization's folder; list the folder (with its own kustomization.yaml) instead.`, at);
      }
    }
    return { real, kind };
  }

  accumulate(dir: string, ra: Res[], asComponent: boolean, chain: string[]): Res[] {
    if (chain.includes(dir)) throw new UserError(`${this.shown(dir)} includes itself through ${chain.slice(chain.indexOf(dir)).map((d) => this.shown(d)).join(' -> ')}: kustomize refuses a cycle.`, { file: this.shown(dir) });
    const k = this.load(dir);
    this.kustomizations.push(k.file);
    if (k.unsupported) {
      throw new RenderUnsupported(`${k.file} uses ${k.unsupported.what}, which this task's kustomize resolver does not follow.`, { file: k.file, line: k.unsupported.origin ? lineAt(k.unsupported.origin) : undefined });
    }
    if (asComponent !== k.isComponent) {
      throw new UserError(asComponent ? `${k.file} is listed under 'components' but is not kind: Component.` : `${k.file} is kind: Component: list it under 'components', not 'resources'.`, { file: k.file });
    }
    const inner = [...chain, dir];
    const ids = new Set(ra.map((r) => idKey(idOf(r.object))));
    for (const entry of k.resources) {
      const target = this.resolve(dir, entry, k, 'resource');
      if (target.kind === 'file') this.add(ra, ids, this.readResources(target.real), k, entry.origin);
      else if (target.kind === 'dir') this.add(ra, ids, this.accumulate(target.real, [], false, inner), k, entry.origin);
      else throw new UserError(`resource '${entry.value}' does not exist (from ${k.file}).`, { file: k.file, line: entry.origin ? lineAt(entry.origin) : undefined });
    }
    for (const entry of k.components) {
      const target = this.resolve(dir, entry, k, 'component');
      if (target.kind !== 'dir') throw new UserError(`component '${entry.value}' is not a folder (from ${k.file}): a component is a folder with a kind: Component kustomization.`, { file: k.file, line: entry.origin ? lineAt(entry.origin) : undefined });
      ra = this.accumulate(target.real, ra, true, inner);
    }
    this.transform(k, dir, ra);
    return ra;
  }

  /** Adds resources to `ra`; `ids` holds the idKey of each resource of `ra` (they only grow while resources are read). */
  private add(ra: Res[], ids: Set<string>, resources: Res[], k: KustomizationFile, origin?: Origin): void {
    for (const res of resources) {
      const id = idOf(res.object);
      if (ids.has(idKey(id))) {
        throw new UserError(`${describeId(id)} is in the render twice (kustomize: "may not add resource with an already registered id"): give one a namePrefix, or list its base once.`, { file: k.file, line: origin ? lineAt(origin) : undefined });
      }
      ids.add(idKey(id));
      ra.push(res);
    }
  }

  /**
   * The Kubernetes objects of a resource file (a List's items too). Documents that are not objects with kind
   * and metadata.name, which kustomize refuses, are left out: they run no image, and are not converted at all.
   */
  private readResources(file: string): Res[] {
    const text = this.files.read(file) ?? '';
    const source = new SourceText(this.shown(file), text);
    const out: Res[] = [];
    const named = (node: unknown) => isMap(node) && isScalar(node.get('kind', true)) && isMap(node.get('metadata')) && isScalar((node.get('metadata') as YAMLMap).get('name', true));
    for (const document of this.parse(file, text)) {
      const contents = document.contents;
      if (!isMap(contents) || !isScalar(contents.get('kind', true))) continue;
      const origin = { source, offset: contents.range?.[0] ?? 0 };
      const items = String((contents.get('kind', true) as Scalar).value) === 'List' ? contents.get('items') : undefined;
      for (const object of isSeq(items) ? items.items : [contents]) {
        if (named(object)) out.push({ object: fromYaml(object, document, source) as TMap, previous: [], origin });
      }
    }
    return out;
  }

  private transform(k: KustomizationFile, dir: string, ra: Res[]): void {
    for (const patch of k.patchesStrategicMerge) this.patch(patch, k, dir, ra, 'patchesStrategicMerge');
    for (const patch of k.patches) this.patch(patch, k, dir, ra, 'patches');
    if (k.namespace) {
      for (const res of ra) {
        const id = idOf(res.object);
        if (CLUSTER_SCOPED.has(id.kind) || id.namespace === k.namespace.value) continue;
        res.previous.push(id);
        metadata(res.object).set('namespace', new Leaf(k.namespace.value, k.namespace.origin));
      }
    }
    if (k.namePrefix?.value || k.nameSuffix?.value) {
      for (const res of ra) {
        const id = idOf(res.object);
        if (NO_PREFIX.has(id.kind)) continue;
        res.previous.push(id);
        metadata(res.object).set('name', new Leaf(`${k.namePrefix?.value ?? ''}${id.name}${k.nameSuffix?.value ?? ''}`, (metadata(res.object).get('name') as Leaf).origin));
      }
    }
    for (const [field, pairs] of [['labels', k.labels], ['annotations', k.annotations]] as const) {
      if (!pairs.size) continue;
      for (const res of ra) {
        const meta = metadata(res.object);
        const map = isTMap(meta.get(field)) ? (meta.get(field) as TMap) : new Map<string, TNode>();
        for (const [key, value] of pairs) map.set(key, new Leaf(value));
        meta.set(field, map);
      }
    }
    for (const patch of k.patchesJson6902) this.patch(patch, k, dir, ra, 'patchesJson6902');
    // Each entry in order over every image: one walk per resource applies the entries to each image in turn,
    // which is the same (an entry's result depends on the image alone) at a fraction of the walks.
    if (!k.images.length) return;
    for (const res of ra) {
      if (str(res.object, 'kind') === 'CustomResourceDefinition') continue;
      forEachImage(res.object, [], (leaf, set) => {
        let current = leaf;
        for (const entry of k.images) {
          if (current.value === null) return;
          const next = applyImagesEntry(current.value, entry);
          if (next === undefined) continue;
          const step = { origin: entry.origin!, name: entry.name, newName: entry.newName, newTag: entry.newTag, digest: entry.digest, before: current.value };
          current = new Leaf(next, current.origin, current.plain, [...current.steps, step]);
        }
        if (current !== leaf) set(current);
      });
    }
  }

  /** A patch's text: its file (in or below the kustomization's folder) or the inline text. */
  private patchSource(patch: PatchEntry, k: KustomizationFile, dir: string): SourceText {
    if (patch.path !== undefined) {
      const target = this.resolve(dir, { value: patch.path, origin: patch.origin }, k, 'patch');
      if (target.kind === 'file') return new SourceText(this.shown(target.real), this.files.read(target.real) ?? '');
      if (!patch.patch) throw new UserError(`patch '${patch.path}' does not exist (from ${k.file}).`, { file: k.file, line: patch.origin ? lineAt(patch.origin) : undefined });
    }
    return new SourceText(k.file, patch.patch!.text, patch.patch!.lineBase, true);
  }

  private patch(patch: PatchEntry, k: KustomizationFile, dir: string, ra: Res[], field: string): void {
    const source = this.patchSource(patch, k, dir);
    const at = { file: k.file, line: patch.origin ? lineAt(patch.origin) : undefined };
    const documents = parseDocuments(source.text, source.file, 'failsafe');
    const trees = documents.filter((d) => d.contents !== null).map((d) => fromYaml(d.contents, d, source));
    const json = field === 'patchesJson6902' || source.text.trimStart().startsWith('[') || Array.isArray(trees[0]);
    if (json) {
      if (!patch.target) throw new UserError(`A JSON 6902 patch needs a 'target' (kind, name) to say what it patches.`, at);
      const operations = readOperations(trees[0] ?? [], source.file, (o) => (o ? lineAt(o) : undefined));
      for (const res of ra.filter((r) => selects(patch.target!, selectable(r)))) {
        res.previous.push(idOf(res.object));
        try {
          applyOperations(res.object, operations);
        } catch (error) {
          throw new UserError(`The JSON 6902 patch ${source.inline ? `in ${k.file}` : source.file} fails on ${describeId(idOf(res.object))}: ${(error as Error).message}.`, at);
        }
      }
      return;
    }
    const patches = trees.filter(isTMap);
    if (patch.target && patches.length > 1) throw new UserError(`A patch with a 'target' must hold one strategic-merge document, not ${patches.length}.`, at);
    for (const doc of patches) {
      const targets = patch.target ? ra.filter((r) => selects(patch.target!, selectable(r))) : ra.filter((r) => [...r.previous, idOf(r.object)].some((id) => sameId(id, idOf(doc))));
      if (!patch.target && targets.length !== 1) {
        const id = idOf(doc);
        // generated ConfigMaps and Secrets are not followed here: a patch of one is nothing to do with images
        if (!targets.length && (id.kind === 'ConfigMap' || id.kind === 'Secret')) continue;
        throw new UserError(`${targets.length ? 'More than one resource matches' : 'No resource matches'} the strategic-merge patch of ${describeId(id)} (${source.inline ? 'inline' : source.file}): kustomize refuses it; check its apiVersion, kind, name and namespace.`, at);
      }
      for (const res of targets) {
        const before = idOf(res.object);
        if (patch.allowNameChange || patch.allowKindChange) res.previous.push(before);
        const merged = mergePatch(res.object, clone(doc) as TMap, isBuiltIn(before.apiVersion));
        if (!merged) {
          ra.splice(ra.indexOf(res), 1);
          continue;
        }
        res.object = merged;
        const meta = metadata(merged);
        if (!patch.allowKindChange) merged.set('kind', new Leaf(before.kind));
        if (!patch.allowNameChange) meta.set('name', new Leaf(before.name));
        if (before.namespace) meta.set('namespace', new Leaf(before.namespace));
        else meta.delete('namespace');
      }
    }
  }
}

/**
 * Calls `visit` for the `image` of every element of a `containers` or `initContainers` list anywhere in
 * `node` (where kustomize's images transformer looks), with a setter that replaces the leaf.
 */
export function forEachImage(node: TNode, at: string[], visit: (leaf: Leaf, set: (leaf: Leaf) => void, path: string[], container: string) => void): void {
  // one path stack for the whole walk (copied only for a container found): manifests are walked once per render
  const stack = [...at];
  const walk = (current: TNode): void => {
    if (isTMap(current)) {
      for (const [key, value] of current) {
        if (isLeaf(value)) continue;
        stack.push(key);
        walk(value);
        if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
          value.forEach((item, index) => {
            const image = get(item, 'image');
            if (isTMap(item) && isLeaf(image)) visit(image, (leaf) => item.set('image', leaf), [...stack, String(index)], str(item, 'name') ?? '');
          });
        }
        stack.pop();
      }
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => {
        if (isLeaf(item)) return;
        stack.push(String(index));
        walk(item);
        stack.pop();
      });
    }
  };
  walk(node);
}

/** Renders the kustomization in `dir` (a folder inside `root`, the repository). */
export function renderKustomization(dir: string, options: { root: string; files?: KustomizeFiles }): Render {
  const files = options.files ?? diskFiles;
  const builder = new Builder(files, options.root);
  const real = files.real(path.resolve(dir));
  const resources = builder.accumulate(real, [], false, []);
  return {
    kustomization: builder.kustomizations[0],
    kustomizations: [...new Set(builder.kustomizations)],
    resources: resources.map((res) => ({ id: idOf(res.object), written: res.previous[0] ?? idOf(res.object), object: res.object, origin: res.origin })),
  };
}

/** The folders a kustomization file (real path, `shown` in messages) names under resources and components (existing folders only), and whether it is a Component. */
export function kustomizationLinks(file: string, shown: string, text: string, documents: Document.Parsed[], files: KustomizeFiles = diskFiles): { folders: string[]; isComponent: boolean } {
  const { entries, isComponent } = readReferences(documents[0], new SourceText(shown, text));
  const dir = path.dirname(file);
  return { folders: entries.map((entry) => files.real(path.resolve(dir, entry))).filter((p) => files.kind(p) === 'dir'), isComponent };
}

/** One container's image in a render, and where it comes from. */
export interface ContainerImage {
  resource: ResourceId;
  /** The container list and name, e.g. `spec.template.spec.containers[heuristic]`. */
  path: string;
  container: string;
  /** The image as rendered. */
  image: string;
  /** The rendered value: its origin is where the `image:` was written, its steps the `images:` entries that changed it. */
  leaf: Leaf;
  /** The file and line that decide the rendered value: the last `images:` entry that changed it, else the `image:` field. */
  source: { file: string; line?: number };
}

/** Every container and initContainer image of a render. */
export function containerImages(render: Render): ContainerImage[] {
  const out: ContainerImage[] = [];
  for (const resource of render.resources) {
    if (resource.id.kind === 'CustomResourceDefinition') continue;
    forEachImage(resource.object, [], (leaf, _set, at, container) => {
      if (leaf.value === null) return;
      const last = leaf.steps[leaf.steps.length - 1]?.origin ?? leaf.origin;
      out.push({
        resource: resource.id,
        path: `${at.slice(0, -1).join('.')}[${container || at[at.length - 1]}]`,
        container,
        image: leaf.value,
        leaf,
        source: { file: last?.source.file ?? '', line: last ? lineAt(last) : undefined },
      });
    });
  }
  return out;
}
