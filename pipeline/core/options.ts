/** Option parsing shared by the commands: one usage-error shape, numbers checked. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GeolocError } from './errors';
import type { SearchRegion } from './types';

/** A usage error, with the command's usage text after the message when given. */
export function usageError(message: string, usage?: string): GeolocError {
  return new GeolocError('GEOLOC_ERR_USAGE', usage ? `${message}\n\n${usage}` : message);
}

export function parseOptions<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    throw usageError((err as Error).message, usage);
  }
}

/** A numeric option, or its default when absent; anything that is not a number is a usage error. */
export function numberOption(name: string, text: unknown, fallback: number, usage?: string): number;
export function numberOption(name: string, text: unknown, fallback: undefined, usage?: string): number | undefined;
export function numberOption(name: string, text: unknown, fallback: number | undefined, usage?: string): number | undefined {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(value)) throw usageError(`--${name} must be a number, got ${JSON.stringify(text)}`, usage);
  return value;
}

/**
 * A whole-number option (seeds, counts), or its default when absent; with `min`, a smaller
 * number is a usage error too (a worker count of 0 is refused here, before any work starts).
 */
export function integerOption(name: string, text: unknown, fallback: number, usage?: string, min?: number): number;
export function integerOption(name: string, text: unknown, fallback: undefined, usage?: string, min?: number): number | undefined;
export function integerOption(name: string, text: unknown, fallback: number | undefined, usage?: string, min?: number): number | undefined {
  const value = numberOption(name, text, fallback as undefined, usage);
  if (value === undefined || text === undefined) return value;
  if (!Number.isInteger(value) || (min !== undefined && value < min)) {
    throw usageError(`--${name} must be a whole number${min === undefined ? '' : ` ≥ ${min}`}, got ${JSON.stringify(text)}`, usage);
  }
  return value;
}

/**
 * Radius of a --near prior without --radius, metres: a take-off point, or a last GNSS fix
 * some seconds old, known to a couple of hundred metres.
 */
export const DEFAULT_NEAR_RADIUS_M = 150;

/**
 * The circle of `--near lat,lon --radius m` (radius DEFAULT_NEAR_RADIUS_M when absent), or
 * undefined without --near. A --near that is not two WGS84 degrees, a --radius that is not a
 * positive number, or a --radius without --near is a usage error naming the flag.
 */
export function nearOption(near: unknown, radius: unknown, usage?: string): SearchRegion | undefined {
  if (near === undefined) {
    if (radius !== undefined) throw usageError('--radius needs --near lat,lon, the centre of its circle', usage);
    return undefined;
  }
  const parts = typeof near === 'string' ? near.split(',') : [];
  const [lat, lon] = parts.map(Number);
  const degrees = parts.length === 2 && parts.every((part) => part.trim() !== '') && Number.isFinite(lat) && Number.isFinite(lon);
  if (!degrees || Math.abs(lat!) > 90 || Math.abs(lon!) > 180) throw usageError(`--near must be lat,lon in WGS84 degrees, got ${JSON.stringify(near)}`, usage);
  const radiusM = numberOption('radius', radius, DEFAULT_NEAR_RADIUS_M, usage);
  if (radiusM <= 0) throw usageError(`--radius must be a positive number of metres, got ${JSON.stringify(radius)}`, usage);
  return { lat: lat!, lon: lon!, radiusM };
}

export function requiredString(name: string, value: unknown, usage: string): string {
  if (typeof value !== 'string' || value === '') throw usageError(`--${name} is required`, usage);
  return value;
}

export const say = (line: string) => process.stderr.write(`${line}\n`);

/** The options that are set: an undefined value leaves the default under it in place when spread. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
