/**
 * Fixes as Cursor-on-Target events, the XML that ATAK, WinTAK and TAK Server read: one
 * `<event>` per fix, a track with course and speed, the flight as the contact's callsign.
 * Field by field, and how to feed a TAK client or server: docs/cot.md.
 */
import type { FixFeature } from '../core/types';
import { definedOnly } from '../core/options';
import { readFix, type FixReading } from './fixReading';
import type { OutputFormat } from './outputFormat';
import { requirePositive, requireText } from './outputOptions';
import { escapeXml } from './xml';

export interface CotOptions {
  /** CoT type: a MIL-STD-2525 symbol in CoT's notation; default a friendly air track */
  type: string;
  /** the event's uid (one uid is one object on a TAK map); default `geoloc-<flight>` */
  uid?: string;
  /** the callsign TAK shows; default the flight's name */
  callsign?: string;
  /** seconds after the fix's time at which a client greys it out as stale */
  staleSeconds: number;
}

export const DEFAULT_COT_OPTIONS: Readonly<CotOptions> = {
  type: 'a-f-A',
  staleSeconds: 10,
};

const ENCODER = 'CoT';
const COT_VERSION = '2.0';
/** how: machine-generated */
const HOW_MACHINE = 'm-g';
/** hae, le: CoT's value for "unknown" (a fix has no height) */
const UNKNOWN = '9999999.0';
/** a circular Gaussian's 95% radius in per-axis σ: √(−2 ln 0.05) */
const SIGMAS_PER_RADIUS_95 = Math.sqrt(-2 * Math.log(0.05));
const MS_PER_S = 1000;
/** decimals: coordinates ~1 cm, metres and m/s 1 cm, degrees 0.01° */
const COORD_DECIMALS = 7;
const METRE_DECIMALS = 2;
const DEGREE_DECIMALS = 2;
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';

/** The defaults overlaid with `options` (undefined values ignored), checked: throws GEOLOC_ERR_OUTPUT_OPTIONS. */
export function resolveCotOptions(options: Partial<CotOptions> = {}): Readonly<CotOptions> {
  const o: CotOptions = { ...DEFAULT_COT_OPTIONS, ...definedOnly(options) };
  requireText(ENCODER, 'type', o.type, DEFAULT_COT_OPTIONS.type);
  if (o.uid !== undefined) requireText(ENCODER, 'uid', o.uid, undefined);
  if (o.callsign !== undefined) requireText(ENCODER, 'callsign', o.callsign, undefined);
  requirePositive(ENCODER, 'staleSeconds', o.staleSeconds, DEFAULT_COT_OPTIONS.staleSeconds);
  return o;
}

/** One UTF-8 `<event>` per fix, XML declaration included (a TAK Server stream takes them back to back). */
export function cotFormat(options: Partial<CotOptions> = {}): OutputFormat {
  const o = resolveCotOptions(options);
  return {
    name: 'cot',
    encodeFix: (feature: FixFeature, now: Date) => [Buffer.from(cotEvent(feature.properties.flight, readFix(feature, now), o), 'utf8')],
  };
}

/**
 * The event as one template: only the text that comes from options or the flight is escaped;
 * numbers and times cannot hold markup. One string per fix, no attribute objects.
 */
function cotEvent(flight: string, fix: FixReading, o: Readonly<CotOptions>): string {
  const time = fix.time.toISOString();
  const stale = new Date(fix.time.getTime() + o.staleSeconds * MS_PER_S).toISOString();
  const uid = escapeXml(o.uid ?? `geoloc-${flight}`);
  // CoT's ce is a 1-σ (of a zero-mean normal distribution): the σ whose 95% circle is radiusM
  const ce = (fix.radiusM / SIGMAS_PER_RADIUS_95).toFixed(METRE_DECIMALS);
  return (
    `${XML_DECLARATION}<event version="${COT_VERSION}" uid="${uid}" type="${escapeXml(o.type)}" how="${HOW_MACHINE}" time="${time}" start="${time}" stale="${stale}">` +
    `<point lat="${fix.lat.toFixed(COORD_DECIMALS)}" lon="${fix.lon.toFixed(COORD_DECIMALS)}" hae="${UNKNOWN}" ce="${ce}" le="${UNKNOWN}"/>` +
    `<detail>${track(fix)}<contact callsign="${escapeXml(o.callsign ?? flight)}"/><remarks>${remarks(fix)}</remarks></detail></event>`
  );
}

/** course (degrees from true north) and speed (m/s), with their 1-σ; none without a velocity */
function track(fix: FixReading): string {
  if (fix.speedMps === undefined || fix.headingDeg === undefined) return '';
  const eCourse = fix.headingSigmaDeg !== undefined ? ` eCourse="${fix.headingSigmaDeg.toFixed(DEGREE_DECIMALS)}"` : '';
  const eSpeed = fix.speedSigmaMps !== undefined ? ` eSpeed="${fix.speedSigmaMps.toFixed(METRE_DECIMALS)}"` : '';
  return `<track course="${fix.headingDeg.toFixed(DEGREE_DECIMALS)}" speed="${fix.speedMps.toFixed(METRE_DECIMALS)}"${eCourse}${eSpeed}/>`;
}

function remarks(fix: FixReading): string {
  return `geoloc visual fix, 95% radius ${fix.radiusM.toFixed(METRE_DECIMALS)} m${fix.tracking ? '' : ', re-localizing: the position may jump'}`;
}
