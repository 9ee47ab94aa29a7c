import * as path from 'node:path';
import type { SourceLocation } from '../agent';
import { UserError } from '../errors';
import { kubectlRender } from '../kustomize/kubectl';
import { findOnPath } from '../process';
import { RenderUnsupported } from '../kustomize/kustomization-file';
import { containerImages, type ContainerImage, describeId, type Render } from '../kustomize/render';
import { isKustomizationFile } from '../updaters/kustomization';
import type { Environment } from './environment';

/** How overlays are rendered: `auto` (kubectl kustomize when the agent has it, else this task's resolver), `always` (kubectl), `never` (the resolver). */
export type RenderMode = 'auto' | 'always' | 'never';

/** One container image a root kustomization renders, at the file and line that decide it. */
export interface RenderedImage {
  /** `Deployment/heuristic container 'heuristic'`, for messages. */
  what: string;
  image: string;
  where: SourceLocation;
}

/** What rendering one root kustomization of an environment gave. */
export interface RootImages {
  /** The root's folder, relative to the repository. */
  dir: string;
  /** Its kustomization file, relative to the repository. */
  kustomization: string;
  by: 'kubectl' | 'resolver';
  images: RenderedImage[];
  /** The resources, for values beyond container images (HelmRelease values): the resolver's render when it has one, else kubectl's. */
  render?: Render;
  /** Whether `render`'s values know the file and line that wrote them (the resolver's do; kubectl's do not). */
  located?: boolean;
  /** Why it does not render (kubectl's words, or the resolver's), and where when known. */
  failed?: { message: string; where: SourceLocation };
  /** Set when it cannot be rendered here (the resolver does not follow it and kubectl is not used, or it needs helm the agent lacks): its images are not checked. */
  unsupported?: string;
}

const keyOf = (c: ContainerImage) => `${c.resource.kind}|${c.resource.namespace ?? ''}|${c.resource.name}|${c.path}`;

/**
 * Renders every root kustomization of `env`, with `kubectl` (its path) when given, else with the resolver. With
 * kubectl, what kubectl prints is what runs; the resolver's render of the same root, when it has one, says where
 * each value was written (kubectl keeps no file), else the root's kustomization is named.
 */
export async function renderRoots(env: Environment, kubectl: string | undefined): Promise<RootImages[]> {
  const out: RootImages[] = [];
  for (const root of env.roots) {
    const dir = path.relative(env.root, root).split(path.sep).join('/');
    let own: Render | undefined;
    let refused: UserError | undefined;
    try {
      own = env.renderRoot(root);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      refused = error;
    }
    const kustomization = own?.kustomization ?? env.files.find((f) => path.dirname(f.real) === root && isKustomizationFile(f.file))?.file ?? dir;
    if (kubectl) {
      let rendered = await kubectlRender(root, dir, kubectl);
      if ('error' in rendered && rendered.error.includes('--enable-helm')) {
        const helm = await findOnPath('helm');
        if (!helm) {
          out.push({ dir, kustomization, by: 'kubectl', images: [], unsupported: `${kustomization} inflates Helm charts (helmCharts), and the agent has no helm program for kubectl kustomize --enable-helm: install helm on the agent.` });
          continue;
        }
        rendered = await kubectlRender(root, dir, kubectl, helm);
      }
      if ('error' in rendered) {
        out.push({ dir, kustomization, by: 'kubectl', images: [], failed: { message: `kubectl kustomize ${dir} fails: ${rendered.error}`, where: (!(refused instanceof RenderUnsupported) && refused?.where) || { file: kustomization } } });
      } else {
        const provenance = new Map(own ? containerImages(own).map((c) => [keyOf(c), c.source]) : []);
        out.push({ dir, kustomization, by: 'kubectl', images: containerImages(rendered).map((c) => image(c, provenance.get(keyOf(c)) ?? { file: kustomization })), render: own ?? rendered, located: !!own });
      }
    } else if (refused instanceof RenderUnsupported) out.push({ dir, kustomization, by: 'resolver', images: [], unsupported: `${refused.message} kubectl kustomize renders it: use render: auto or always on an agent with kubectl.` });
    else if (refused) out.push({ dir, kustomization, by: 'resolver', images: [], failed: { message: refused.message, where: refused.where ?? { file: kustomization } } });
    else out.push({ dir, kustomization, by: 'resolver', images: containerImages(own!).map((c) => image(c, c.source)), render: own, located: true });
  }
  return out;
}

const image = (c: ContainerImage, where: SourceLocation): RenderedImage => ({ what: `${describeId(c.resource)} container '${c.container || c.path}'`, image: c.image, where });
