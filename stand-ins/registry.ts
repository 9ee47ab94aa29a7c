import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../shared/process';

/** The programs the test registry runs on (Debian docker-registry, htpasswd from apache2-utils). */
export const REGISTRY_TOOLS = ['docker-registry', 'htpasswd'];
/** The programs the token-auth registry runs on (openssl makes the token signer's certificate). */
export const TOKEN_REGISTRY_TOOLS = ['docker-registry', 'openssl'];

/** A token service for a registry in token-auth mode (stand-ins/azure-login.ts is one). */
export interface RegistryTokenIssuer {
  /** Where the registry's challenge sends clients for tokens. */
  realm: string;
  /** The `service` of the challenge, and the audience of the tokens. */
  service: string;
  /** The `iss` of the tokens. */
  issuer: string;
  /** A PEM file of the certificate(s) whose keys sign the tokens. */
  rootCertBundle: string;
  /** A token granting every action on `repository`, for setting the registry up. */
  setupToken(repository: string): string;
}

/**
 * A real OCI registry (Debian's docker-registry, distribution 2.8) on a loopback port, in a temporary
 * directory: with htpasswd basic auth (`start`), or with token auth (`startWithTokens`: it sends clients to
 * the issuer's realm and accepts only JWTs signed by a key whose certificate is in the issuer's bundle,
 * for the repositories and actions they list). `host` is `127.0.0.1:<port>`.
 */
export class TestRegistry {
  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly host: string,
    readonly username: string,
    readonly password: string,
    private readonly tokens?: RegistryTokenIssuer,
  ) {}

  static async start(username = 'pipeline', password = 'reg-secret-7f3a9c'): Promise<TestRegistry> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'registry-'));
    await run('htpasswd', ['-Bbc', path.join(dir, 'htpasswd'), username, password]);
    const { child, host } = await TestRegistry.serve(dir, `auth: { htpasswd: { realm: test, path: ${path.join(dir, 'htpasswd')} } }`);
    return new TestRegistry(child, dir, host, username, password);
  }

  static async startWithTokens(tokens: RegistryTokenIssuer): Promise<TestRegistry> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'registry-'));
    const { realm, service, issuer, rootCertBundle } = tokens;
    const auth = `auth: { token: { realm: "${realm}", service: "${service}", issuer: "${issuer}", rootcertbundle: ${rootCertBundle} } }`;
    const { child, host } = await TestRegistry.serve(dir, auth);
    return new TestRegistry(child, dir, host, '', '', tokens);
  }

  private static async serve(dir: string, auth: string): Promise<{ child: ChildProcess; host: string }> {
    const config = [
      'version: 0.1',
      'log: { level: info, accesslog: { disabled: true } }',
      'http: { addr: "127.0.0.1:0", secret: test-upload-secret }',
      `storage: { filesystem: { rootdirectory: ${path.join(dir, 'data')} }, delete: { enabled: true } }`,
      auth,
    ].join('\n');
    await fs.writeFile(path.join(dir, 'config.yml'), config);
    const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const host = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        const match = /listening on (?:\[::\]|127\.0\.0\.1|[\d.]+):(\d+)/.exec(seen) ?? /addr=127\.0\.0\.1:(\d+)/.exec(seen);
        if (match) resolve(`127.0.0.1:${match[1]}`);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`docker-registry exited ${code}: ${seen}`)));
      setTimeout(() => reject(new Error(`docker-registry did not start: ${seen}`)), 15000);
    });
    return { child, host };
  }

  /** The Authorization header for setting up `repository`: Basic, or a token of the issuer. */
  authorization(repository: string): string {
    if (this.tokens) return `Bearer ${this.tokens.setupToken(repository)}`;
    return `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
  }

  async stop(): Promise<void> {
    this.child.kill();
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  /** Uploads a blob; returns its digest. */
  async putBlob(repository: string, content: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const authorization = this.authorization(repository);
    const start = await fetch(`http://${this.host}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: { Authorization: authorization } });
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
    const location = new URL(start.headers.get('location')!, `http://${this.host}`);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { Authorization: authorization, 'Content-Type': 'application/octet-stream' },
      body: content,
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
    return digest;
  }

  /**
   * Pushes a minimal OCI image (one config, one empty layer) under `tag`, without any builder.
   * `seed` makes the content, so the digest, unique. Returns the manifest digest the registry reports.
   */
  async pushImage(repository: string, tag: string, seed = tag, labels: Record<string, string> = {}): Promise<string> {
    const layer = Buffer.from(seed);
    const layerDigest = await this.putBlob(repository, layer);
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [layerDigest] } }),
    );
    const configDigest = await this.putBlob(repository, config);
    return this.putManifest(repository, tag, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    });
  }

  /** Puts an OCI image manifest under `tag`; returns the digest the registry reports. */
  async putManifest(repository: string, tag: string, manifest: unknown): Promise<string> {
    const response = await fetch(`http://${this.host}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { Authorization: this.authorization(repository), 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: JSON.stringify(manifest),
    });
    if (response.status !== 201) throw new Error(`manifest put ${repository}:${tag}: ${response.status} ${await response.text()}`);
    return response.headers.get('docker-content-digest')!;
  }
}
