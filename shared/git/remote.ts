import type { Log } from '../agent';
import { shown, UserError } from '../errors';
import type { RunResult } from '../process';
import { isTransientStatus, TransientError, withRetry, type RetryOptions } from '../retry';
import { noProxyHosts, proxyRefused, untrustedCertificate, type NetworkSettings } from '../net/network';
import type { Git } from './git';

/** How git reaches a remote: credentials and the agent's network settings, all handed over in the child's environment. */
export interface RemoteSettings extends NetworkSettings {
  token?: string;
  /** 'bearer' (the job's access token, default) or 'pat' (a personal access token, sent as Basic). */
  tokenKind?: 'bearer' | 'pat';
}

/**
 * The environment that carries `settings` to git: `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`
 * entries (http.extraheader, http.proxy, http.sslCAInfo with GIT_SSL_CAINFO) after any the parent already
 * set, and NO_PROXY for the hosts the proxy's bypass patterns name (a pattern naming none is said on
 * `log`'s debug). Never argv, never .git/config. `secrets` lists every secret form in it (to redact), `derived` those made here
 * from the given secrets (for the agent to mask as well).
 */
export function remoteEnv(settings: RemoteSettings, parent: NodeJS.ProcessEnv = process.env, log?: Log): { env: Record<string, string>; secrets: string[]; derived: string[] } {
  const entries: Array<[string, string]> = [];
  // The secrets as given (the caller registered them with the agent), and the forms made of them here.
  const secrets: string[] = [];
  const derived: string[] = [];
  if (settings.token) {
    secrets.push(settings.token);
    if (settings.tokenKind === 'pat') {
      const basic = Buffer.from(`pat:${settings.token}`).toString('base64');
      derived.push(basic);
      entries.push(['http.extraheader', `AUTHORIZATION: basic ${basic}`]);
    } else entries.push(['http.extraheader', `AUTHORIZATION: bearer ${settings.token}`]);
  }
  const env: Record<string, string> = {};
  const proxy = settings.proxy;
  if (proxy) {
    const url = new URL(proxy.url);
    if (proxy.username) url.username = encodeURIComponent(proxy.username);
    if (proxy.password) {
      url.password = encodeURIComponent(proxy.password);
      secrets.push(proxy.password);
      derived.push(encodeURIComponent(proxy.password), url.href);
    }
    entries.push(['http.proxy', url.href]);
    const bypass = noProxyHosts(proxy.bypass ?? [], log);
    if (bypass.length) env.NO_PROXY = env.no_proxy = bypass.join(',');
  }
  if (settings.caFile) {
    entries.push(['http.sslCAInfo', settings.caFile]);
    // An inherited GIT_SSL_CAINFO (some images set it to the system bundle) wins over http.sslCAInfo: replace it.
    env.GIT_SSL_CAINFO = settings.caFile;
  }
  if (entries.length === 0) return { env, secrets, derived };
  const first = Number(parent.GIT_CONFIG_COUNT) || 0;
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${first + i}`] = key;
    env[`GIT_CONFIG_VALUE_${first + i}`] = value;
  });
  env.GIT_CONFIG_COUNT = String(first + entries.length);
  return { env, secrets: [...secrets, ...derived], derived };
}

/** What a failed git network command means for the user. */
export type GitFailureKind = 'unauthorized' | 'forbidden' | 'not-found' | 'missing-ref' | 'rejected' | 'proxy-refused' | 'untrusted-certificate' | 'transient' | 'other';

/** Reads what git said when a network command failed. */
export function classifyGitFailure(output: string): GitFailureKind {
  const status = /returned error: (\d{3})/.exec(output)?.[1];
  // A 401 makes git ask for a username it cannot prompt for; a refused credential says "Authentication failed".
  if (status === '401' || /Authentication failed|could not read (Username|Password)/i.test(output)) return 'unauthorized';
  if (status === '403') return 'forbidden';
  if (status === '407' || /HTTP code 407 from proxy/.test(output)) return 'proxy-refused';
  // OpenSSL's and GnuTLS's words (Debian's git uses GnuTLS).
  if (/SSL certificate problem|server certificate verification failed/.test(output)) return 'untrusted-certificate';
  if (status === '404' || /repository '[^']*' not found/i.test(output)) return 'not-found';
  if (/couldn't find remote ref/i.test(output)) return 'missing-ref';
  // A push refused because the ref moved or already exists (a hook's or a protected branch's refusal is not one).
  if (/\[rejected\]|stale info|fetch first|non-fast-forward|already exists|cannot lock ref|failed to update ref/.test(output) && !/hook declined|protected branch/i.test(output)) return 'rejected';
  if (status) return isTransientStatus(Number(status)) ? 'transient' : 'other';
  // A connection dropped or cut short: what curl and git say then.
  if (/RPC failed|Connection reset|timed out|unexpected disconnect|early EOF|Empty reply from server|remote end hung up unexpectedly/i.test(output)) return 'transient';
  return 'other';
}

/** A remote URL fit for messages: any user:password@ part is dropped. */
export function safeUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}

/** What to tell the user to fix when the remote refuses this task's credentials or writes. */
export interface FailureHints {
  /** After "the access token was refused (HTTP 401)". */
  unauthorized: string;
  /** After "access denied (HTTP 403)", and after a refusal that names a permission. */
  forbidden: string;
}

export interface RemoteOptions {
  settings?: RemoteSettings;
  /** How the remote is named in messages, e.g. `remote 'origin' (https://…)`; default its URL or name. */
  label?: string;
  hints: FailureHints;
  retry?: RetryOptions;
  log?: Log;
}

/** Attempts of a git network command, and the backoff between them: full-jitter waits of up to 0.5, 1, 2, 4 and 8 s. */
const GIT_RETRY: RetryOptions = { attempts: 6, baseMs: 500, capMs: 8000 };

/**
 * A git remote (a configured remote's name, or a URL) as the tasks talk to it: every network command
 * runs with the remote's settings in its environment only, a transient failure (HTTP 429/5xx, a dropped
 * connection) is run again with backoff, and a failure ends in a UserError the user can act on.
 */
export class Remote {
  private readonly env: Record<string, string>;
  private readonly secrets: string[];

  constructor(readonly git: Git, readonly name: string, private readonly options: RemoteOptions) {
    const { env, secrets, derived } = remoteEnv(options.settings ?? {}, process.env, options.log);
    this.env = env;
    this.secrets = secrets;
    for (const secret of derived) options.log?.setSecret(secret);
  }

  get label(): string {
    return this.options.label ?? safeUrl(this.name);
  }

  /**
   * Runs `git <args>` against the remote; `what` says in the log what is retried. Returns the last
   * result, failed or not: the caller reads a failure with `classifyGitFailure` or `failure`.
   */
  async run(what: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    let last: RunResult | undefined;
    const onRetry = (_error: Error, attempt: number, waitMs: number) =>
      this.options.log?.info(`${what} failed transiently (attempt ${attempt}); trying again in ${(waitMs / 1000).toFixed(1)} s`);
    try {
      return await withRetry(
        async () => {
          last = await this.git.run(args, { allowFailure: true, env: { ...env, ...this.env } });
          if (last.code !== 0 && classifyGitFailure(last.stderr) === 'transient') throw new TransientError(last.stderr);
          return last;
        },
        { ...GIT_RETRY, onRetry, ...this.options.retry },
      );
    } catch (error) {
      if (error instanceof TransientError && last) return last;
      throw error;
    }
  }

  /** `output` with every secret of the remote's settings replaced by `***`. */
  redact(output: string): string {
    return this.secrets.reduce((text, secret) => text.split(secret).join('***'), output);
  }

  /** What a failed command (`Could not <action> <remote>`) means, as a UserError the user can act on. */
  failure(action: string, output: string): UserError {
    const text = this.redact(output);
    const where = `Could not ${action} ${this.label}`;
    const { hints } = this.options;
    switch (classifyGitFailure(text)) {
      case 'unauthorized':
        return new UserError(`${where}: the access token was refused (HTTP 401). ${hints.unauthorized}`);
      case 'forbidden':
        return new UserError(`${where}: access denied (HTTP 403). ${hints.forbidden}`);
      case 'not-found':
        return new UserError(`${where}: the repository was not found (HTTP 404). Check the remote's URL, and that the token may read the repository.`);
      case 'proxy-refused':
        return new UserError(`${where}: ${proxyRefused()}`);
      case 'untrusted-certificate':
        return new UserError(`${where}: ${untrustedCertificate(/SSL certificate problem: [^\n]*|server certificate verification failed/.exec(text)?.[0] ?? 'certificate problem')}`);
    }
    // What the server and git said (`remote:` lines carry a server's reason, e.g. Azure Repos' TF401027), else the tail.
    const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
    const said = lines.filter((line) => /^(remote:|fatal:|error:|rejected )/.test(line) && !/^error: failed to push some refs/.test(line));
    const detail = (said.length ? said : lines.slice(-3)).slice(-6).join(' | ');
    const hint = /permission|TF401027|TF401028/i.test(text) ? ` ${hints.forbidden}` : '';
    return new UserError(`${where}: ${detail.replace(/\.$/, '')}.${hint}`);
  }
}

/** The characters of a remote's name, without a leading '-' (an option): never a URL (':') or a line break. */
const REMOTE_NAME = /^(?!-)[A-Za-z0-9._@+/-]+$/;

/**
 * The URL of the configured remote `name`. The name reaches a git command only once it is known to be
 * one of `git remote`'s names: anything else (an option such as `--upload-pack=…`, a URL, a path) is
 * refused with a UserError listing the configured remotes.
 */
export async function configuredRemoteUrl(git: Git, name: string): Promise<string> {
  const known = (await git.text(['remote'])).split('\n').filter(Boolean);
  const listed = `it has: ${known.join(', ') || 'none'}`;
  if (!REMOTE_NAME.test(name)) {
    throw new UserError(`The remote input ${shown(name)} is not a git remote's name (${listed}): set it to one of them, or push: false to tag locally only.`);
  }
  if (!known.includes(name)) {
    throw new UserError(`The repository at ${git.dir} has no remote '${name}' (${listed}): set the remote input to one of them, or push: false to tag locally only.`);
  }
  return git.text(['remote', 'get-url', '--', name]);
}
