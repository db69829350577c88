import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { GeolocError } from '../core/errors';
import { parseCsvTrack } from './csv';
import type { TelemetryRecord, TelemetryTrack } from './record';
import { parseSrt } from './srt';

/** Reads a DJI SRT or a CSV track, chosen by the file's extension. */
export function readTelemetry(path: string): TelemetryTrack {
  if (!existsSync(path)) throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `telemetry file ${path} does not exist`);
  const text = readFileSync(path, 'utf8');
  const ext = extname(path).toLowerCase();
  if (ext === '.srt') return parseSrt(text, path);
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return parseCsvTrack(text, path);
  throw new GeolocError('GEOLOC_ERR_USAGE', `telemetry file ${path}: expected a .srt (DJI subtitles) or .csv track`);
}

/**
 * The telemetry at time t, linearly interpolated between the records around it; undefined
 * outside the records' time span (the caller decides what a frame without truth means).
 */
export function telemetryAt(records: readonly TelemetryRecord[], t: number): TelemetryRecord | undefined {
  if (records.length === 0) return undefined;
  const first = records[0]!;
  const last = records[records.length - 1]!;
  const halfStep = records.length > 1 ? (last.t - first.t) / (records.length - 1) / 2 : 0;
  if (t < first.t - halfStep || t > last.t + halfStep) return undefined;
  let lo = 0;
  let hi = records.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (records[mid]!.t <= t) lo = mid;
    else hi = mid;
  }
  const a = records[lo]!;
  const b = records[hi]!;
  if (b.t <= a.t || t <= a.t) return a;
  if (t >= b.t) return b;
  const w = (t - a.t) / (b.t - a.t);
  const mix = (x?: number, y?: number) => (x !== undefined && y !== undefined ? x + (y - x) * w : x ?? y);
  const headingDelta = a.headingDeg !== undefined && b.headingDeg !== undefined ? ((b.headingDeg - a.headingDeg + 540) % 360) - 180 : undefined;
  const interpolated: TelemetryRecord = { ...a, t, lat: a.lat + (b.lat - a.lat) * w, lon: a.lon + (b.lon - a.lon) * w, alt: mix(a.alt, b.alt), absAlt: mix(a.absAlt, b.absAlt) };
  if (headingDelta !== undefined) interpolated.headingDeg = (a.headingDeg! + headingDelta * w + 360) % 360;
  for (const key of ['alt', 'absAlt'] as const) if (interpolated[key] === undefined) delete interpolated[key];
  return interpolated;
}
