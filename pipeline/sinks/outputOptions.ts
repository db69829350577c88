/** Checks an encoder's options once, when it is made: a bad one throws GEOLOC_ERR_OUTPUT_OPTIONS naming it. */
import { GeolocError } from '../core/errors';

const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

function refuse(encoder: string, name: string, value: unknown, should: string, fallback: unknown): never {
  throw new GeolocError('GEOLOC_ERR_OUTPUT_OPTIONS', `${encoder} option ${name} = ${shown(value)} ${should} (default ${shown(fallback)})`);
}

/** An integer in [min, max]. */
export function requireInteger(encoder: string, name: string, value: unknown, min: number, max: number, fallback: number): void {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)) refuse(encoder, name, value, `must be an integer in [${min}, ${max}]`, fallback);
}

/** A finite number above zero. */
export function requirePositive(encoder: string, name: string, value: unknown, fallback: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) refuse(encoder, name, value, 'must be a number above 0', fallback);
}

/** A string with at least one character. */
export function requireText(encoder: string, name: string, value: unknown, fallback: string | undefined): void {
  if (!(typeof value === 'string' && value.length > 0)) refuse(encoder, name, value, 'must be a non-empty string', fallback);
}
