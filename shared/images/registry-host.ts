/**
 * Registry hosts spelled one way, so that a registry input, a service connection URL and the host of an
 * image reference compare equal: lowercase (host names are case-insensitive), port kept, without scheme,
 * path or trailing slash, and Docker Hub's names (`docker.io`, `index.docker.io`, `registry-1.docker.io`)
 * as `docker.io`, the name image references use. Docker Hub answers its API at registry-1.docker.io.
 */

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_NAMES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);

/**
 * A registry address split into its host, spelled one way, and the path after it:
 * `https://MyACR.azurecr.io/edge/` is `myacr.azurecr.io` and `edge`; Docker Hub's `https://index.docker.io/v1/`
 * (the key docker's config.json uses) is `docker.io` and ''.
 */
export function splitRegistryAddress(address: string): { host: string; path: string } {
  const [first, ...rest] = address.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/');
  const lower = first.toLowerCase();
  const host = DOCKER_HUB_NAMES.has(lower) ? DOCKER_HUB : lower;
  const path = rest.filter(Boolean).join('/');
  return { host, path: host === DOCKER_HUB && path === 'v1' ? '' : path };
}

/** The host of a registry input, service connection URL or image reference's registry part, spelled one way. */
export const registryHost = (address: string): string => splitRegistryAddress(address).host;

/** The host that serves the registry API of `address`: registry-1.docker.io for Docker Hub. */
export function registryApiHost(address: string): string {
  const host = registryHost(address);
  return host === DOCKER_HUB ? 'registry-1.docker.io' : host;
}

/** Azure Container Registry login servers: `<name>.azurecr.io`, and the sovereign clouds' `.azurecr.cn` and `.azurecr.us`. */
const ACR_HOST = /\.azurecr\.(io|cn|us)(:\d+)?$/;

/**
 * The registry an Azure connection given without a `registry` input signs in to, from the hosts of the
 * images a run reads: the one host they name, else the one Azure Container Registry among them. Undefined
 * when that is not one registry; `hosts` as registryHost spells them.
 */
export function azureRegistryAmong(hosts: Iterable<string>): string | undefined {
  const distinct = [...new Set(hosts)];
  if (distinct.length === 1) return distinct[0];
  const acr = distinct.filter((host) => ACR_HOST.test(host));
  return acr.length === 1 ? acr[0] : undefined;
}
