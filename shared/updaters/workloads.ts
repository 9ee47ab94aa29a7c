import { isMap, isScalar, isSeq, type Node, type Pair, type Scalar } from 'yaml';
import { changeFor, type FileEdits, type ImageChange, newReference, type ParsedFile, parseImageRef, updateText } from './change';
import { setScalar } from './yaml-text';

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
    for (const list of ['initContainers', 'containers']) {
      const containers = child(spec, list);
      if (!isSeq(containers)) continue;
      for (const container of containers.items) {
        const image = child(container, 'image');
        if (!isScalar(image) || typeof image.value !== 'string') continue;
        const offset = (image as Node).range![0];
        const ref = parseImageRef(image.value);
        const change = ref ? changeFor(changes, ref.name) : undefined;
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
