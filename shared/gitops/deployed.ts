import { parseImageRef, sameRepository } from '../images/reference';
import { splitImage } from '../kustomize/images';
import { containerImages, type Render } from '../kustomize/render';
import { get, lineAt, scalarsOf } from '../kustomize/tree';
import type { ImageChange, ParsedFile } from '../updaters/change';
import { deployedImage, type HelmMapping, mappedValues, readHelmValues } from '../updaters/helm-values';
import { findKustomizationEdits, isKustomizationFile } from '../updaters/kustomization';
import { mentionsSetter, readSetterImages } from '../updaters/setters';
import { findWorkloadEdits } from '../updaters/workloads';
import { lineOf } from '../updaters/yaml-text';

/** An image the environment deploys today, and where. */
export interface Deployed {
  image: string;
  file: string;
  line?: number;
}

/**
 * The images of `repository` that the environment deploys today, for a component the lock does not list yet:
 * what its renders run (containers, mapped HelmRelease values) and what its files write (workload images,
 * kustomize images entries, Flux markers, mapped Helm values).
 */
export function deployedImages(component: string, repository: string, files: ParsedFile[], renders: Render[], mappings: readonly HelmMapping[]): Deployed[] {
  const found = new Map<string, Deployed>();
  const add = (image: string, file: string, line?: number) => {
    const name = parseImageRef(image)?.name ?? splitImage(image).name;
    if (sameRepository(name, repository)) found.set(`${image}|${file}|${line}`, { image, file, line });
  };
  for (const parsed of files) {
    const fromFile = (list: Array<{ image: string; offset: number }>) => list.forEach((i) => add(i.image, parsed.file, lineOf(parsed.text, i.offset)));
    fromFile(findWorkloadEdits(parsed, []).images);
    if (isKustomizationFile(parsed.file)) fromFile(findKustomizationEdits(parsed, []).images);
    if (mentionsSetter(parsed.text)) fromFile(readSetterImages(parsed, component, repository));
    fromFile(readHelmValues(parsed, mappings, component, repository));
  }
  const probe: ImageChange = { component, to: { name: repository, tag: '' } };
  for (const render of renders) {
    for (const container of containerImages(render)) add(container.image, container.source.file, container.source.line);
    for (const resource of render.resources) {
      const values = resource.id.kind === 'HelmRelease' ? get(resource.object, 'spec', 'values') : undefined;
      for (const mapping of values ? mappings.filter((m) => m.component === component) : []) {
        const mapped = mappedValues(scalarsOf(values!), mapping, probe);
        const origin = mapped?.[0].node?.origin;
        if (mapped) add(deployedImage(mapped, repository), origin?.source.file ?? render.kustomization, origin && lineAt(origin));
      }
    }
  }
  return [...found.values()];
}
