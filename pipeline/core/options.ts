/** Option parsing shared by the commands: one usage-error shape, numbers checked. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GeolocError } from './errors';

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

/** A whole-number option (seeds, counts), or its default when absent. */
export function integerOption(name: string, text: unknown, fallback: number, usage?: string): number;
export function integerOption(name: string, text: unknown, fallback: undefined, usage?: string): number | undefined;
export function integerOption(name: string, text: unknown, fallback: number | undefined, usage?: string): number | undefined {
  const value = numberOption(name, text, fallback as undefined, usage);
  if (value !== undefined && !Number.isInteger(value)) throw usageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`, usage);
  return value;
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
