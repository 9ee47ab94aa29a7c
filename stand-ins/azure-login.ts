import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../shared/process';
import { readBody } from './azure-devops/http';
import type { RegistryTokenIssuer } from './registry';

/**
 * A stand-in for every party of an Azure Container Registry sign-in from a pipeline, on one loopback port,
 * speaking their real protocols so that shared/azure and the registry client are tested end to end:
 *
 * - Azure DevOps' OIDC token endpoint (`System.OidcRequestUri`): `POST .../oidctoken?api-version=7.1&serviceConnectionId=`
 *   with the job's access token answers `{ oidcToken }`, a JWT for `sc://<org>/<project>/<connection>`;
 * - Microsoft Entra ID's token endpoint, `POST /<tenant>/oauth2/v2.0/token`, client credentials with a client
 *   assertion (the OIDC token, checked against each app's federated credential: signature, issuer, subject,
 *   audience, lifetime) or a client secret; errors as Entra words them (`AADSTS70021: ...`, error_codes);
 * - the Instance Metadata Service's managed identity endpoint, `GET /metadata/identity/oauth2/token` (header `Metadata: true`);
 * - ACR's `POST /oauth2/exchange` (Entra token → refresh token, for an identity with a role on the registry) and
 *   `/oauth2/token`: `POST` with the refresh-token grant, or `GET` with Basic `00000000-…:<refresh token>` as
 *   builders ask; it grants the requested actions the identity's role allows (AcrPush: pull, push; AcrPull: pull),
 *   as a JWT that Debian's docker-registry verifies in token-auth mode (ES256, an `x5c` header of a certificate in
 *   its root bundle).
 *
 * Everything it issued is in `issued` (for secret scans); every request is in `requests`.
 */

export type AcrRole = 'AcrPush' | 'AcrPull';

/** A service principal (app registration) in the stand-in's tenant. */
export interface AppRegistration {
  clientId: string;
  objectId: string;
  /** The subject of its federated credential (`sc://org/project/connection`); none: no federation. */
  federatedSubject?: string;
  secret?: string;
  /** Its role on the registry; none: the registry refuses it. */
  role?: AcrRole;
}

export interface ManagedIdentity {
  objectId: string;
  role?: AcrRole;
}

/** Token lifetimes in seconds; a negative one issues tokens that have already expired. */
export interface Lifetimes {
  oidc: number;
  entra: number;
  refresh: number;
  access: number;
}

export interface AzureLoginSetup {
  tenantId: string;
  /** The job access token (System.AccessToken) the OIDC endpoint accepts. */
  jobToken: string;
  organization: string;
  project: string;
  /** Service connections by id, with their names (the OIDC token's subject names the connection). */
  connections: Record<string, string>;
  apps: AppRegistration[];
  /** The agent VM's managed identity; none: IMDS answers "Identity not found". */
  managedIdentity?: ManagedIdentity;
  lifetimes: Lifetimes;
}

export interface StandInRequest {
  method: string;
  path: string;
  status: number;
  /** The OAuth grant asked for at /oauth2/token (`refresh_token` or `basic`), and the scope. */
  grant?: string;
  scope?: string;
}

/** Azure Resource Manager, in both spellings Entra knows it by: the resources whose tokens ACR exchanges. */
const RESOURCE_MANAGER = ['https://management.azure.com/', 'https://management.core.windows.net/'];
const FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';
const LEEWAY_S = 60;
const ROLE_ACTIONS: Record<AcrRole, string[]> = { AcrPush: ['pull', 'push'], AcrPull: ['pull'] };

type Claims = Record<string, unknown> & { exp?: number; nbf?: number };

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function signJwt(claims: Claims, key: KeyObject, header: Record<string, unknown> = {}): string {
  const input = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', ...header }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }))}`;
}

/** The claims of a JWT signed by `key`, or why it is not acceptable (bad signature, expired, not yet valid). */
function verifyJwt(token: string, key: KeyObject): { claims?: Claims; problem?: 'invalid' | 'expired' } {
  const [header, body, signature] = token.split('.');
  if (!header || !body || !signature) return { problem: 'invalid' };
  try {
    if (!verify('sha256', Buffer.from(`${header}.${body}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))) return { problem: 'invalid' };
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims;
    if ((claims.exp ?? 0) + LEEWAY_S < now() || (claims.nbf ?? 0) - LEEWAY_S > now()) return { claims, problem: 'expired' };
    return { claims };
  } catch {
    return { problem: 'invalid' };
  }
}

class Refusal extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`refused ${status}`);
  }
}

/** An Entra error answer: `AADSTS<code>: <message>` plus the trace lines Entra appends. */
const entraError = (status: number, code: number, error: string, message: string) =>
  new Refusal(status, {
    error,
    error_description: `AADSTS${code}: ${message} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code],
  });

/** A registry error answer, as ACR words them. */
const acrError = (status: number, code: string, message: string) => new Refusal(status, { errors: [{ code, message }] });

export class AzureLoginStandIn implements RegistryTokenIssuer {
  readonly requests: StandInRequest[] = [];
  /** Every token it issued, in order: the secrets that must appear nowhere. */
  readonly issued: string[] = [];
  readonly issuer = 'azure-login-stand-in';
  /** The service name the registry's challenge carries (ACR's is its login server). */
  readonly service = 'edgeacr.azurecr.stand-in';
  private readonly ado = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private readonly entra = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  private constructor(
    private readonly server: http.Server,
    readonly dir: string,
    private readonly registryKey: KeyObject,
    private readonly registryCert: string,
    readonly setup: AzureLoginSetup,
  ) {}

  /** Starts it on a loopback port, with a fresh ES256 key and certificate for the registry's tokens (openssl) under a temporary directory. */
  static async start(setup: Partial<AzureLoginSetup> = {}): Promise<AzureLoginStandIn> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'azure-login-'));
    const keyFile = path.join(dir, 'token-signer.key');
    const certFile = path.join(dir, 'token-signer.crt');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=registry token signer', '-keyout', keyFile, '-out', certFile]);
    const key = createPrivateKey(await fs.readFile(keyFile));
    const cert = new X509Certificate(await fs.readFile(certFile)).raw.toString('base64');
    const full: AzureLoginSetup = {
      tenantId: '72f988bf-0000-4000-8000-00000000edge',
      jobToken: `job-token-${randomUUID()}`,
      organization: 'edge',
      project: 'Edge',
      connections: {},
      apps: [],
      ...setup,
      lifetimes: { oidc: 600, entra: 3600, refresh: 10800, access: 3600, ...setup.lifetimes },
    };
    const server = http.createServer();
    const standIn = new AzureLoginStandIn(server, dir, key, cert, full);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void standIn.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The job's System.OidcRequestUri. */
  get oidcRequestUri(): string {
    return `${this.origin}/${this.setup.organization}/${this.setup.project}/_apis/distributedtask/hubs/build/plans/${randomUUID()}/jobs/${randomUUID()}/oidctoken`;
  }

  /** The Entra authority (an Azure connection's activeDirectoryAuthority). */
  get authority(): string {
    return `${this.origin}/`;
  }

  get imdsUrl(): string {
    return this.origin;
  }

  get realm(): string {
    return `${this.origin}/oauth2/token`;
  }

  get rootCertBundle(): string {
    return path.join(this.dir, 'token-signer.crt');
  }

  /** The federated credential subject of a service connection, as Azure DevOps names it. */
  subjectOf(connectionName: string): string {
    return `sc://${this.setup.organization}/${this.setup.project}/${connectionName}`;
  }

  /** A registry token for setting a registry up: every action on `repository`. */
  setupToken(repository: string): string {
    return this.registryToken('setup', [{ type: 'repository', name: repository, actions: ['pull', 'push', 'delete'] }]);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  private get oidcIssuer(): string {
    return `https://vstoken.dev.azure.com/${this.setup.organization}`;
  }

  private mint(token: string): string {
    this.issued.push(token);
    return token;
  }

  private registryToken(subject: string, access: Array<{ type: string; name: string; actions: string[] }>): string {
    const iat = now();
    const claims = { iss: this.issuer, sub: subject, aud: this.service, iat, nbf: iat, exp: iat + this.setup.lifetimes.access, jti: randomUUID(), access };
    return this.mint(signJwt(claims, this.registryKey, { x5c: [this.registryCert] }));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const record: StandInRequest = { method: req.method ?? '', path: url.pathname, status: 200 };
    this.requests.push(record);
    let status = 200;
    let body: unknown;
    try {
      const form = new URLSearchParams(await readBody(req));
      const route = `${req.method} ${url.pathname}`;
      if (route.startsWith('POST ') && url.pathname.endsWith('/oidctoken')) body = this.oidcToken(req, url);
      else if (/^POST \/[^/]+\/oauth2\/v2\.0\/token$/.test(route)) body = this.entraToken(url.pathname.split('/')[1], form);
      else if (route === 'GET /metadata/identity/oauth2/token') body = this.imdsToken(req, url);
      else if (route === 'POST /oauth2/exchange') body = this.exchange(form);
      else if (route === 'POST /oauth2/token' || route === 'GET /oauth2/token') body = this.accessToken(req, route === 'POST /oauth2/token' ? form : url.searchParams, record);
      else throw new Refusal(404, { message: `No route ${route}` });
    } catch (error) {
      status = error instanceof Refusal ? error.status : 500;
      body = error instanceof Refusal ? error.body : { message: String(error) };
    }
    record.status = status;
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  }

  private oidcToken(req: http.IncomingMessage, url: URL) {
    if (req.headers.authorization !== `Bearer ${this.setup.jobToken}`) throw new Refusal(401, { message: 'TF400813: The user is not authorized to access this resource.' });
    if (url.searchParams.get('api-version') !== '7.1') throw new Refusal(400, { message: 'The requested REST API version is not supported.' });
    const name = this.setup.connections[url.searchParams.get('serviceConnectionId') ?? ''];
    if (!name) throw new Refusal(400, { message: 'The service connection does not exist or has not been authorized for use.' });
    const iat = now();
    const claims = { iss: this.oidcIssuer, sub: this.subjectOf(name), aud: FEDERATION_AUDIENCE, iat, nbf: iat, exp: iat + this.setup.lifetimes.oidc, jti: randomUUID() };
    return { oidcToken: this.mint(signJwt(claims, this.ado.privateKey)) };
  }

  private entraToken(tenant: string, form: URLSearchParams) {
    if (tenant !== this.setup.tenantId) throw entraError(400, 90002, 'invalid_request', `Tenant '${tenant}' not found.`);
    const clientId = form.get('client_id') ?? '';
    const app = this.setup.apps.find((a) => a.clientId === clientId);
    if (form.get('grant_type') !== 'client_credentials') throw entraError(400, 70003, 'unsupported_grant_type', 'The app requested an unsupported grant type.');
    if (!app) throw entraError(400, 700016, 'unauthorized_client', `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
    const resource = (form.get('scope') ?? '').replace(/\.default$/, '');
    if (!RESOURCE_MANAGER.includes(resource)) throw entraError(400, 500011, 'invalid_resource', `The resource principal named ${resource} was not found in the tenant.`);
    const assertion = form.get('client_assertion');
    if (assertion) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') throw entraError(400, 50027, 'invalid_request', 'Invalid client assertion type.');
      const { claims, problem } = verifyJwt(assertion, this.ado.publicKey);
      if (problem === 'invalid' || !claims) throw entraError(401, 50027, 'invalid_client', 'JWT token is invalid or malformed.');
      if (problem === 'expired') throw entraError(400, 700024, 'invalid_client', 'Client assertion is not within its valid time range.');
      if (claims.iss !== this.oidcIssuer || claims.aud !== FEDERATION_AUDIENCE || claims.sub !== app.federatedSubject) {
        throw entraError(
          400,
          70021,
          'invalid_client',
          `No matching federated identity record found for presented assertion. Assertion Issuer: '${claims.iss}'. Assertion Subject: '${claims.sub}'. Assertion Audience: '${claims.aud}'.`,
        );
      }
    } else if (!app.secret || form.get('client_secret') !== app.secret) {
      throw entraError(401, 7000215, 'invalid_client', `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    }
    return { token_type: 'Bearer', expires_in: this.setup.lifetimes.entra, access_token: this.entraAccessToken(app.objectId, resource, clientId) };
  }

  private imdsToken(req: http.IncomingMessage, url: URL) {
    if (req.headers.metadata !== 'true') throw new Refusal(400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
    const identity = this.setup.managedIdentity;
    if (!identity) throw new Refusal(400, { error: 'invalid_request', error_description: 'Identity not found' });
    const resource = url.searchParams.get('resource') ?? '';
    if (!RESOURCE_MANAGER.includes(resource)) throw new Refusal(400, { error: 'invalid_resource', error_description: `AADSTS500011: The resource principal named ${resource} was not found in the tenant.` });
    const token = this.entraAccessToken(identity.objectId, resource);
    return { access_token: token, expires_in: String(this.setup.lifetimes.entra), expires_on: String(now() + this.setup.lifetimes.entra), resource, token_type: 'Bearer' };
  }

  private entraAccessToken(objectId: string, audience: string, appId?: string): string {
    const iat = now();
    const claims = { iss: `https://sts.windows.net/${this.setup.tenantId}/`, aud: audience, tid: this.setup.tenantId, oid: objectId, appid: appId, iat, nbf: iat, exp: iat + this.setup.lifetimes.entra };
    return this.mint(signJwt(claims, this.entra.privateKey));
  }

  private roleOf(objectId: unknown): AcrRole | undefined {
    const identities = [...this.setup.apps, ...(this.setup.managedIdentity ? [this.setup.managedIdentity] : [])];
    return identities.find((i) => i.objectId === objectId)?.role;
  }

  private exchange(form: URLSearchParams) {
    if (form.get('grant_type') !== 'access_token') throw acrError(400, 'UNSUPPORTED', 'grant_type must be access_token');
    if (form.get('service') !== this.service) throw acrError(400, 'INVALID', `service must be ${this.service}`);
    const { claims, problem } = verifyJwt(form.get('access_token') ?? '', this.entra.publicKey);
    if (!claims || problem) throw acrError(401, 'UNAUTHORIZED', `the access token is ${problem === 'expired' ? 'expired' : 'invalid'}`);
    if (!RESOURCE_MANAGER.includes(String(claims.aud)) || (form.get('tenant') && form.get('tenant') !== claims.tid)) {
      throw acrError(401, 'UNAUTHORIZED', 'the access token is not for this registry tenant or audience');
    }
    if (!this.roleOf(claims.oid)) throw acrError(403, 'DENIED', 'requested access to the resource is denied');
    const iat = now();
    const refresh = { iss: 'Azure Container Registry', sub: claims.oid, aud: this.service, tenant: claims.tid, grant_type: 'refresh_token', iat, nbf: iat, exp: iat + this.setup.lifetimes.refresh, jti: randomUUID() };
    return { refresh_token: this.mint(signJwt(refresh, this.registryKey)) };
  }

  private accessToken(req: http.IncomingMessage, params: URLSearchParams, record: StandInRequest) {
    let refreshToken: string | undefined;
    if (req.method === 'POST') {
      record.grant = params.get('grant_type') ?? '';
      if (record.grant === 'refresh_token') refreshToken = params.get('refresh_token') ?? undefined;
    } else {
      record.grant = 'basic';
      const [user, password] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /i, ''), 'base64').toString().split(/:(.*)/s);
      if (user === '00000000-0000-0000-0000-000000000000') refreshToken = password;
    }
    record.scope = params.getAll('scope').join(' ');
    if (!refreshToken) throw acrError(401, 'UNAUTHORIZED', 'authentication required, visit https://aka.ms/acr/authorization for more information.');
    if (params.get('service') !== this.service) throw acrError(400, 'INVALID', `service must be ${this.service}`);
    const { claims, problem } = verifyJwt(refreshToken, createPublicKey(this.registryKey));
    if (!claims || problem || claims.aud !== this.service || claims.grant_type !== 'refresh_token') {
      throw acrError(401, 'UNAUTHORIZED', `the refresh token is ${problem === 'expired' ? 'expired' : 'invalid'}`);
    }
    const allowed = ROLE_ACTIONS[this.roleOf(claims.sub) as AcrRole] ?? [];
    const access = record.scope
      .split(' ')
      .filter(Boolean)
      .map((scope) => /^repository:(.+):([^:]*)$/.exec(scope))
      .filter((m): m is RegExpExecArray => !!m)
      .map(([, name, actions]) => ({ type: 'repository', name, actions: actions.split(',').filter((a) => allowed.includes(a)) }));
    return { access_token: this.registryToken(String(claims.sub), access) };
  }
}
