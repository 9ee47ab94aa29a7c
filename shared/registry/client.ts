import { UserError } from '../errors';
import { registryApiHost, registryHost } from '../images/registry-host';
import { networkFailure, type FetchFunction } from '../net/fetch';
import { isTransientStatus, retryAfterMs, TransientError, withRetry } from '../retry';

/** Every manifest kind a registry may hold for an image: OCI and Docker v2, single and multi-platform. */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryCredentials {
  username?: string;
  password?: string;
}

/** A loopback registry is reached over plain HTTP, as docker does; any other over HTTPS. */
export function isLoopback(registry: string): boolean {
  const address = registryHost(registry);
  const host = address.startsWith('[') ? address.slice(0, address.indexOf(']') + 1) : address.split(':')[0];
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * A client of the OCI distribution API of one registry (any spelling registryHost reads; Docker Hub is asked
 * at its API host, registry-1.docker.io). Authenticates as registries ask: Basic, or the Bearer token
 * challenge (realm/service/scope) that ACR, Docker Hub, GHCR and Harbor use; retries 429 and 5xx.
 */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly tokens = new Map<string, string>();
  /** Set once the registry asked for Basic auth: later requests send it up front, saving a 401 each. */
  private basicAccepted = false;

  constructor(
    readonly registry: string,
    private readonly credentials: RegistryCredentials = {},
    /** The transport: fetchWith(the agent's network settings) for its proxy and CA file; the global fetch by default. */
    private readonly fetchImpl: FetchFunction = fetch,
  ) {
    this.baseUrl = `${isLoopback(registry) ? 'http' : 'https'}://${registryApiHost(registry)}`;
  }

  /** Every tag of `repository`, following `Link` pagination; [] when the repository does not exist. */
  async listTags(repository: string, pageSize = 1000): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repository}/tags/list?n=${pageSize}`;
    while (next) {
      const response = await this.request('GET', next, repository);
      if (response.status === 404) return [];
      await this.expectOk(response, `listing tags of ${repository}`);
      const body = (await response.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      const link = response.headers.get('link');
      next = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
      if (next && /^https?:\/\//.test(next)) next = new URL(next).pathname + new URL(next).search;
    }
    return tags;
  }

  /** The digest of `repository:reference` as the registry computes it, or undefined when absent. */
  async digest(repository: string, reference: string): Promise<string | undefined> {
    const response = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, repository, { Accept: MANIFEST_TYPES });
    if (response.status === 404) return undefined;
    await this.expectOk(response, `reading ${repository}:${reference}`);
    const digest = response.headers.get('docker-content-digest');
    if (digest) return digest;
    const body = await this.manifest(repository, reference);
    return body?.digest;
  }

  /** The manifest (or index) of `repository:reference` with its media type and digest. */
  async manifest(repository: string, reference: string): Promise<{ mediaType: string; digest: string; body: unknown } | undefined> {
    const response = await this.request('GET', `/v2/${repository}/manifests/${reference}`, repository, { Accept: MANIFEST_TYPES });
    if (response.status === 404) return undefined;
    await this.expectOk(response, `reading ${repository}:${reference}`);
    const text = await response.text();
    const { createHash } = await import('node:crypto');
    const digest = response.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(text).digest('hex')}`;
    return { mediaType: response.headers.get('content-type') ?? '', digest, body: JSON.parse(text) };
  }

  /** A blob (e.g. an image config), parsed as JSON. */
  async blobJson(repository: string, digest: string): Promise<unknown> {
    const response = await this.request('GET', `/v2/${repository}/blobs/${digest}`, repository);
    await this.expectOk(response, `reading blob ${digest} of ${repository}`);
    return response.json();
  }

  /**
   * The platforms (`os/arch[/variant]`) an image serves: each entry of an index (attestation entries,
   * `unknown/unknown`, left out), or the os and architecture of a single image's config.
   */
  async platforms(repository: string, reference: string): Promise<string[] | undefined> {
    const manifest = await this.manifest(repository, reference);
    if (!manifest) return undefined;
    const body = manifest.body as {
      manifests?: Array<{ platform?: { os?: string; architecture?: string; variant?: string } }>;
      config?: { digest?: string };
    };
    const spell = (p: { os?: string; architecture?: string; variant?: string }) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');
    if (Array.isArray(body.manifests)) {
      return body.manifests.map((m) => (m.platform ? spell(m.platform) : '')).filter((p) => p && p !== 'unknown/unknown');
    }
    if (!body.config?.digest) return [];
    const config = (await this.blobJson(repository, body.config.digest)) as { os?: string; architecture?: string; variant?: string };
    const platform = spell(config);
    return platform ? [platform] : [];
  }

  /** Checks that the registry answers and accepts the credentials. */
  async ping(): Promise<void> {
    const response = await this.request('GET', '/v2/', undefined);
    await this.expectOk(response, 'checking the registry');
  }

  private async expectOk(response: Response, what: string): Promise<void> {
    if (response.ok) return;
    if (response.status === 401 || response.status === 403) {
      throw new UserError(
        `The registry ${this.registry} refused the credentials (${response.status}) while ${what}: check the service connection or registryUsername/registryPassword.`,
      );
    }
    throw new Error(`The registry ${this.registry} answered ${response.status} while ${what}: ${(await response.text()).slice(0, 200)}`);
  }

  private async request(method: string, pathAndQuery: string, repository: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
    const scope = repository ? `repository:${repository}:pull` : '';
    return withRetry(async () => {
      let response = await this.send(method, pathAndQuery, headers, this.tokens.get(scope) ?? (this.basicAccepted ? this.basicHeader() : undefined));
      if (response.status === 401) {
        const challenge = response.headers.get('www-authenticate') ?? '';
        const authorization = await this.answer(challenge, scope);
        if (authorization) {
          this.tokens.set(scope, authorization);
          response = await this.send(method, pathAndQuery, headers, authorization);
        }
      }
      if (isTransientStatus(response.status)) {
        throw new TransientError(`${this.registry} answered ${response.status}`, retryAfterMs(response.headers));
      }
      return response;
    }, { attempts: 4, baseMs: 100, capMs: 2000 });
  }

  private async send(method: string, pathAndQuery: string, headers: Record<string, string>, authorization?: string): Promise<Response> {
    try {
      return await this.fetchImpl(this.baseUrl + pathAndQuery, {
        method,
        headers: authorization ? { ...headers, Authorization: authorization } : headers,
        redirect: 'follow',
      });
    } catch (error) {
      throw networkFailure(error, `the registry ${this.registry}`);
    }
  }

  /** The Authorization header that answers a WWW-Authenticate challenge. */
  private async answer(challenge: string, scope: string): Promise<string | undefined> {
    const basic = this.basicHeader();
    if (/^basic/i.test(challenge)) {
      this.basicAccepted = basic !== undefined;
      return basic;
    }
    if (!/^bearer/i.test(challenge)) return undefined;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    const wanted = params.scope ?? scope;
    if (wanted) url.searchParams.set('scope', wanted);
    const response = await this.fetchImpl(url, { headers: basic ? { Authorization: basic } : {} });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }

  private basicHeader(): string | undefined {
    const { username, password } = this.credentials;
    if (!username && !password) return undefined;
    return `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`;
  }
}
