import { run } from '../process';
import { parseDocuments } from '../updaters/yaml-text';
import { idOf, type Render } from './render';
import { fromYaml, isTMap, SourceText } from './tree';

/**
 * `kubectl kustomize DIR` (with `--enable-helm` when given helm's path), the reference render, as a Render of the resources it prints (their values carry no
 * file of the repository: kubectl keeps none). A kustomization kubectl refuses is an error string, kubectl's own words.
 */
export async function kubectlRender(dir: string, shown: string, kubectl = 'kubectl', helm?: string): Promise<Render | { error: string }> {
  // helmCharts need --enable-helm, and a helm program to inflate the charts
  const result = await run(kubectl, ['kustomize', ...(helm ? ['--enable-helm', '--helm-command', helm] : []), dir], { allowFailure: true });
  if (result.code !== 0) {
    const said = (result.stderr || result.stdout).trim().split(dir).join(shown).replace(/^error:\s*/i, '');
    return { error: said.length > 600 ? `${said.slice(0, 600)}…` : said || `exit ${result.code}` };
  }
  const source = new SourceText(`kubectl kustomize ${shown}`, result.stdout);
  const resources: Render['resources'] = [];
  for (const document of parseDocuments(result.stdout, source.file, 'failsafe')) {
    const object = document.contents ? fromYaml(document.contents, document, source) : undefined;
    if (!object || !isTMap(object)) continue;
    const id = idOf(object);
    resources.push({ id, written: id, object, origin: { source, offset: document.contents?.range?.[0] ?? 0 } });
  }
  return { kustomization: shown, kustomizations: [shown], resources };
}
