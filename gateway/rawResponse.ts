/**
 * A coded error written straight onto a socket the HTTP server no longer answers for: a
 * refused WebSocket upgrade, a request node's parser refused. The socket is destroyed once
 * the answer is flushed, so a client that never closes its side cannot hold it open.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../pipeline/core/errors';

export function answerAndClose(socket: Duplex, status: number, error: { code: ErrorCode; message: string }, extraHeaders: string[] = []): void {
  const body = JSON.stringify({ code: error.code, message: error.message });
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...extraHeaders,
  ];
  socket.once('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
