import { isAlias, isMap, isScalar, isSeq, type Node, type Pair, type Scalar } from 'yaml';
import { UserError } from '../errors';
import { changeFor, type FileEdits, type ImageChange, newReference, type ParsedFile, parseImageRef, updateText } from './change';
import { describeNode, lineOf, setScalar } from './yaml-text';

/**
 * The `image:` of containers and initContainers in workload manifests (Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, Job, CronJob, Pod), in every document of a file.
 */

/** Where each kind keeps its pod spec. */
const POD_SPEC: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

function child(node: unknown, key: string): unknown {
  if (!isMap(node)) return undefined;
  const pair = node.items.find((p) => isScalar((p as Pair).key) && ((p as Pair).key as Scalar).value === key) as Pair | undefined;
  return pair?.value;
}

export function findWorkloadEdits(parsed: ParsedFile, changes: readonly ImageChange[]): FileEdits {
  const { documents } = parsed;
  const result: FileEdits = { edits: [], touched: new Set(), images: [] };
  for (const document of documents) {
    const kind = child(document.contents, 'kind');
    const path = isScalar(kind) ? POD_SPEC[String(kind.value)] : undefined;
    if (!path) continue;
    let spec: unknown = document.contents;
    for (const key of path) spec = child(spec, key);
    // Say what is wrong rather than leave the workload on the old image.
    const refuse = (what: string, node: unknown) =>
      new UserError(`${what}, not ${describeNode(node)}.`, { file: parsed.file, line: lineOf(parsed.text, (node as Node).range?.[0] ?? 0) });
    for (const list of ['initContainers', 'containers']) {
      const containers = child(spec, list);
      if (containers === undefined || containers === null || (isScalar(containers) && !containers.value)) continue;
      if (!isSeq(containers)) throw refuse(`'${list}' of this ${String((kind as Scalar).value)} must be a list of containers`, containers);
      for (const container of containers.items) {
        let image = child(container, 'image');
        const alias = isAlias(image) ? image : undefined;
        if (alias) image = alias.resolve(document);
        if (image !== undefined && image !== null && !isScalar(image)) throw refuse(`A container's 'image' must be an image reference`, image);
        if (!isScalar(image) || typeof image.value !== 'string' || !image.value) continue;
        const offset = (image as Node).range![0];
        const ref = parseImageRef(image.value);
        const change = ref ? changeFor(changes, ref.name) : undefined;
        // Editing the anchor would move every other use of it too: only the author can say which to move.
        if (alias && change) throw refuse(`The image of component '${change.component}' must be written out here to be updated`, alias);
        if (!ref || !change) {
          result.images.push({ image: image.value, offset });
          continue;
        }
        const value = newReference(change, ref);
        const edit = setScalar(image as Scalar, value);
        if (edit) {
          result.edits.push(edit);
          result.touched.add(change.component);
        }
        result.images.push({ image: value, offset });
      }
    }
  }
  return result;
}

/** Text in, text out: every container image of the changed components moved to its new reference. */
export function update(text: string, changes: readonly ImageChange[], file = 'workload.yaml') {
  return updateText(findWorkloadEdits, text, changes, file);
}
