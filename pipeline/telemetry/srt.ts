/**
 * DJI subtitle (SRT) telemetry. Drones write several dialects into the cue text:
 *  - `[latitude: 31.78] [longitude: 76.99] [altitude: 300.4]` (Mini, Air, Mavic 3 firmware)
 *  - `[latitude : 31.78] [longtitude : 76.99] [rel_alt: 120.0 abs_alt: 1325.4]` (spaces, typo)
 *  - `GPS(76.9979,31.7808,19) BAROMETER:120.5` and `GPS (lon, lat, n) ... H 120.0m` (Phantom, Spark)
 * Cues are found by their timing lines, so a missing blank line or a garbled cue costs only
 * that cue, never its neighbours.
 */
import { GeolocError } from '../core/errors';
import { parseDecimal } from './decimal';
import type { TelemetryRecord, TelemetryTrack, TelemetryWarning } from './record';

const TIMING = /^\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})\s*-->\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})\s*$/;
const CUE_NUMBER = /^\s*\d+\s*$/;
/** Anything shaped like a timing line, so a damaged one is reported rather than read as cue text. */
const TIMING_LIKE = /\d+:\d+:\d+\S*\s*-+>|-->/;
/**
 * A field's value is the whole token after its name (up to a space, bracket, comma or
 * semicolon), read strictly: a damaged value skips its cue instead of being read by its
 * leading digits.
 */
const VALUE = String.raw`([^\s[\](),;]*)`;

const field = (names: string) => new RegExp(String.raw`\b(${names})\s*:\s*${VALUE}`, 'i');
const LATITUDE = field('latitude|lat');
const LONGITUDE = field('longitude|longtitude|lon|lng');
const ALTITUDE = field('altitude|rel_alt|relative_alt');
const ABS_ALTITUDE = field('abs_alt|absolute_alt');
const BAROMETER = field('BAROMETER');
/** Spark's `H 45.2m`: the value is what lies between the H and its unit. */
const HEIGHT = /(?:^|[\s,])(H)\s+([^\s,]*?)\s*m\b/;
/** DJI's GPS(...) form lists longitude first, then latitude, then the satellite count. */
const GPS_TUPLE = /\bGPS\s*\(([^)]*)\)/i;
const FLIGHT_YAW = field('flight_yaw|drone_yaw|yaw');
const GIMBAL_YAW = field('gb_yaw|gimbal_yaw');
const GIMBAL_PITCH = field('gb_pitch|gimbal_pitch');
const DATETIME = /\b(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)*)/;

interface CueText {
  number: number | undefined;
  t: number;
  line: number;
  text: string[];
}

function parseTiming(m: RegExpExecArray): number {
  const [, h, min, s, ms] = m;
  return Number(h) * 3600 + Number(min) * 60 + Number(s) + Number(ms!.padEnd(3, '0')) / 1000;
}

function readCue(cue: CueText, warnings: TelemetryWarning[]): TelemetryRecord | undefined {
  const text = cue.text.join(' ').replace(/<[^>]*>/g, ' ');
  const where = `cue ${cue.number ?? '?'} (line ${cue.line})`;
  const malformed: string[] = [];
  const numberIn = (name: string, token: string): number | undefined => {
    const value = parseDecimal(token);
    if (value === undefined) malformed.push(`${name} ${JSON.stringify(token)}`);
    return value;
  };
  const read = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? numberIn(m[1]!, m[2]!) : undefined;
  };
  let lat = read(LATITUDE);
  let lon = read(LONGITUDE);
  const gps = GPS_TUPLE.exec(text);
  if ((lat === undefined || lon === undefined) && malformed.length === 0 && gps) {
    const [tupleLon = '', tupleLat = ''] = gps[1]!.split(',').map((part) => part.trim());
    lon = numberIn('GPS longitude', tupleLon);
    lat = numberIn('GPS latitude', tupleLat);
  }
  const alt = read(ALTITUDE) ?? read(BAROMETER) ?? read(HEIGHT);
  const absAlt = read(ABS_ALTITUDE);
  const yaw = read(FLIGHT_YAW) ?? read(GIMBAL_YAW);
  const pitch = read(GIMBAL_PITCH);
  if (malformed.length > 0) {
    warnings.push({ line: cue.line, message: `${where} has a malformed number: ${malformed.join(', ')}; skipped` });
    return undefined;
  }
  if (lat === undefined || lon === undefined) {
    warnings.push({ line: cue.line, message: `${where} has no latitude/longitude${cue.text.length === 0 ? ' (truncated)' : ''}; skipped` });
    return undefined;
  }
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) {
    warnings.push({ line: cue.line, message: `${where} has latitude ${lat}, longitude ${lon}, outside the Earth; skipped` });
    return undefined;
  }
  if (lat === 0 && lon === 0) {
    warnings.push({ line: cue.line, message: `${where} has latitude 0, longitude 0 (no GPS fix yet); skipped` });
    return undefined;
  }
  const record: TelemetryRecord = { index: cue.number ?? 0, t: cue.t, lat, lon, line: cue.line };
  if (alt !== undefined) record.alt = alt;
  if (absAlt !== undefined) record.absAlt = absAlt;
  if (yaw !== undefined) record.headingDeg = ((yaw % 360) + 360) % 360;
  if (pitch !== undefined) record.gimbalPitchDeg = pitch;
  const datetime = DATETIME.exec(text);
  if (datetime) record.datetime = datetime[1];
  return record;
}

/** Parses DJI SRT text; bad cues become warnings with their line, good ones are all kept. */
export function parseSrt(text: string, source = 'SRT'): TelemetryTrack {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const warnings: TelemetryWarning[] = [];
  const cues: CueText[] = [];
  let current: CueText | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const timing = TIMING.exec(line);
    if (timing) {
      const previous = i > 0 && CUE_NUMBER.test(lines[i - 1]!) ? Number(lines[i - 1]) : undefined;
      if (current && previous !== undefined) current.text.pop();
      current = { number: previous, t: parseTiming(timing), line: i + 1, text: [] };
      cues.push(current);
    } else if (TIMING_LIKE.test(line)) {
      if (current && i > 0 && CUE_NUMBER.test(lines[i - 1]!)) current.text.pop();
      warnings.push({ line: i + 1, message: `line ${i + 1} looks like a cue timing but does not parse: ${JSON.stringify(line.slice(0, 60))}; that cue is skipped` });
      current = undefined;
    } else if (current && line.trim() !== '') {
      current.text.push(line);
    } else if (!current && line.trim() !== '' && !CUE_NUMBER.test(line) && cues.length === 0) {
      warnings.push({ line: i + 1, message: `line ${i + 1} comes before the first cue; ignored` });
    }
  }
  const records: TelemetryRecord[] = [];
  for (const cue of cues) {
    const record = readCue(cue, warnings);
    if (record) records.push(record);
  }
  if (records.length === 0) {
    throw new GeolocError('GEOLOC_ERR_TELEMETRY_EMPTY', `${source} holds no cue with a position${warnings[0] ? ` (first problem: ${warnings[0].message})` : ''}; is it a DJI SRT file?`);
  }
  warnings.sort((a, b) => a.line - b.line);
  return { source, records, warnings };
}

export interface FormatSrtOptions {
  /** wall-clock time of t = 0, written on each cue as DJI does */
  start?: Date;
}

function timing(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3600000))}:${pad(Math.floor(ms / 60000) % 60)}:${pad(Math.floor(ms / 1000) % 60)},${pad(ms % 1000, 3)}`;
}

function wallClock(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)},${iso.slice(20, 23)}`;
}

/**
 * Writes DJI-style SRT: one cue per record, each lasting until the next, with the
 * `[latitude: …] [longitude: …] [altitude: …]` fields real DJI files carry.
 */
export function formatSrt(records: readonly TelemetryRecord[], options: FormatSrtOptions = {}): string {
  const start = options.start ?? new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
  const cues: string[] = [];
  const typicalStep = records.length > 1 ? (records[records.length - 1]!.t - records[0]!.t) / (records.length - 1) : 1 / 30;
  records.forEach((r, i) => {
    const end = i + 1 < records.length ? records[i + 1]!.t : r.t + typicalStep;
    const diffMs = Math.round((end - r.t) * 1000);
    const fields = [`[latitude: ${r.lat.toFixed(7)}]`, `[longitude: ${r.lon.toFixed(7)}]`];
    if (r.alt !== undefined) fields.push(`[altitude: ${r.alt.toFixed(3)}]`);
    if (r.headingDeg !== undefined || r.gimbalPitchDeg !== undefined) {
      fields.push(`[gb_yaw: ${(r.headingDeg ?? 0).toFixed(1)} gb_pitch: ${(r.gimbalPitchDeg ?? -90).toFixed(1)} gb_roll: 0.0]`);
    }
    cues.push(
      [
        String(i + 1),
        `${timing(r.t)} --> ${timing(end)}`,
        `<font size="28">FrameCnt: ${i + 1}, DiffTime: ${diffMs}ms`,
        wallClock(new Date(start.getTime() + Math.round(r.t * 1000))),
        `${fields.join(' ')} </font>`,
        '',
      ].join('\n'),
    );
  });
  return cues.join('\n');
}
