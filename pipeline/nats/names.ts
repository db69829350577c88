/**
 * The names geoloc uses on NATS: streams, subjects, the flight-status bucket, and what a flight
 * may be called (a flight name is one subject token: geoloc.fixes.<flight>).
 */
import { GeolocError } from '../core/errors';

/** every fix, on geoloc.fixes.<flight>, retained by age and size */
export const FIXES_STREAM = 'GEOLOC_FIXES';
export const FIXES_SUBJECTS = 'geoloc.fixes.>';
/** the work queue of flight jobs: each job is taken by one worker */
export const JOBS_STREAM = 'GEOLOC_JOBS';
export const JOBS_SUBJECT = 'geoloc.jobs';
/** the durable consumer every worker pulls jobs from */
export const WORKERS_CONSUMER = 'geoloc-workers';
/** jobs refused as malformed, with the reason in their Geoloc-Error header */
export const DEAD_STREAM = 'GEOLOC_DEAD';
export const DEAD_SUBJECT = 'geoloc.dead.jobs';
export const ERROR_HEADER = 'Geoloc-Error';
/** one key per flight: its job and status (KV bucket) */
export const FLIGHTS_BUCKET = 'geoloc_flights';

const FLIGHT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function isFlightName(name: unknown): name is string {
  return typeof name === 'string' && FLIGHT_NAME.test(name);
}

/** Throws GEOLOC_ERR_USAGE unless `name` can be a flight's subject token. */
export function checkFlightName(name: unknown): string {
  if (!isFlightName(name)) throw new GeolocError('GEOLOC_ERR_USAGE', `a flight name is 1–64 letters, digits, _ or -, got ${JSON.stringify(name)}`);
  return name;
}

export function fixSubject(flight: string): string {
  return `geoloc.fixes.${flight}`;
}

/** The flight a fix subject belongs to. */
export function flightOfSubject(subject: string): string {
  return subject.slice('geoloc.fixes.'.length);
}

/**
 * The de-duplication id of a fix: a worker that publishes a fix again (after a reconnect) is not
 * stored twice. `claim` counts the times the flight was taken by a worker: a worker that takes
 * over starts its frame numbers again from 0.
 */
export function fixMessageId(flight: string, claim: number, frame: number): string {
  return `${flight}:${claim}:${frame}`;
}
