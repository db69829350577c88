/**
 * NMEA 0183 as a fix output: for each fix GSA (fix mode, HDOP), RMC (position, speed, course,
 * date), VTG (course and speed), GST (the error ellipse) and GGA (position, fix quality, HDOP):
 * what gpsd, QGroundControl and autopilots read from a GPS receiver. The five go as one message,
 * one datagram per fix: gpsd reads every sentence of a datagram, and each send costs the pipeline.
 *
 * There is no altitude estimate, so GGA's altitude and geoid fields are empty (NMEA's null
 * field) and GSA says 2-D: consumers see a 2-D fix. Speed and course the track lacks are empty
 * too. A lost track is fix quality 0, GSA mode 1, RMC status V and mode indicator N with every
 * estimate empty, as a receiver without a fix sends.
 */
import { GeolocError } from '../core/errors';
import { definedOnly } from '../core/options';
import type { FixFeature, FixProperties } from '../core/types';
import { errorEllipse, horizontalCovariance } from './horizontalError';
import type { OutputFormat } from './outputFormat';

export interface NmeaOptions {
  /** the two letters before each sentence type: GP (GPS), GN (several constellations), … */
  talker: string;
  /**
   * GGA's "satellites in use". A fix from imagery uses none, but consumers gate on the count: gpsd
   * reads a GGA without altitude as a 2-D fix only from 3 satellites on, ArduPilot and PX4 want 6
   * by default. So a nominal count goes out with every fix; how good the fix is, HDOP and GST say.
   */
  satellites: number;
}

export const NMEA_DEFAULTS: NmeaOptions = { talker: 'GP', satellites: 12 };
/** GGA's field is two digits */
const MAX_SATELLITES = 99;

/**
 * HDOP is unitless; consumers turn it into metres with a range error of their own. gpsd's (3.22)
 * error model makes its 95% horizontal error `eph` HDOP × 19 m (P_UERE_NO_DGPS), so HDOP =
 * radiusM / 19 m gives back the fix's 95% radius there.
 */
export const HDOP_RANGE_ERROR_95_M = 19;

const GPS_FIX = '1';
const NO_FIX = '0';
/** GSA: automatic 2-D/3-D selection, and the fix mode */
const AUTOMATIC = 'A';
const MODE_NO_FIX = '1';
const MODE_2D = '2';
/** GSA's twelve satellite-number fields */
const NO_PRNS: readonly string[] = Array.from({ length: 12 }, () => '');
/** RMC status and the NMEA 2.3 mode indicator of RMC and VTG */
const VALID = 'A';
const INVALID = 'V';
const AUTONOMOUS = 'A';
const NOT_VALID = 'N';

const KNOTS_PER_MPS = 3600 / 1852;
const KMH_PER_MPS = 3.6;
const FULL_TURN_DEG = 360;
const MINUTES_PER_DEGREE = 60;
/** 1e-6 minute is 2 mm: finer than the fix's own 1e-7° */
const MINUTE_DECIMALS = 6;
/** mm.mmmmmm */
const MINUTE_WIDTH = 2 + 1 + MINUTE_DECIMALS;
const SPEED_DECIMALS = 3;
const COURSE_DECIMALS = 2;
const HDOP_DECIMALS = 2;
const METRE_DECIMALS = 2;
const ORIENTATION_DECIMALS = 1;
const MS_PER_CENTISECOND = 10;
const YEARS_PER_CENTURY = 100;
const HEX = 16;

const two = (n: number) => String(n).padStart(2, '0');

/** XOR of every character between `$` and `*`, as two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum.toString(HEX).toUpperCase().padStart(2, '0');
}

/** `$<fields joined by commas>*<checksum>\r\n` */
export function nmeaSentence(fields: readonly string[]): string {
  const body = fields.join(',');
  return `$${body}*${nmeaChecksum(body)}\r\n`;
}

/** UTC as hhmmss.ss and ddmmyy, from one rounding to the hundredth of a second. */
function utc(now: Date): { time: string; date: string } {
  const at = new Date(Math.round(now.getTime() / MS_PER_CENTISECOND) * MS_PER_CENTISECOND);
  return {
    time: `${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}.${two(at.getUTCMilliseconds() / MS_PER_CENTISECOND)}`,
    date: `${two(at.getUTCDate())}${two(at.getUTCMonth() + 1)}${two(at.getUTCFullYear() % YEARS_PER_CENTURY)}`,
  };
}

/** Degrees as (d)ddmm.mmmmmm and its hemisphere letter; rounded once, so minutes never read 60. */
function angle(degrees: number, degreeDigits: number, positive: string, negative: string): [string, string] {
  const scale = 10 ** MINUTE_DECIMALS;
  const units = Math.round(Math.abs(degrees) * MINUTES_PER_DEGREE * scale);
  const whole = Math.floor(units / (MINUTES_PER_DEGREE * scale));
  const minutes = (units - whole * MINUTES_PER_DEGREE * scale) / scale;
  const minuteText = minutes.toFixed(MINUTE_DECIMALS).padStart(MINUTE_WIDTH, '0');
  return [`${String(whole).padStart(degreeDigits, '0')}${minuteText}`, degrees < 0 ? negative : positive];
}

const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** Speed over ground and course over ground (true), as the fix has them. */
function motion(properties: FixProperties): { speedMps?: number; courseDeg?: number } {
  const speedMps = finite(properties.speedMps);
  const heading = finite(properties.headingDeg);
  return { speedMps, courseDeg: heading === undefined ? undefined : ((heading % FULL_TURN_DEG) + FULL_TURN_DEG) % FULL_TURN_DEG };
}

const fixed = (value: number | undefined, decimals: number) => (value === undefined ? '' : value.toFixed(decimals));

export function nmeaFormat(options: Partial<NmeaOptions> = {}): OutputFormat {
  const { talker, satellites } = { ...NMEA_DEFAULTS, ...definedOnly(options) };
  if (!/^[A-Z]{2}$/.test(talker)) throw new GeolocError('GEOLOC_ERR_OUTPUT_OPTIONS', `the NMEA talker must be two capital letters (GP, GN, …), got ${JSON.stringify(talker)}`);
  if (!Number.isInteger(satellites) || satellites < 0 || satellites > MAX_SATELLITES) {
    throw new GeolocError('GEOLOC_ERR_OUTPUT_OPTIONS', `the NMEA satellite count must be a whole number from 0 to ${MAX_SATELLITES}, got ${satellites}`);
  }
  const satellitesText = two(satellites);
  const sentence = (type: string, fields: readonly string[]) => nmeaSentence([`${talker}${type}`, ...fields]);

  return {
    name: 'nmea',
    // the sentences back to back, each ending in CRLF: a file still gets one sentence a line
    encodeFix: (feature, now) => [Buffer.from(sentences(feature, now).join(''), 'latin1')],
  };

  function sentences(feature: FixFeature, now: Date): string[] {
    const { time, date } = utc(now);
    // The same five sentences every time, lost or not, GSA first and GGA last. gpsd reports a fix
    // on the last sentence that carried the cycle's time, and RMC with status V carries none, so
    // with GGA anywhere else a lost fix would teach it to report every later fix twice; and it
    // turns HDOP into eph once per cycle, at its first fix sentence, so HDOP must come before.
    if (feature.properties.lost === true) {
      return [
        sentence('GSA', [AUTOMATIC, MODE_NO_FIX, ...NO_PRNS, '', '', '']),
        sentence('RMC', [time, INVALID, '', '', '', '', '', '', date, '', '', NOT_VALID]),
        sentence('VTG', ['', 'T', '', 'M', '', 'N', '', 'K', NOT_VALID]),
        sentence('GST', [time, '', '', '', '', '', '', '']),
        sentence('GGA', [time, '', '', '', '', NO_FIX, '', '', '', 'M', '', 'M', '', '']),
      ];
    }
    const [lon, lat] = feature.geometry.coordinates;
    const [latText, ns] = angle(lat, 2, 'N', 'S');
    const [lonText, ew] = angle(lon, 3, 'E', 'W');
    const covariance = horizontalCovariance(feature.properties);
    const ellipse = errorEllipse(covariance);
    const { speedMps, courseDeg } = motion(feature.properties);
    const knots = fixed(speedMps === undefined ? undefined : speedMps * KNOTS_PER_MPS, SPEED_DECIMALS);
    const kmh = fixed(speedMps === undefined ? undefined : speedMps * KMH_PER_MPS, SPEED_DECIMALS);
    const course = fixed(courseDeg, COURSE_DECIMALS);
    const metres = (m: number) => m.toFixed(METRE_DECIMALS);
    // the fix's own 95% radius, not the covariance's: radiusM also counts a second candidate place
    const hdop = (feature.properties.radiusM / HDOP_RANGE_ERROR_95_M).toFixed(HDOP_DECIMALS);
    return [
      // the satellites' numbers, PDOP and VDOP mean nothing here
      sentence('GSA', [AUTOMATIC, MODE_2D, ...NO_PRNS, '', hdop, '']),
      sentence('RMC', [time, VALID, latText, ns, lonText, ew, knots, course, date, '', '', AUTONOMOUS]),
      sentence('VTG', [course, 'T', '', 'M', knots, 'N', kmh, 'K', AUTONOMOUS]),
      // RMS of the range residuals has no meaning here, nor has the altitude error
      sentence('GST', [time, '', metres(ellipse.semiMajorM), metres(ellipse.semiMinorM), ellipse.orientationDeg.toFixed(ORIENTATION_DECIMALS), metres(Math.sqrt(covariance[0])), metres(Math.sqrt(covariance[2])), '']),
      // altitude and geoid separation unknown
      sentence('GGA', [time, latText, ns, lonText, ew, GPS_FIX, satellitesText, hdop, '', 'M', '', 'M', '', '']),
    ];
  }
}
