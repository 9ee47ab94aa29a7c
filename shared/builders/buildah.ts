import { ContainersTool } from './containers-tool';

/** Buildah: `buildah build` (`--manifest` for several platforms), `buildah push` / `buildah manifest push --all`. */
export class BuildahBuilder extends ContainersTool {
  readonly name = 'buildah' as const;
}
