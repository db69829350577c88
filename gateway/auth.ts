/** Who may connect: the Host a request names, the optional bearer token and the browser Origin. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../pipeline/core/errors';
import { hostHeaderName, type HostPolicy } from './hosts';
import type { WsRejectReason } from './metrics';

export interface Refusal {
  status: number;
  code: ErrorCode;
  reason: WsRejectReason;
  message: string;
}

const BEARER_PREFIX = /^Bearer\s+/i;

/**
 * The token a request carries: `Authorization: Bearer <token>`, or `?token=<token>` for
 * browsers, whose WebSocket API cannot set headers.
 */
export function requestToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined && BEARER_PREFIX.test(header)) return header.replace(BEARER_PREFIX, '');
  return new URL(req.url ?? '/', 'http://gateway').searchParams.get('token') ?? undefined;
}

/** Compares digests so that the time taken says nothing about the token. */
function sameToken(expected: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

export function checkToken(req: IncomingMessage, token: string | undefined): Refusal | undefined {
  if (token === undefined) return undefined;
  const given = requestToken(req);
  if (given !== undefined && sameToken(token, given)) return undefined;
  return {
    status: 401,
    code: 'GEOLOC_ERR_WS_UNAUTHORIZED',
    reason: 'unauthorized',
    message: given === undefined ? 'this gateway needs a token: send "Authorization: Bearer <token>" or add ?token=<token>' : 'the token is wrong',
  };
}

/** HTTP requests and WebSocket upgrades alike must name the gateway in their Host header. */
export function checkHost(req: IncomingMessage, hosts: HostPolicy): Refusal | undefined {
  const host = req.headers.host;
  if (hosts.allowsHost(host)) return undefined;
  const name = host === undefined ? undefined : hostHeaderName(host);
  const hint = name === undefined ? 'send the name the gateway is reached at' : `if browsers reach the gateway by that name, start it with --allowed-hosts ${name} (option allowedHosts) or --public-url <the URL they use>`;
  return {
    status: 403,
    code: 'GEOLOC_ERR_HTTP_HOST',
    reason: 'host',
    message: `Host ${JSON.stringify(host ?? '')} is not a name this gateway answers to (a guard against DNS rebinding); ${hint}`,
  };
}

/** Browsers always send Origin; other clients need not, and cannot be stopped by it anyway. */
export function checkOrigin(req: IncomingMessage, hosts: HostPolicy): Refusal | undefined {
  const origin = req.headers.origin;
  if (origin === undefined || hosts.allowsOrigin(origin)) return undefined;
  return {
    status: 403,
    code: 'GEOLOC_ERR_WS_ORIGIN',
    reason: 'origin',
    message: `origin ${origin} is not allowed; start the gateway with --origins ${origin} to allow it`,
  };
}
