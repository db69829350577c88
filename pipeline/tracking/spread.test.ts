import { LocalFrame } from '../geo/wgs84';
import { Random } from '../core/random';
import { SIMULATED_CAMERA_FOV_DEG, simulateFlight } from '../../tests/support/trackingSimulation';
import { ParticleCloud } from './particles';
import { speedAndCourseSigma, spreadOf, UNDETERMINED_COURSE_SIGMA_DEG } from './spread';
import { TrackFilter } from './trackFilter';
import type { NorthEast, NorthEastCovariance, TrackEstimate } from './types';

const WINDOW_M = 150;
const DEG = Math.PI / 180;
/** χ²₂: the mean of a consistent 2-D normalised error squared, and its 95% quantile (−2 ln 0.05) */
const CHI2_2_MEAN = 2;
const CHI2_2_P95 = -2 * Math.log(0.05);

/** eᵀ Σ⁻¹ e for a [north, east] error and an [nn, ne, ee] covariance */
function normalisedErrorSquared([n, e]: NorthEast, [nn, ne, ee]: NorthEastCovariance): number {
  return (ee * n * n - 2 * ne * n * e + nn * e * e) / (nn * ee - ne * ne);
}

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;
const share = (values: boolean[]) => values.filter(Boolean).length / values.length;

describe('spreadOf on a hand-made cloud', () => {
  // Four particles near the origin (weight 0.2 each) and one 1 km east (0.2): the estimate is
  // the near group's mean; the position covariance counts all five, the velocity one the near four.
  const particles = [
    { north: -10, east: -10, vNorth: 5, vEast: 0 },
    { north: 10, east: 10, vNorth: 7, vEast: 2 },
    { north: 0, east: 20, vNorth: 6, vEast: 1 },
    { north: 0, east: -20, vNorth: 6, vEast: 1 },
    { north: 0, east: 1000, vNorth: -20, vEast: 0 },
  ];
  const cloud = new ParticleCloud(particles.length, new Random(1));
  particles.forEach((p, i) => {
    cloud.north[i] = p.north;
    cloud.east[i] = p.east;
    cloud.vNorth[i] = p.vNorth;
    cloud.vEast[i] = p.vEast;
  });
  cloud.equalizeWeights();
  const summary = cloud.summarize(WINDOW_M, 50);
  const spread = spreadOf(cloud, summary, WINDOW_M);

  test('the estimate is the near group: position (0, 0), velocity (6, 1) m/s', () => {
    expect(summary.north).toBeCloseTo(0, 9);
    expect(summary.east).toBeCloseTo(0, 9);
    expect(spread.velocityMps[0]).toBeCloseTo(6, 9);
    expect(spread.velocityMps[1]).toBeCloseTo(1, 9);
  });

  test('position: Σ Wᵢ (xᵢ − x̂)(xᵢ − x̂)ᵀ over every particle, the far one included', () => {
    // nn = 0.2·(100 + 100); ne = 0.2·(100 + 100); ee = 0.2·(100 + 100 + 400 + 400 + 1000²)
    const [nn, ne, ee] = spread.covarianceM2;
    expect(nn).toBeCloseTo(40, 9);
    expect(ne).toBeCloseTo(40, 9);
    expect(ee).toBeCloseTo(200_200, 6);
  });

  test('velocity: the same over the particles in the mode window, renormalised', () => {
    // deviations from (6, 1): (−1, −1), (1, 1), (0, 0), (0, 0), each 1/4 of the window's weight
    const [nn, ne, ee] = spread.velocityCovarianceM2s2;
    expect(nn).toBeCloseTo(0.5, 9);
    expect(ne).toBeCloseTo(0.5, 9);
    expect(ee).toBeCloseTo(0.5, 9);
  });
});

describe('speedAndCourseSigma', () => {
  test('along the velocity the speed σ, across it the course σ = σ_across / speed', () => {
    // 10 m/s east; σ 1 m/s north (across), 0.5 m/s east (along)
    const { speedSigmaMps, headingSigmaDeg } = speedAndCourseSigma([0, 10], [1, 0, 0.25]);
    expect(speedSigmaMps).toBeCloseTo(0.5, 9);
    expect(headingSigmaDeg).toBeCloseTo(0.1 / DEG, 9);
  });

  test('a correlated covariance is projected, not read off its diagonal', () => {
    // moving north-east at √2 m/s; the covariance is long along that line (4) and thin across (1)
    const { speedSigmaMps, headingSigmaDeg } = speedAndCourseSigma([1, 1], [2.5, 1.5, 2.5]);
    expect(speedSigmaMps).toBeCloseTo(2, 9);
    expect(headingSigmaDeg).toBeCloseTo(1 / Math.SQRT2 / DEG, 9);
  });

  test('hovering: no course can be told, its σ is the cap', () => {
    expect(speedAndCourseSigma([0, 0], [1, 0, 1]).headingSigmaDeg).toBe(UNDETERMINED_COURSE_SIGMA_DEG);
    expect(speedAndCourseSigma([0.1, 0], [4, 0, 4]).headingSigmaDeg).toBe(UNDETERMINED_COURSE_SIGMA_DEG);
  });
});

describe('the spread on simulated flights (seeds 1 and 2, tracked fixes)', () => {
  const velocityNees: number[] = [];
  const positionNees: number[] = [];
  const radiusOverGaussian95: number[] = [];
  const speedWithin2Sigma: boolean[] = [];
  const courseWithin2Sigma: boolean[] = [];

  beforeAll(() => {
    for (const seed of [1, 2]) {
      const fixes = simulateFlight({ seed });
      const filter = new TrackFilter({ cameraFovDeg: SIMULATED_CAMERA_FOV_DEG });
      const frame = new LocalFrame(fixes[0]!.truth);
      for (const fix of fixes) {
        const estimate = filter.update(fix.measurement) as Required<TrackEstimate> | undefined;
        if (!estimate || estimate.relocalizing) continue;
        const [nn, , ee] = estimate.covarianceM2;
        // the 95% radius of a circular Gaussian with the same mean square distance
        radiusOverGaussian95.push(estimate.radiusM / (Math.sqrt(CHI2_2_P95) * Math.sqrt((nn + ee) / 2)));
        const truth = frame.toEnu(fix.truth);
        const at = frame.toEnu(estimate);
        positionNees.push(normalisedErrorSquared([at.n - truth.n, at.e - truth.e], estimate.covarianceM2));
        const [vn, ve] = estimate.velocityMps;
        velocityNees.push(normalisedErrorSquared([vn - fix.velocityNorth, ve - fix.velocityEast], estimate.velocityCovarianceM2s2));
        speedWithin2Sigma.push(Math.abs(estimate.speedMps - Math.hypot(fix.velocityNorth, fix.velocityEast)) <= 2 * estimate.speedSigmaMps);
        const course = Math.atan2(fix.velocityEast, fix.velocityNorth) / DEG;
        courseWithin2Sigma.push(Math.abs(((estimate.headingDeg - course + 540) % 360) - 180) <= 2 * estimate.headingSigmaDeg);
      }
    }
  });

  /*
   * A consistent covariance gives a normalised error squared (NEES) with the χ²₂ mean, 2, and
   * standard deviation, 2. The errors of successive fixes are correlated (integrated
   * autocorrelation time measured at ~4 s, 20 fixes), so ~1800 fixes hold ~90 independent
   * ones: under consistency the mean would lie within 2 ± 2·2/√90 ≈ 2 ± 0.4. The filter's
   * posterior is wider than its errors (as its radius is: README, "Measured"; NEES means of
   * 0.3–0.4), so the bound is one-sided at 2 + 0.4 (never overconfident), with a floor of 0.2
   * (σ at most √10 ≈ 3× the error spread) so the figures stay of use to an autopilot.
   */
  const NEES_CEILING = CHI2_2_MEAN + 0.4;
  const NEES_FLOOR = 0.2;

  test('velocity: the normalised error squared has a mean between the floor and χ²₂, and the 95% ellipse holds the truth', () => {
    expect(velocityNees.length).toBeGreaterThan(1500);
    expect(mean(velocityNees)).toBeLessThanOrEqual(NEES_CEILING);
    expect(mean(velocityNees)).toBeGreaterThanOrEqual(NEES_FLOOR);
    expect(share(velocityNees.map((x) => x <= CHI2_2_P95))).toBeGreaterThanOrEqual(0.95);
  });

  test('position: the same holds, and the covariance agrees with radiusM within 10%', () => {
    expect(mean(positionNees)).toBeLessThanOrEqual(NEES_CEILING);
    expect(mean(positionNees)).toBeGreaterThanOrEqual(NEES_FLOOR);
    expect(share(positionNees.map((x) => x <= CHI2_2_P95))).toBeGreaterThanOrEqual(0.95);
    expect(share(radiusOverGaussian95.map((r) => r > 0.9 && r < 1.1))).toBeGreaterThanOrEqual(0.95);
  });

  test('speed and course errors stay within 2σ for at least 95% of fixes', () => {
    expect(share(speedWithin2Sigma)).toBeGreaterThanOrEqual(0.95);
    expect(share(courseWithin2Sigma)).toBeGreaterThanOrEqual(0.95);
  });
});
