import { UserError } from '../errors';
import { registryApiHost, registryHost } from '../images/registry-host';
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
  /** A password, a token, or with username REFRESH_TOKEN_USER an OAuth2 refresh token (ACR's). */
  password?: string;
  /** What to do when the registry refuses these credentials; default: check the service connection or registryUsername/registryPassword. */
  hint?: string;
}

/**
 * The username that says the password is a refresh token (ACR's convention, which `az acr login` and
 * Azure Pipelines' Docker task use): the client asks the token service with the OAuth2 refresh-token grant.
 */
export const REFRESH_TOKEN_USER = '00000000-0000-0000-0000-000000000000';

/** Where the registry API of `registry` is: plain HTTP on loopback, HTTPS elsewhere. */
export function registryBaseUrl(registry: string): string {
  return `${isLoopback(registry) ? 'http' : 'https'}://${registryApiHost(registry)}`;
}

/** The message of a registry's error answer (`{"errors":[{"code","message"}]}`), or of an OAuth one, or its text. */
export function registryMessage(body: Record<string, unknown>): string {
  const errors = Array.isArray(body.errors) ? (body.errors as Array<{ code?: string; message?: string }>) : [];
  if (errors.length) return errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  return String(body.error_description ?? body.error ?? body.details ?? body.message ?? body.text ?? '');
}

/** A WWW-Authenticate challenge: its scheme, lower case, and its parameters (realm, service, scope, error). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = /^\s*(\w+)/.exec(header)?.[1]?.toLowerCase() ?? '';
  return { scheme, params: Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])) };
}

/** Where a registry's Bearer challenge sends clients for tokens: its realm, and the service name to ask for. */
interface TokenService {
  realm: string;
  service?: string;
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
  /** Set once the registry asked for a Bearer token: later scopes' tokens are asked for up front. */
  private tokenService?: TokenService;

  constructor(
    readonly registry: string,
    private readonly credentials: RegistryCredentials = {},
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.baseUrl = registryBaseUrl(registry);
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

  /**
   * Checks that the credentials may push to `repository`, so that a refusal stops a build before it
   * starts: begins a blob upload (what a push does first, asking the token service for pull,push) and cancels it.
   */
  async checkPush(repository: string): Promise<void> {
    const response = await this.request('POST', `/v2/${repository}/blobs/uploads/`, repository, {}, 'pull,push');
    await this.expectOk(response, `checking push access to ${repository}`);
    const location = new URL(response.headers.get('location') ?? '', this.baseUrl);
    if (location.origin === this.baseUrl) {
      // Once, with the credentials that started it: a registry may want more (docker-registry asks for `delete`),
      // and unfinished uploads expire anyway.
      const authorization = this.tokens.get(`repository:${repository}:pull,push`) ?? (this.basicAccepted ? this.basicHeader() : undefined);
      await this.send('DELETE', location.pathname + location.search, {}, authorization).catch(() => undefined);
    }
  }

  private async expectOk(response: Response, what: string): Promise<void> {
    if (response.ok) return;
    if (response.status === 401 || response.status === 403) {
      const { error } = parseChallenge(response.headers.get('www-authenticate') ?? '').params;
      throw this.refused(`${response.status}${error ? `, ${error}` : ''}`, `while ${what}`);
    }
    throw new Error(`The registry ${this.registry} answered ${response.status} while ${what}: ${(await response.text()).slice(0, 200)}`);
  }

  private refused(status: string, when: string, hint = this.credentials.hint ?? 'check the service connection or registryUsername/registryPassword'): UserError {
    return new UserError(`The registry ${this.registry} refused the credentials (${status}) ${when}: ${hint}.`);
  }

  private async request(
    method: string,
    pathAndQuery: string,
    repository: string | undefined,
    headers: Record<string, string> = {},
    actions = 'pull',
  ): Promise<Response> {
    const scope = repository ? `repository:${repository}:${actions}` : '';
    return withRetry(async () => {
      let authorization = this.tokens.get(scope) ?? (this.basicAccepted ? this.basicHeader() : undefined);
      if (!authorization && scope && this.tokenService) {
        // The registry wants tokens: ask for this scope's at once, saving a 401 per repository.
        authorization = await this.token(this.tokenService, scope);
        if (authorization) this.tokens.set(scope, authorization);
      }
      let response = await this.send(method, pathAndQuery, headers, authorization);
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
      throw new TransientError(`${this.registry} could not be reached: ${(error as Error).message}`);
    }
  }

  /**
   * The Authorization header that answers a WWW-Authenticate challenge: Basic, or a Bearer token from the
   * realm, asked with the refresh-token grant (POST) when the password is a refresh token, else with
   * Basic credentials (GET), or anonymously. A token service that refuses the credentials stops the task.
   */
  private async answer(challenge: string, scope: string): Promise<string | undefined> {
    const basic = this.basicHeader();
    const { scheme, params } = parseChallenge(challenge);
    if (scheme === 'basic') {
      this.basicAccepted = basic !== undefined;
      return basic;
    }
    if (scheme !== 'bearer' || !params.realm) return undefined;
    this.tokenService = { realm: params.realm, service: params.service };
    return this.token(this.tokenService, params.scope ?? scope);
  }

  /** A Bearer token for `wanted` from the token service; undefined when it refuses an anonymous client. */
  private async token(service: TokenService, wanted: string): Promise<string | undefined> {
    const basic = this.basicHeader();
    const url = new URL(service.realm);
    const refreshToken = this.credentials.username === REFRESH_TOKEN_USER ? this.credentials.password : undefined;
    let response: Response;
    try {
      if (refreshToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
        if (service.service) form.set('service', service.service);
        if (wanted) form.set('scope', wanted);
        response = await this.fetchImpl(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      } else {
        if (service.service) url.searchParams.set('service', service.service);
        if (wanted) url.searchParams.set('scope', wanted);
        response = await this.fetchImpl(url, { headers: basic ? { Authorization: basic } : {} });
      }
    } catch (error) {
      throw new TransientError(`the token service of ${this.registry} (${url.host}) could not be reached: ${(error as Error).message}`);
    }
    if (isTransientStatus(response.status)) throw new TransientError(`the token service of ${this.registry} answered ${response.status}`, retryAfterMs(response.headers));
    if (!response.ok) {
      // Anonymous: the registry's own 401 says it best.
      if (!basic) return undefined;
      const text = await response.text().catch(() => '');
      let said: string;
      try {
        said = registryMessage(JSON.parse(text) as Record<string, unknown>);
      } catch {
        said = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      }
      throw this.refused(
        `${response.status}${said ? `: ${said}` : ''}`,
        `when its token service (${url.host}) was asked for ${wanted || 'a sign-in token'}`,
        // A refresh token that signed in once and is refused now has expired (ACR's last 3 hours) or was revoked.
        refreshToken ? 'the registry refresh token expired or was revoked: run the job again' : undefined,
      );
    }
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
