import type { ErrorCode } from '../../pipeline/core/errors';

/** Matches a GeolocError with `code` whose message mentions `mention`: `rejects.toMatchObject(coded(...))`. */
export function coded(code: ErrorCode, mention?: string): Record<string, unknown> {
  return { name: 'GeolocError', code, ...(mention === undefined ? {} : { message: expect.stringContaining(mention) }) };
}
