/**
 * Fixes as MAVLink 2 GPS_INPUT messages, the way a GPS that talks MAVLink feeds an autopilot
 * (ArduPilot GPS1_TYPE=14, PX4), plus the HEARTBEAT a MAVLink component sends every second.
 * Encoded with node-mavlink's common dialect; how each field is filled, and how to set up
 * the autopilots: docs/mavlink.md.
 */
import { common, minimal, MavLinkProtocolV2, type MavLinkData } from 'node-mavlink';
import type { FixFeature } from '../core/types';
import { definedOnly } from '../core/options';
import type { NorthEastCovariance } from '../tracking/types';
import { readFix, type FixReading } from './fixReading';
import { gpsWeekTime } from './gpsTime';
import type { OutputFormat } from './outputFormat';
import { requireInteger, requirePositive } from './outputOptions';

const { GpsFixType, GpsInputIgnoreFlags } = common;
const { MavAutopilot, MavComponent, MavState, MavType } = minimal;

export interface MavlinkOptions {
  /** system id of our messages; a component of the vehicle shares the vehicle's (1–255) */
  systemId: number;
  /** component id (1–255); MAV_COMP_ID_GPS (220) says what we are and keeps clear of a companion computer's 191 */
  componentId: number;
  /** GPS_INPUT gps_id: the autopilot's GPS instance this feeds, 0 = GPS1 */
  gpsId: number;
  /**
   * satellites_visible while tracking (0 otherwise). There are none; autopilots gate a GPS on
   * this count (EKF3 and EKF2 want 6), while the accuracy fields carry the real quality.
   */
  satellitesVisible: number;
  /** the range error (UERE) a DOP is a multiple of, metres: hdop = √(σn² + σe²) / this */
  dopRangeSigmaM: number;
  /** GPS − UTC, seconds: the leap seconds since 1980 (18 since 2017-01-01) */
  gpsLeapSeconds: number;
  /** time between HEARTBEATs, ms */
  heartbeatIntervalMs: number;
}

export const DEFAULT_MAVLINK_OPTIONS: Readonly<MavlinkOptions> = {
  systemId: 1,
  componentId: MavComponent.GPS,
  gpsId: 0,
  satellitesVisible: 10,
  dopRangeSigmaM: 1,
  gpsLeapSeconds: 18,
  heartbeatIntervalMs: 1000,
};

const ENCODER = 'MAVLink';
const MAX_UINT8 = 255;
/** MAVLink 2's sequence number is one byte and wraps */
const SEQUENCE_MODULO = 256;
/** hdop / vdop when unknown, as the GPS_INPUT definition asks */
const UNKNOWN_DOP = 65535;
/** ArduPilot keeps hdop × 100 in 16 bits: a larger hdop would wrap round to a small, good-looking one */
const MAX_HDOP = 65535 / 100;
/** HEARTBEAT's mavlink_version: MAVLink 2 (a field the protocol fills, not the library) */
const MAVLINK_VERSION = 3;
/** HEARTBEAT's base_mode is a bitmask; none of its flags apply to a component that flies nothing */
const NO_MODE_FLAGS = 0 as minimal.MavModeFlag;
const DEG_E7 = 1e7;
const US_PER_MS = 1000n;

/** The defaults overlaid with `options` (undefined values ignored), checked: throws GEOLOC_ERR_OUTPUT_OPTIONS. */
export function resolveMavlinkOptions(options: Partial<MavlinkOptions> = {}): Readonly<MavlinkOptions> {
  const o: MavlinkOptions = { ...DEFAULT_MAVLINK_OPTIONS, ...definedOnly(options) };
  const d = DEFAULT_MAVLINK_OPTIONS;
  requireInteger(ENCODER, 'systemId', o.systemId, 1, MAX_UINT8, d.systemId);
  requireInteger(ENCODER, 'componentId', o.componentId, 1, MAX_UINT8, d.componentId);
  requireInteger(ENCODER, 'gpsId', o.gpsId, 0, MAX_UINT8, d.gpsId);
  requireInteger(ENCODER, 'satellitesVisible', o.satellitesVisible, 0, MAX_UINT8, d.satellitesVisible);
  requireInteger(ENCODER, 'gpsLeapSeconds', o.gpsLeapSeconds, 0, Number.MAX_SAFE_INTEGER, d.gpsLeapSeconds);
  requirePositive(ENCODER, 'dopRangeSigmaM', o.dopRangeSigmaM, d.dopRangeSigmaM);
  requirePositive(ENCODER, 'heartbeatIntervalMs', o.heartbeatIntervalMs, d.heartbeatIntervalMs);
  return o;
}

/** GPS_INPUT for each fix, HEARTBEAT on the timer; one sequence number counts both. */
export function mavlinkFormat(options: Partial<MavlinkOptions> = {}): OutputFormat {
  const o = resolveMavlinkOptions(options);
  const protocol = new MavLinkProtocolV2(o.systemId, o.componentId);
  let sequence = 0;
  const serialize = (message: MavLinkData): Buffer => {
    const packet = protocol.serialize(message, sequence);
    sequence = (sequence + 1) % SEQUENCE_MODULO;
    return packet;
  };
  return {
    name: 'mavlink',
    encodeFix: (feature: FixFeature, now: Date) => [serialize(gpsInput(readFix(feature, now), o))],
    periodic: { intervalMs: o.heartbeatIntervalMs, encode: () => [serialize(heartbeat())] },
  };
}

/** √ of the covariance's larger eigenvalue: the 1-σ along its least certain direction. */
function worstAxisSigma([nn, ne, ee]: NorthEastCovariance): number {
  const half = (nn - ee) / 2;
  return Math.sqrt((nn + ee) / 2 + Math.sqrt(half * half + ne * ne));
}

function gpsInput(fix: FixReading, o: Readonly<MavlinkOptions>): common.GpsInput {
  const m = new common.GpsInput();
  const { week, weekMs } = gpsWeekTime(fix.time, o.gpsLeapSeconds);
  m.timeUsec = BigInt(fix.time.getTime()) * US_PER_MS;
  m.timeWeek = week;
  m.timeWeekMs = weekMs;
  m.gpsId = o.gpsId;
  m.fixType = fix.tracking ? GpsFixType.GPS_FIX_TYPE_3D_FIX : GpsFixType.NO_FIX;
  m.satellitesVisible = fix.tracking ? o.satellitesVisible : 0;
  m.lat = Math.round(fix.lat * DEG_E7);
  m.lon = Math.round(fix.lon * DEG_E7);
  // A fix has no altitude (the track is horizontal): alt, vd and their accuracies stay ignored.
  let ignore = GpsInputIgnoreFlags.ALT | GpsInputIgnoreFlags.VDOP | GpsInputIgnoreFlags.VEL_VERT | GpsInputIgnoreFlags.VERTICAL_ACCURACY;
  m.vdop = UNKNOWN_DOP;
  if (fix.covarianceM2) {
    const [nn, , ee] = fix.covarianceM2;
    m.hdop = Math.min(MAX_HDOP, Math.sqrt(nn + ee) / o.dopRangeSigmaM);
    m.horizAccuracy = worstAxisSigma(fix.covarianceM2);
  } else {
    m.hdop = UNKNOWN_DOP;
    ignore |= GpsInputIgnoreFlags.HDOP | GpsInputIgnoreFlags.HORIZONTAL_ACCURACY;
  }
  if (fix.velocityMps) [m.vn, m.ve] = fix.velocityMps;
  else ignore |= GpsInputIgnoreFlags.VEL_HORIZ;
  if (fix.velocityCovarianceM2s2) m.speedAccuracy = worstAxisSigma(fix.velocityCovarianceM2s2);
  else ignore |= GpsInputIgnoreFlags.SPEED_ACCURACY;
  m.ignoreFlags = ignore;
  // yaw stays 0 (not available): we know the course over ground, not where the vehicle points.
  m.yaw = 0;
  return m;
}

function heartbeat(): minimal.Heartbeat {
  const m = new minimal.Heartbeat();
  m.type = MavType.ONBOARD_CONTROLLER;
  m.autopilot = MavAutopilot.INVALID;
  m.baseMode = NO_MODE_FLAGS;
  m.customMode = 0;
  m.systemStatus = MavState.ACTIVE;
  m.mavlinkVersion = MAVLINK_VERSION;
  return m;
}
