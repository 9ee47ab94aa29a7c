import type { SourceLocation } from '../agent';
import { formatImageRef, parseImageRef, repositoryLocation, sameRepository } from '../images/reference';
import { splitImage } from '../kustomize/images';
import type { LockEntry } from '../lock/lockfile';
import { describeId } from '../kustomize/render';
import { get, lineAt, scalarsOf } from '../kustomize/tree';
import { changeFor, type ImageChange, type ParsedFile } from '../updaters/change';
import { deployedImage, type HelmMapping, mappedValues, readHelmValues } from '../updaters/helm-values';
import { findKustomizationEdits, isKustomizationFile } from '../updaters/kustomization';
import { markedScalars, mentionsSetter } from '../updaters/setters';
import { findWorkloadEdits } from '../updaters/workloads';
import { lineOf } from '../updaters/yaml-text';
import { type Finding, Findings, type Rule } from './findings';
import type { RootImages } from './renders';

/**
 * One environment checked against its lock entries: every reference its files write (workload `image:` fields,
 * kustomize `images:` entries, Flux setter markers) and every container image its root kustomizations render must
 * name the lock's tag and digest for its component; an image in one of the lock's registries that no entry names
 * is an unknown component; and the image policies (allowedRegistries, and in a protected environment no mutable
 * tag and a digest everywhere) hold for the lock entries and every image the environment writes or renders.
 */
export interface EnvironmentCheck {
  environment: string;
  /** The lock file as messages name it. */
  lockFile: string;
  entries: ReadonlyMap<string, LockEntry>;
  /** The environment's files, parsed (kustomization Components no root uses left out). */
  files: readonly ParsedFile[];
  roots: readonly RootImages[];
  /** Registry hosts of the lock's images (registryHost spelling): an image there that no entry names is an unknown component. */
  lockRegistries: ReadonlySet<string>;
  /** Repositories that are not components, never reported as unknown (ignoreImages). */
  ignored: (repository: string) => boolean;
  /** allowedRegistries as a test, with its text for messages; undefined allows any registry. */
  allowed?: { test: (image: string) => boolean; text: string };
  /** A protected environment: no mutable tags, digests required. */
  protected: boolean;
  /** helmValues: the Helm values keys that hold a component's image (values files, HelmReleases' spec.values). */
  mappings: readonly HelmMapping[];
}

export interface EnvironmentReport {
  /** References and rendered images looked at. */
  references: number;
  /** Lock entries that nothing in the environment references. */
  unreferenced: string[];
}

/** A tag that names a version (`v1.4.2`, `1.36`, `4.8-apache`, `20240101`): anything else (`latest`, `stable`, none) can move. */
const VERSIONED = /^v?\d+(\.\d+)*([-+_.][0-9A-Za-z.+_-]*)?$/;
const isMutableTag = (tag: string | undefined): boolean => !tag || tag === 'latest' || !VERSIONED.test(tag);

/** What a reference names: as written or rendered, split, and where. */
interface Reference {
  image: string;
  name: string;
  tag?: string;
  digest?: string;
  where: SourceLocation;
  /** How messages name it: `this reference names <image>`, `<dir> renders <resource> container '<name>' as <image>`. */
  subject: string;
  rendered: boolean;
}

export function checkEnvironment(check: EnvironmentCheck, findings: Findings): EnvironmentReport {
  const { environment, lockFile, entries } = check;
  const changes: ImageChange[] = [...entries].map(([component, e]) => ({ component, to: { name: e.image, tag: e.tag, digest: e.digest } }));
  const referenced = new Set<string>();
  const add = (rule: Rule, component: string, where: SourceLocation, message: string) =>
    findings.add({ environment, component, file: where.file, line: where.line, rule, message } satisfies Finding);
  const lockAt = (component: string) => `${lockFile}:${entries.get(component)!.line}`;
  const agree = `make them agree (UpdateGitOpsVersions updates both)`;
  const noRoots = check.roots.length === 0;

  // The lock entries themselves.
  for (const [component, e] of entries) {
    const image = formatImageRef({ name: e.image, tag: e.tag, digest: e.digest });
    policies(image, component, { file: lockFile, line: e.line }, `${environment}.${component} in the lock is ${image}`, true);
  }

  const renamed = new Set<string>();
  const seen: Reference[] = [];
  let markers = 0;
  for (const parsed of check.files) {
    const at = (offset: number) => ({ file: parsed.file, line: lineOf(parsed.text, offset) });
    const reference = (image: string, offset: number, subject: string) => {
      const ref = parseImageRef(image);
      if (ref) seen.push({ image, name: ref.name, tag: ref.tag, digest: ref.digest, where: at(offset), subject: `${subject} ${image}`, rendered: false });
    };
    for (const result of [findWorkloadEdits(parsed, []), ...(isKustomizationFile(parsed.file) ? [findKustomizationEdits(parsed, [])] : [])]) {
      result.renamed?.forEach((name) => renamed.add(name));
      for (const image of result.images) reference(image.image, image.offset, 'this reference names');
    }
    for (const component of new Set(check.mappings.map((m) => m.component))) {
      const entry = entries.get(component);
      for (const value of entry ? readHelmValues(parsed, check.mappings, component, entry.image) : []) reference(value.image, value.offset, 'these Helm values name');
    }
    if (!mentionsSetter(parsed.text)) continue;
    for (const { node, marker } of markedScalars(parsed)) {
      markers++;
      const where = at(node.range![0]);
      const { component, part } = marker;
      const entry = entries.get(component);
      if (!entry) {
        add('unknown-component', component, where, `this Flux marker names the component '${component}', which ${lockFile} does not list for '${environment}': add it to the lock, or fix the marker.`);
        continue;
      }
      referenced.add(component);
      if (part === 'image') reference(node.value, node.range![0], 'this marked value names');
      else if (part === 'name' && !sameRepository(node.value, entry.image)) {
        add('image-mismatch', component, where, `${component}: this marked repository is ${node.value}, but ${lockAt(component)} has ${entry.image} for '${environment}': ${agree}.`);
      } else if (part === 'tag' && node.value !== entry.tag) {
        add('tag-mismatch', component, where, `${component}: this marked tag is ${node.value}, but ${lockAt(component)} has ${entry.tag} for '${environment}': ${agree}.`);
      } else if (part === 'digest' && node.value !== (entry.digest ?? '')) {
        add('digest-mismatch', component, where, `${component}: this marked digest is ${node.value || '(empty)'}, but ${lockAt(component)} ${entry.digest ? `pins ${entry.digest}` : 'pins no digest'} for '${environment}': ${agree}.`);
      }
    }
  }
  for (const root of check.roots) {
    const rendered = (image: string, where: SourceLocation, what: string) => {
      const { name, tag, digest } = splitImage(image);
      seen.push({ image, name, tag: tag || undefined, digest: digest || undefined, where, subject: `${root.dir} renders ${what} as ${image}`, rendered: true });
    };
    for (const container of root.images) rendered(container.image, container.where, container.what);
    // HelmRelease values the helmValues lines map: at the file that wrote them (the resolver's render knows it)
    for (const resource of check.mappings.length ? (root.render?.resources ?? []) : []) {
      const values = resource.id.kind === 'HelmRelease' ? get(resource.object, 'spec', 'values') : undefined;
      for (const mapping of values ? check.mappings : []) {
        const entry = entries.get(mapping.component);
        const found = entry && mappedValues(scalarsOf(values!), mapping, { component: mapping.component, to: { name: entry.image, tag: '' } });
        if (!found) continue;
        const origin = found[0].node?.origin;
        const where = origin && root.located ? { file: origin.source.file, line: lineAt(origin) } : { file: root.kustomization };
        rendered(deployedImage(found, entry!.image), where, `${describeId(resource.id)} values`);
      }
    }
  }

  for (const ref of seen) {
    // a bare name (`image: heuristic`) in a file is a placeholder the render completes: what runs is the render's
    const placeholder = !ref.rendered && !ref.tag && !ref.digest;
    const change = changeFor(changes, ref.name);
    if (change) {
      referenced.add(change.component);
      if (!placeholder) agrees(ref, change.component, entries.get(change.component)!);
    } else if (check.lockRegistries.has(repositoryLocation(ref.name).registry) && !check.ignored(ref.name)) {
      add('unknown-component', '', ref.where, `${ref.subject}, in a registry of ${lockFile}, but no component of '${environment}' in the lock is ${ref.name}: add it to the lock, or list it in ignoreImages when it is not one of yours.`);
    }
    // a name a kustomization renames is a placeholder too: the render checks what it becomes
    if (ref.rendered || !renamed.has(ref.name)) policies(ref.image, change?.component ?? '', ref.where, ref.subject, !placeholder || noRoots);
  }
  return { references: seen.length + markers, unreferenced: [...entries.keys()].filter((c) => !referenced.has(c)) };

  /** A reference of a component against its lock entry: the tag (when it names one; a render must) and the digest. */
  function agrees(ref: Reference, component: string, entry: LockEntry): void {
    if (ref.tag !== entry.tag && (ref.tag || !ref.digest)) {
      add('tag-mismatch', component, ref.where, `${component}: ${ref.subject}, but ${lockAt(component)} has the tag ${entry.tag} for '${environment}': ${agree}.`);
    } else if ((ref.digest ?? '') !== (entry.digest ?? '')) {
      add('digest-mismatch', component, ref.where, `${component}: ${ref.subject}, but ${lockAt(component)} ${entry.digest ? `pins ${entry.digest}` : 'pins no digest'} for '${environment}': ${agree}.`);
    }
  }

  /** allowedRegistries, and in a protected environment a version tag and a digest (`complete`: the image is what runs, not a placeholder). */
  function policies(image: string, component: string, where: SourceLocation, subject: string, complete: boolean): void {
    if (check.allowed && !check.allowed.test(image)) {
      add('registry-not-allowed', component, where, `${subject}, outside allowedRegistries (${check.allowed.text}): use an allowed registry, or extend allowedRegistries.`);
    }
    if (!check.protected || !complete) return;
    const { tag, digest } = parseImageRef(image) ?? splitImage(image);
    if (isMutableTag(tag || undefined)) {
      add('mutable-tag', component, where, `${subject}, ${tag ? `whose tag '${tag}' can move` : 'without a tag (it runs latest)'}, and '${environment}' is protected: use a version tag and a digest.`);
    }
    if (!digest) add('digest-required', component, where, `${subject}, without a digest, and '${environment}' is protected: pin it (repository:tag@sha256:…), e.g. with UpdateGitOpsVersions pinDigest: true.`);
  }
}
