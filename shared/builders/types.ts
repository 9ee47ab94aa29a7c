import type { Log } from '../agent';
import type { RegistryCredentials } from '../registry/client';

export const BUILDER_NAMES = ['docker', 'podman', 'buildah'] as const;
export type BuilderName = (typeof BUILDER_NAMES)[number];

/** One image to build, for one or more platforms, under one or more full references. */
export interface BuildRequest {
  /** Absolute path of the Dockerfile (Containerfile). */
  dockerfile: string;
  /** Absolute path of the build context. */
  context: string;
  /** Full references `registry/repository:tag`; the first is the primary one. */
  references: string[];
  /** `os/arch[/variant]` each; empty means the builder's own platform. */
  platforms: string[];
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  /** Push every reference after building. */
  push: boolean;
}

/** A builder logged in to one registry. `dispose` removes the temporary credentials. */
export interface Builder {
  readonly name: BuilderName;
  build(request: BuildRequest): Promise<void>;
  dispose(): Promise<void>;
}

export interface BuilderOptions {
  /** Registry host (and port), e.g. `myacr.azurecr.io` or `127.0.0.1:5000`. */
  registry: string;
  credentials: RegistryCredentials;
  log: Log;
  /** Parent of the temporary directory that holds the auth file (default: the OS temp dir). */
  tempDir?: string;
}
