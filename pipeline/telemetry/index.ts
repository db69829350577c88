export type { TelemetryRecord, TelemetryTrack, TelemetryWarning } from './record';
export { parseSrt, formatSrt, type FormatSrtOptions } from './srt';
export { parseCsvTrack } from './csv';
export { readTelemetry, telemetryAt } from './readTelemetry';
