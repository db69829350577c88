/** Who may connect: the optional bearer token and the browser Origin allow-list. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../pipeline/core/errors';
import type { WsRejectReason } from './metrics';

export interface Refusal {
  status: number;
  code: ErrorCode;
  reason: WsRejectReason;
  message: string;
}

/** Any origin, when it is the only entry of allowedOrigins. */
export const ANY_ORIGIN = '*';
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

/**
 * Browsers always send Origin; other clients need not, and cannot be stopped by it anyway.
 * Without an allow-list only the gateway's own origin (the Host it was reached at) passes.
 */
export function checkOrigin(req: IncomingMessage, allowedOrigins: string[] | undefined): Refusal | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const allowed = allowedOrigins ?? sameOrigins(req);
  if (allowed.includes(ANY_ORIGIN) || allowed.includes(origin)) return undefined;
  return {
    status: 403,
    code: 'GEOLOC_ERR_WS_ORIGIN',
    reason: 'origin',
    message: `origin ${origin} is not allowed; start the gateway with --origins ${origin} to allow it`,
  };
}

function sameOrigins(req: IncomingMessage): string[] {
  const host = req.headers.host;
  return host === undefined ? [] : [`http://${host}`, `https://${host}`];
}
