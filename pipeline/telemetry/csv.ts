/**
 * CSV tracks: a header row names the columns, in any order and case. Units written in the
 * header the way flight-log exports do (`altitude(feet)`, `time(millisecond)`) are honoured.
 */
import { GeolocError } from '../core/errors';
import { parseDecimal } from './decimal';
import type { TelemetryRecord, TelemetryTrack, TelemetryWarning } from './record';

type Column = 't' | 'lat' | 'lon' | 'alt' | 'absAlt' | 'headingDeg' | 'gimbalPitchDeg';

const OPTIONAL_COLUMNS = ['alt', 'absAlt', 'headingDeg', 'gimbalPitchDeg'] as const satisfies readonly Column[];

const COLUMN_NAMES: Record<Column, string[]> = {
  t: ['t', 'time', 'time_s', 'seconds', 'timestamp', 'offset', 'offset_s', 'elapsed'],
  lat: ['lat', 'latitude'],
  lon: ['lon', 'lng', 'long', 'longitude'],
  alt: ['alt', 'altitude', 'rel_alt', 'height', 'height_above_takeoff', 'agl'],
  absAlt: ['abs_alt', 'altitude_above_sealevel', 'amsl', 'msl_alt'],
  headingDeg: ['heading', 'yaw', 'compass_heading', 'flight_yaw'],
  gimbalPitchDeg: ['gimbal_pitch', 'gb_pitch', 'pitch_gimbal'],
};

const UNIT_SCALE: Record<string, number> = {
  ms: 0.001, millisecond: 0.001, milliseconds: 0.001,
  s: 1, sec: 1, second: 1, seconds: 1,
  us: 1e-6, microsecond: 1e-6,
  m: 1, meter: 1, meters: 1, metre: 1, metres: 1,
  ft: 0.3048, feet: 0.3048, foot: 0.3048,
  deg: 1, degree: 1, degrees: 1,
};

function splitRow(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === delimiter && !quoted) {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

function headerColumn(raw: string): { column?: Column; scale: number } {
  const m = /^\s*([^()[\]]+?)\s*(?:[([]\s*([^)\]]+?)\s*[)\]])?\s*$/.exec(raw.toLowerCase());
  const name = (m?.[1] ?? raw).trim().replace(/[\s-]+/g, '_');
  const unit = m?.[2]?.trim();
  const column = (Object.keys(COLUMN_NAMES) as Column[]).find((c) => COLUMN_NAMES[c].includes(name));
  return { column, scale: unit ? UNIT_SCALE[unit] ?? 1 : 1 };
}

export function parseCsvTrack(text: string, source = 'CSV'): TelemetryTrack {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) throw new GeolocError('GEOLOC_ERR_TELEMETRY_EMPTY', `${source} is empty`);
  const headerLine = lines[headerIndex]!;
  const delimiter = [',', ';', '\t'].sort((a, b) => headerLine.split(b).length - headerLine.split(a).length)[0]!;
  const headerCells = splitRow(headerLine, delimiter);
  const header = headerCells.map(headerColumn);
  const indexOf = (c: Column) => header.findIndex((h) => h.column === c);
  const latAt = indexOf('lat');
  const lonAt = indexOf('lon');
  const tAt = indexOf('t');
  const optionalAt = OPTIONAL_COLUMNS.map((c) => [c, indexOf(c)] as const);
  if (latAt < 0 || lonAt < 0) {
    throw new GeolocError(
      'GEOLOC_ERR_TELEMETRY_PARSE',
      `${source} line ${headerIndex + 1}: the header needs latitude and longitude columns (found: ${headerLine.slice(0, 120)}); name them lat,lon (and t in seconds, alt in metres)`,
    );
  }
  const warnings: TelemetryWarning[] = [];
  const records: TelemetryRecord[] = [];
  let t0: number | undefined;
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = splitRow(line, delimiter);
    const malformed: string[] = [];
    /** a cell in the column's unit scaled to SI; undefined when empty, noted when not one number */
    const value = (at: number) => {
      const cell = at >= 0 ? cells[at] : undefined;
      if (cell === undefined || cell === '') return undefined;
      const number = parseDecimal(cell);
      if (number === undefined) malformed.push(`${headerCells[at]} ${JSON.stringify(cell)}`);
      return number === undefined ? undefined : number * header[at]!.scale;
    };
    const lat = value(latAt);
    const lon = value(lonAt);
    const rawT = value(tAt);
    const optional = optionalAt.map(([c, at]) => [c, value(at)] as const);
    if (malformed.length > 0) {
      warnings.push({ line: i + 1, message: `${source} line ${i + 1} has a malformed number: ${malformed.join(', ')}; skipped` });
      continue;
    }
    if (lat === undefined || lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      warnings.push({ line: i + 1, message: `${source} line ${i + 1} has no valid latitude/longitude; skipped` });
      continue;
    }
    if (tAt >= 0 && (rawT === undefined || !Number.isFinite(rawT))) {
      warnings.push({ line: i + 1, message: `${source} line ${i + 1} has no valid time; skipped` });
      continue;
    }
    t0 ??= rawT ?? 0;
    const record: TelemetryRecord = { index: records.length + 1, t: rawT !== undefined ? rawT - t0 : records.length, lat, lon, line: i + 1 };
    for (const [c, v] of optional) if (v !== undefined && Number.isFinite(v)) record[c] = v;
    records.push(record);
  }
  if (records.length === 0) {
    throw new GeolocError('GEOLOC_ERR_TELEMETRY_EMPTY', `${source} holds no row with a valid position`);
  }
  return { source, records, warnings };
}
