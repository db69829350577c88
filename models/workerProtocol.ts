/**
 * The request/response protocol between a main-thread WorkerClient and a worker that
 * calls serveRequests. Errors cross the thread boundary as {code, message} so a coded
 * GeolocError thrown in a worker is rethrown with the same code.
 */
import { ERROR_CODES, GeolocError, type ErrorCode } from '../pipeline/core/errors';

export interface WireError {
  code?: string;
  message: string;
}

/** First message a worker sends: it started (with whatever it reports), or it could not. */
export type StartupMessage<Ready> = { type: 'ready'; ready: Ready } | { type: 'startup-error'; error: WireError };

export type ResponseMessage = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: WireError };

export interface RequestMessage {
  id: number;
  body: unknown;
}

/** Asks the worker to exit once the call it is in has returned, without starting the ones queued. */
export interface CloseMessage {
  close: true;
}

export function isCloseMessage(message: RequestMessage | CloseMessage): message is CloseMessage {
  return 'close' in message;
}

export function toWireError(err: unknown): WireError {
  if (err instanceof GeolocError) return { code: err.code, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}

function isErrorCode(code: string | undefined): code is ErrorCode {
  return code !== undefined && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

export function fromWireError(wire: WireError): Error {
  return isErrorCode(wire.code) ? new GeolocError(wire.code, wire.message) : new Error(wire.message);
}
