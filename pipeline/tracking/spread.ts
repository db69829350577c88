/**
 * How far the posterior spreads around the reported estimate: the covariance of the position
 * and of the velocity, and the 1-σ of speed and course that follow from the latter. Reads the
 * cloud, changes nothing (no draws), so the estimate itself is untouched.
 */
import type { CloudSummary, ParticleCloud } from './particles';
import type { NorthEast, NorthEastCovariance } from './types';

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { PI, atan2, cos, hypot, max, min, sin, sqrt } = Math;

/** Course 1-σ when the speed does not tell a direction (hovering): any course, degrees. */
export const UNDETERMINED_COURSE_SIGMA_DEG = 180;
const DEG = PI / 180;

export interface Spread {
  /** position about the estimate, over all particles (other modes widen it, as they widen the 95% radius) */
  covarianceM2: NorthEastCovariance;
  velocityMps: NorthEast;
  /** velocity about velocityMps, over the particles in the mode window (those velocityMps is the mean of) */
  velocityCovarianceM2s2: NorthEastCovariance;
  speedSigmaMps: number;
  headingSigmaDeg: number;
}

/** The spread of `cloud` around `summary`, the estimate `cloud.summarize(windowM, …)` reported. */
export function spreadOf(cloud: ParticleCloud, summary: CloudSummary, windowM: number): Spread {
  const velocityMps: NorthEast = [summary.velocityNorth, summary.velocityEast];
  const velocityCovarianceM2s2 = weightedCovariance(cloud, cloud.vNorth, cloud.vEast, velocityMps, { north: summary.north, east: summary.east, radiusM: windowM });
  return {
    covarianceM2: weightedCovariance(cloud, cloud.north, cloud.east, [summary.north, summary.east]),
    velocityMps,
    velocityCovarianceM2s2,
    ...speedAndCourseSigma(velocityMps, velocityCovarianceM2s2),
  };
}

/**
 * Σ Wᵢ dᵢdᵢᵀ / Σ Wᵢ with dᵢ = (aᵢ − ca, bᵢ − cb), as [aa, ab, bb], over all particles or
 * those whose position lies within `window`. Zero when no particle counts.
 */
export function weightedCovariance(
  cloud: ParticleCloud,
  a: Float64Array,
  b: Float64Array,
  [ca, cb]: NorthEast,
  window?: { north: number; east: number; radiusM: number },
): NorthEastCovariance {
  const { north, east, weight } = cloud;
  const radius2 = window ? window.radiusM * window.radiusM : Infinity;
  let sw = 0;
  let saa = 0;
  let sab = 0;
  let sbb = 0;
  for (let i = 0; i < cloud.size; i++) {
    if (window) {
      const dn = north[i]! - window.north;
      const de = east[i]! - window.east;
      if (dn * dn + de * de > radius2) continue;
    }
    const w = weight[i]!;
    const da = a[i]! - ca;
    const db = b[i]! - cb;
    sw += w;
    saa += w * da * da;
    sab += w * da * db;
    sbb += w * db * db;
  }
  return sw > 0 ? [saa / sw, sab / sw, sbb / sw] : [0, 0, 0];
}

/**
 * Speed and course 1-σ, linearized about the velocity v: the speed varies along v̂, the
 * course across it, σ_course = σ_across / ‖v‖ (radians). That is no use once ‖v‖ is not
 * well clear of zero, so the course σ is capped at UNDETERMINED_COURSE_SIGMA_DEG (reached
 * for ‖v‖ < σ_across / π). At ‖v‖ = 0 the along-direction is taken as north.
 */
export function speedAndCourseSigma([vn, ve]: NorthEast, [nn, ne, ee]: NorthEastCovariance): { speedSigmaMps: number; headingSigmaDeg: number } {
  const speed = hypot(vn, ve);
  const course = atan2(ve, vn);
  const un = cos(course);
  const ue = sin(course);
  const along = un * un * nn + 2 * un * ue * ne + ue * ue * ee;
  const across = ue * ue * nn - 2 * un * ue * ne + un * un * ee;
  const courseSigmaDeg = speed > 0 ? sqrt(max(0, across)) / speed / DEG : Infinity;
  return { speedSigmaMps: sqrt(max(0, along)), headingSigmaDeg: min(UNDETERMINED_COURSE_SIGMA_DEG, courseSigmaDeg) };
}
