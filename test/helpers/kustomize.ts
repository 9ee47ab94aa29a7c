import { parseAllDocuments } from 'yaml';
import { run } from '../../shared/process';
import { containerImages, forEachImage, type Render } from '../../shared/kustomize/render';
import { fromYaml, get, SourceText, str, toPlain, type TMap } from '../../shared/kustomize/tree';

/**
 * What a render runs, one line a container (`Kind/name/path[container]=image`) or HelmRelease values
 * (`HelmRelease/name values={...}`), sorted: the shape both kubectl's output and the resolver's render are
 * compared in.
 */
export type Rendered = string[];

function valuesLine(kind: string, name: string, values: unknown): string[] {
  return kind === 'HelmRelease' && values !== undefined ? [`${kind}/${name} values=${JSON.stringify(values)}`] : [];
}

/** The containers and HelmRelease values of `kubectl kustomize dir`. */
export async function kubectlRendered(dir: string): Promise<Rendered> {
  const { stdout } = await run('kubectl', ['kustomize', dir]);
  const lines: string[] = [];
  for (const document of parseAllDocuments(stdout, { schema: 'failsafe' })) {
    const object = fromYaml(document.contents, document, new SourceText('kubectl', stdout)) as TMap;
    const kind = str(object, 'kind')!;
    const name = str(object, 'metadata', 'name')!;
    forEachImage(object, [], (leaf, _set, at, container) => lines.push(`${kind}/${name}/${at.slice(0, -1).join('.')}[${container || at[at.length - 1]}]=${leaf.value}`));
    lines.push(...valuesLine(kind, name, get(object, 'spec', 'values') && toPlain(get(object, 'spec', 'values')!)));
  }
  return lines.sort();
}

/** The same lines from the resolver's render. */
export function resolverRendered(render: Render): Rendered {
  const lines = containerImages(render).map((c) => `${c.resource.kind}/${c.resource.name}/${c.path}=${c.image}`);
  for (const resource of render.resources) {
    const values = get(resource.object, 'spec', 'values');
    lines.push(...valuesLine(resource.id.kind, resource.id.name, values && toPlain(values)));
  }
  return lines.sort();
}
