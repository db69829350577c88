/**
 * A fix's horizontal uncertainty as the outputs state it: the covariance of its position
 * (north/east, m²) — the tracker's `covarianceM2` when the fix carries one, else the circle
 * whose 95% radius is the fix's `radiusM` — and that covariance as a 1-σ error ellipse.
 */
import type { FixProperties } from '../core/types';

/** what a fix's radiusM holds of the true positions */
const RADIUS_COVERAGE = 0.95;
/** A circular 2-D normal holds 95% within this many σ: √χ²₂(0.95) = √(−2 ln 0.05) ≈ 2.4477. */
export const SIGMAS_PER_R95 = Math.sqrt(-2 * Math.log(1 - RADIUS_COVERAGE));

/** Horizontal position covariance, m²: [north·north, north·east, east·east]. */
export type HorizontalCovariance = readonly [nn: number, ne: number, ee: number];

/** A 1-σ error ellipse: semi-axes in metres, the major axis's bearing in degrees from true north, in [0, 180). */
export interface ErrorEllipse {
  semiMajorM: number;
  semiMinorM: number;
  orientationDeg: number;
}

const DEG_PER_RAD = 180 / Math.PI;
const HALF_TURN_DEG = 180;

function isCovariance(value: unknown): value is HorizontalCovariance {
  return Array.isArray(value) && value.length === 3 && value.every(Number.isFinite) && value[0] >= 0 && value[2] >= 0;
}

/** The fix's covariance, or the circular one of its 95% radius (σ = radiusM / 2.4477) when it has none. */
export function horizontalCovariance(properties: FixProperties): HorizontalCovariance {
  if (isCovariance(properties.covarianceM2)) return properties.covarianceM2;
  const variance = (properties.radiusM / SIGMAS_PER_R95) ** 2;
  return [variance, 0, variance];
}

/** The covariance's eigen-decomposition: the axes are the square roots of its eigenvalues. */
export function errorEllipse([nn, ne, ee]: HorizontalCovariance): ErrorEllipse {
  const mean = (nn + ee) / 2;
  const spread = Math.hypot((nn - ee) / 2, ne);
  // angle from north towards east of the major axis: ½·atan2(2·ne, nn − ee)
  const orientationDeg = ((0.5 * Math.atan2(2 * ne, nn - ee) * DEG_PER_RAD) % HALF_TURN_DEG + HALF_TURN_DEG) % HALF_TURN_DEG;
  return { semiMajorM: Math.sqrt(mean + spread), semiMinorM: Math.sqrt(Math.max(0, mean - spread)), orientationDeg };
}
