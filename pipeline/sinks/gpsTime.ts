/** GPS time: weeks and milliseconds since 1980-01-06 00:00 UTC, counting leap seconds (UTC does not). */

const GPS_EPOCH_MS = Date.UTC(1980, 0, 6);
const MS_PER_WEEK = 7 * 24 * 3600 * 1000;
const MS_PER_S = 1000;

export interface GpsWeekTime {
  /** full week number (not modulo 1024) */
  week: number;
  /** milliseconds into the week */
  weekMs: number;
}

/** `utc` as GPS time, GPS − UTC being `leapSeconds` (18 since 2017-01-01). */
export function gpsWeekTime(utc: Date, leapSeconds: number): GpsWeekTime {
  const gpsMs = utc.getTime() - GPS_EPOCH_MS + leapSeconds * MS_PER_S;
  const week = Math.floor(gpsMs / MS_PER_WEEK);
  return { week, weekMs: gpsMs - week * MS_PER_WEEK };
}
