/**
 * The names the gateway answers to and the browser origins that follow from them: the guard
 * against DNS rebinding. A page on attacker.example whose name is re-pointed at this machine
 * reaches the gateway as same-origin, but its requests still say `Host: attacker.example`.
 * So the allowed names come from what the gateway was told (where it listens, its public URL,
 * an explicit list), never from the request.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Any host, when it is an entry of allowedHosts; any origin, in allowedOrigins. */
export const ANY_HOST = '*';
export const ANY_ORIGIN = '*';

/** Names `localhost` reaches; a page served from one of them cannot be a rebinding page. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
/** Listen hosts that mean every interface. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_V4_PREFIX = '127.';
const HOST_NAME = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/i;
/** A Host header: a name as above, then an optional port. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::\d{1,5})?$/i;
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

export interface HostPolicy {
  /** whether a request's Host header names this gateway (the port is not checked) */
  allowsHost(hostHeader: string | undefined): boolean;
  /** whether a browser page at this origin may open a WebSocket */
  allowsOrigin(origin: string): boolean;
}

export interface HostSettings {
  /** the interface the gateway listens on */
  host: string;
  publicUrl?: string;
  allowedHosts: string[];
  allowedOrigins?: string[];
}

/** A DNS name, an IPv4 address or a bracketed IPv6 address, without a port. */
export function isHostName(name: string): boolean {
  return HOST_NAME.test(name);
}

/** The lower-cased name of a Host header (`[::1]` for `[::1]:8080`), or undefined if it is not one. */
export function hostHeaderName(hostHeader: string): string | undefined {
  return HOST_HEADER.exec(hostHeader)?.[1]?.toLowerCase();
}

/** The listen host as it appears in a URL or a Host header: IPv6 addresses in brackets. */
export function hostForUrl(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/**
 * Listening on loopback, the loopback names are allowed too; on every interface, also any IP
 * address (a rebinding page always names itself by DNS name, and the machine's addresses
 * cannot be known for sure). publicUrl's host and allowedHosts are allowed in every case.
 */
export function createHostPolicy(settings: HostSettings, port: () => number): HostPolicy {
  const listenHost = hostForUrl(settings.host).toLowerCase();
  const wildcard = WILDCARD_HOSTS.has(listenHost);
  const names = new Set(settings.allowedHosts.map((name) => name.toLowerCase()));
  if (!wildcard) names.add(listenHost);
  if (wildcard || isLoopback(settings.host)) for (const name of LOOPBACK_NAMES) names.add(name);
  const publicUrl = settings.publicUrl === undefined ? undefined : new URL(settings.publicUrl);
  if (publicUrl) names.add(publicUrl.hostname);

  const allowsName = (name: string) => names.has(ANY_HOST) || names.has(name) || (wildcard && isIpLiteral(name));
  const allowedOrigins = settings.allowedOrigins;
  return {
    allowsHost(hostHeader) {
      const name = hostHeader === undefined ? undefined : hostHeaderName(hostHeader);
      return name !== undefined && allowsName(name);
    },
    allowsOrigin(origin) {
      if (allowedOrigins) return allowedOrigins.includes(ANY_ORIGIN) || allowedOrigins.includes(origin);
      if (origin === publicUrl?.origin) return true;
      const url = parseHttpUrl(origin);
      return url !== undefined && allowsName(url.hostname) && Number(url.port || DEFAULT_PORTS[url.protocol]) === port();
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith(LOOPBACK_V4_PREFIX));
}

function isIpLiteral(name: string): boolean {
  return isIPv4(name) || (name.startsWith('[') && name.endsWith(']') && isIPv6(name.slice(1, -1)));
}

/** An http:// or https:// URL, or undefined. */
export function parseHttpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return Object.hasOwn(DEFAULT_PORTS, url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}
