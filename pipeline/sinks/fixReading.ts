/**
 * A fix as the autopilot and TAK encoders read it: its position, whether the tracker stands
 * behind it, when it held, and the tracker's motion and uncertainty (gateway/PROTOCOL.md).
 * Those extra properties are `unknown` to the type system (a fix may come from a file or
 * another producer), so they are checked here, once, and a malformed one reads as absent.
 */
import type { FixFeature } from '../core/types';
import type { NorthEast, NorthEastCovariance } from '../tracking/types';

export interface FixReading {
  lat: number;
  lon: number;
  /** radius meant to hold the true position 95% of the time, metres */
  radiusM: number;
  /** the tracker has converged on one place: it is neither re-localizing (at start) nor lost */
  tracking: boolean;
  /** when the position held: `now` less the fix's latencyMs (frame decoded → fix), when it has one */
  time: Date;
  speedMps?: number;
  /** course over ground, degrees clockwise from true north */
  headingDeg?: number;
  speedSigmaMps?: number;
  headingSigmaDeg?: number;
  velocityMps?: NorthEast;
  covarianceM2?: NorthEastCovariance;
  velocityCovarianceM2s2?: NorthEastCovariance;
}

const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function finiteTuple(value: unknown, length: number): number[] | undefined {
  return Array.isArray(value) && value.length === length && value.every((v) => finite(v) !== undefined) ? (value as number[]) : undefined;
}

/** The fix read at time `now` (the moment it is encoded). */
export function readFix(feature: FixFeature, now: Date): FixReading {
  const p = feature.properties;
  const [lon, lat] = feature.geometry.coordinates;
  const latencyMs = finite(p.latencyMs);
  return {
    lat,
    lon,
    radiusM: p.radiusM,
    tracking: p.lost !== true && p.relocalizing !== true,
    time: new Date(now.getTime() - (latencyMs !== undefined && latencyMs > 0 ? latencyMs : 0)),
    speedMps: finite(p.speedMps),
    headingDeg: finite(p.headingDeg),
    speedSigmaMps: finite(p.speedSigmaMps),
    headingSigmaDeg: finite(p.headingSigmaDeg),
    velocityMps: finiteTuple(p.velocityMps, 2) as NorthEast | undefined,
    covarianceM2: finiteTuple(p.covarianceM2, 3) as NorthEastCovariance | undefined,
    velocityCovarianceM2s2: finiteTuple(p.velocityCovarianceM2s2, 3) as NorthEastCovariance | undefined,
  };
}
