import type { Log } from '../agent';
import { shown, UserError } from '../errors';

/**
 * The agent's network settings as every client of this extension uses them: the proxy it goes through
 * and the certificate authorities it trusts. Read from the agent's variables (networkSettings); git gets
 * them in its environment (git/remote.ts), HTTP clients through fetchWith (fetch.ts) or the options of
 * azure-devops-node-api (repos/azure-repos.ts).
 */

/** An HTTP(S) proxy: the agent's Agent.ProxyUrl, Agent.ProxyUsername, Agent.ProxyPassword and Agent.ProxyBypassList. */
export interface ProxySettings {
  /** `http://host:port` (or https://), without credentials. */
  url: string;
  username?: string;
  password?: string;
  /**
   * URLs reached directly, as the agent's .proxybypass file lists them: regular expressions matched,
   * case-insensitively, against a request's whole URL (as task-lib and typed-rest-client match them).
   */
  bypass?: string[];
}

export interface NetworkSettings {
  proxy?: ProxySettings;
  /** A PEM file of certificate authorities to trust for HTTPS (the agent's Agent.CAInfo). */
  caFile?: string;
}

/** The variables the agent sets from its proxy and certificate configuration (what task-lib reads). */
export const NETWORK_VARIABLES = {
  proxyUrl: 'Agent.ProxyUrl',
  proxyUsername: 'Agent.ProxyUsername',
  proxyPassword: 'Agent.ProxyPassword',
  proxyBypassList: 'Agent.ProxyBypassList',
  caFile: 'Agent.CAInfo',
  clientCert: 'Agent.ClientCert',
} as const;

/**
 * The agent's network settings, read with `read` (a variable's value, undefined when unset) as
 * tl.getHttpProxyConfiguration and tl.getHttpCertConfiguration read them. Every form of the proxy
 * password (as given, URL-encoded, in the formatted proxy URL, in a Basic header) is masked first. A
 * bypass entry that is not a regular expression is left out with a warning: it would match nothing.
 */
export function networkSettings(read: (name: string) => string | undefined, log: Log): NetworkSettings {
  const settings: NetworkSettings = {};
  const caFile = read(NETWORK_VARIABLES.caFile);
  if (caFile) settings.caFile = caFile;
  if (read(NETWORK_VARIABLES.clientCert)) {
    log.warn(`The agent has a client certificate (${NETWORK_VARIABLES.clientCert}); this task does not present it: a server that requires one refuses the connection.`);
  }
  const url = read(NETWORK_VARIABLES.proxyUrl);
  if (!url) return settings;
  const username = read(NETWORK_VARIABLES.proxyUsername);
  const password = read(NETWORK_VARIABLES.proxyPassword);
  const valid = URL.canParse(url);
  if (password) {
    const forms = [password, encodeURIComponent(password), basicCredentials(username, password)];
    // The formatted URL task-lib makes: protocol://user:password@host.
    if (valid) forms.push(`${username ?? ''}:${password}@${new URL(url).host}`);
    forms.forEach((form) => log.setSecret(form));
  }
  if (!valid) throw new UserError(`The agent's proxy URL (${NETWORK_VARIABLES.proxyUrl}) ${shown(url)} is not a URL: configure the agent's proxy as http://host:port.`);
  settings.proxy = { url, username, password, bypass: bypassList(read(NETWORK_VARIABLES.proxyBypassList), log) };
  return settings;
}

/** Agent.ProxyBypassList: a JSON array of regular expressions; the ones that do not compile are left out. */
function bypassList(json: string | undefined, log: Log): string[] {
  if (!json) return [];
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    log.warn(`The agent's proxy bypass list (${NETWORK_VARIABLES.proxyBypassList}) is not a JSON list: every URL goes through the proxy.`);
    return [];
  }
  return (Array.isArray(list) ? list : []).map(String).filter((pattern) => {
    try {
      new RegExp(pattern, 'i');
      return true;
    } catch {
      log.warn(`The agent's proxy bypass entry '${pattern}' is not a regular expression (the .proxybypass file lists regular expressions, e.g. '.*\\.contoso\\.com'): left out.`);
      return false;
    }
  });
}

/** `Basic base64(user:password)`, the Proxy-Authorization of the proxy's credentials. */
export function basicCredentials(username: string | undefined, password: string | undefined): string {
  return `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`;
}

/** Whether `url` is reached directly: one of the proxy's bypass patterns matches it. */
export function bypassesProxy(proxy: ProxySettings, url: string | URL): boolean {
  const href = String(url);
  return (proxy.bypass ?? []).some((pattern) => new RegExp(pattern, 'i').test(href));
}

/** A host name, IP address or domain suffix (`.contoso.com`), with an optional port: what NO_PROXY lists. */
const NO_PROXY_ENTRY = /^\.?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d+)?$/i;

/**
 * The bypass patterns as NO_PROXY entries, for programs that take host names rather than regular
 * expressions (git): `^https?://build\.contoso\.com$` becomes `build.contoso.com`, `.*\.contoso\.com`
 * becomes `.contoso.com`. A pattern that names no single host or domain cannot become one: said in a
 * debug line (git then goes through the proxy for it).
 */
export function noProxyHosts(bypass: string[], log?: Log): string[] {
  const hosts: string[] = [];
  for (const pattern of bypass) {
    const host = pattern
      .replace(/^\^/, '')
      .replace(/\$$/, '')
      .replace(/^(\.\*)?(\(?https\?:\\?\/\\?\/\)?\??|https?:\\?\/\\?\/)?/, '')
      .replace(/^\.\*(\\\.|\.)/, '.')
      .replace(/(\\?\/(\.\*)?)$/, '')
      .replace(/(\(:\\d[+*]\)\?|:)$/, '')
      .replace(/\\([.-])/g, '$1');
    if (NO_PROXY_ENTRY.test(host)) hosts.push(host);
    else log?.debug(`The proxy bypass pattern '${pattern}' names no single host or domain, so git cannot be told to bypass the proxy for it (NO_PROXY takes host names): git goes through the proxy for it.`);
  }
  return hosts;
}

/** Why a request failed when the proxy refused the agent's credentials (HTTP 407, or `status`). */
export function proxyRefused(status = 407): string {
  return `the proxy refused the agent's proxy credentials (HTTP ${status}): check the proxy username and password the agent was configured with (${NETWORK_VARIABLES.proxyUsername}, ${NETWORK_VARIABLES.proxyPassword}).`;
}

/** Why a request failed when the server's certificate is signed by no trusted authority (`said`: the client's words). */
export function untrustedCertificate(said: string): string {
  return `its certificate is not signed by an authority this agent trusts (${said}): configure the agent with the certificate authority's PEM file (config --sslcacert, which sets ${NETWORK_VARIABLES.caFile}).`;
}
