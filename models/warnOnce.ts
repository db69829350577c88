/** Process-wide warnings that say something once, not once per worker or per pool. */
import type { ErrorCode } from '../pipeline/core/errors';

const warned = new Set<ErrorCode>();

/** Emits a Node process warning carrying `code` the first time only; returns whether it did. */
export function warnOnce(code: ErrorCode, message: string): boolean {
  if (warned.has(code)) return false;
  warned.add(code);
  process.emitWarning(message, { type: 'GeolocWarning', code });
  return true;
}

export function hasWarned(code: ErrorCode): boolean {
  return warned.has(code);
}
