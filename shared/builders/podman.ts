import { ContainersTool } from './containers-tool';

/** Podman: `podman build` (`--manifest` for several platforms), `podman push` / `podman manifest push --all`. */
export class PodmanBuilder extends ContainersTool {
  readonly name = 'podman' as const;
}
