/**
 * Requests node's HTTP parser refuses before they reach the routes: malformed ones, headers
 * past node's maxHeaderSize, and requests still incomplete at headersTimeout/requestTimeout
 * (a slowloris trickle). node would answer them itself but count nothing; this answers them
 * like every other refusal, with a coded JSON body, and counts them by reason.
 */
import { maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../pipeline/core/errors';
import type { ClientErrorReason } from './metrics';
import { answerAndClose } from './rawResponse';

interface ClientErrorDeps {
  /** whether the socket is between requests (no response of ours could be cut into) */
  isWaiting(socket: Duplex): boolean;
  counted(reason: ClientErrorReason): void;
}

interface ParserRefusal {
  status: number;
  reason: ClientErrorReason;
  code: ErrorCode;
  message: string;
}

/** node raises this one error for both headersTimeout and requestTimeout. */
const REQUEST_TIMEOUT = 'ERR_HTTP_REQUEST_TIMEOUT';
const HEADER_OVERFLOW = 'HPE_HEADER_OVERFLOW';
/** llhttp's parse errors; others (ECONNRESET, ...) are the client going away, not refusals. */
const PARSE_ERROR_PREFIX = 'HPE_';

export function createClientErrorHandler(deps: ClientErrorDeps): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return (err, socket) => {
    const waiting = deps.isWaiting(socket);
    const refusal = classify(err.code, waiting);
    if (!refusal) {
      socket.destroy();
      return;
    }
    deps.counted(refusal.reason);
    if (waiting && socket.writable) answerAndClose(socket, refusal.status, refusal);
    else socket.destroy();
  };
}

/** A request that timed out while its socket was waiting never finished its headers. */
function classify(code: string | undefined, waiting: boolean): ParserRefusal | undefined {
  if (code === REQUEST_TIMEOUT) {
    return waiting
      ? { status: 408, reason: 'headers_timeout', code: 'GEOLOC_ERR_HTTP_TIMEOUT', message: 'the request headers did not all arrive within headersTimeoutMs' }
      : { status: 408, reason: 'request_timeout', code: 'GEOLOC_ERR_HTTP_TIMEOUT', message: 'the request did not all arrive within requestTimeoutMs' };
  }
  if (code === HEADER_OVERFLOW) {
    return { status: 431, reason: 'header_overflow', code: 'GEOLOC_ERR_HTTP_MALFORMED', message: `the request headers are larger than the ${maxHeaderSize} bytes the gateway reads` };
  }
  if (code?.startsWith(PARSE_ERROR_PREFIX)) {
    return { status: 400, reason: 'malformed', code: 'GEOLOC_ERR_HTTP_MALFORMED', message: `the request is not valid HTTP/1.1 (${code})` };
  }
  return undefined;
}
