import { Random } from '../core/random';
import { summarize } from '../core/stats';
import { destination, haversineMeters } from '../geo/wgs84';
import { SIMULATED_CAMERA_FOV_DEG, scoreTrack, simulateFlight, type SimulatedFix } from '../../tests/support/trackingSimulation';
import { TrackFilter, type TrackFilterOptions } from './trackFilter';
import type { FrameRegistration } from './types';

/*
 * Registrations fused into the simulated retrieval (tests/support/trackingSimulation.ts): a
 * minute of flight, each frame registered 1-σ 2 m from the truth (as the fit says it is), or
 * one frame registered on a look-alike place far away.
 */
const FILTER: Partial<TrackFilterOptions> = { cameraFovDeg: SIMULATED_CAMERA_FOV_DEG };
const SECONDS = 60;
const REGISTRATION_SIGMA_M = 2;
const WRONG_REGISTRATION_M = 400;

function registeredNear(fixes: SimulatedFix[], seed = 3): SimulatedFix[] {
  const random = new Random(seed);
  return fixes.map((f) => {
    const p = destination(destination(f.truth, 0, REGISTRATION_SIGMA_M * random.normal()), 90, REGISTRATION_SIGMA_M * random.normal());
    const sigma2 = REGISTRATION_SIGMA_M ** 2;
    const registration: FrameRegistration = { lat: p.lat, lon: p.lon, covarianceM2: [sigma2, 0, sigma2], headingDeg: 0, heightM: 120, inliers: 80, reprojectionPx: 1.5 };
    return { ...f, measurement: { ...f.measurement, registration } };
  });
}

function track(fixes: SimulatedFix[]) {
  const filter = new TrackFilter(FILTER);
  return scoreTrack(fixes, (m) => filter.update(m));
}

describe('TrackFilter with registrations', () => {
  const fixes = simulateFlight({ durationS: SECONDS });

  test('registrations near the truth bring the error well below retrieval alone, with an honest radius, and say so', () => {
    const retrieval = track(fixes);
    const registered = track(registeredNear(fixes));
    const p50 = (s: { errors: number[] }) => summarize(s.errors).p50;
    expect(p50(registered)).toBeLessThan(p50(retrieval) / 3);
    expect(p50(registered)).toBeLessThan(3 * REGISTRATION_SIGMA_M);
    expect(registered.coverage).toBeGreaterThanOrEqual(0.9);
    expect(registered.estimates.filter((e) => e.method === 'registered').length).toBeGreaterThan(0.9 * registered.estimates.length);
    expect(registered.estimates[0]!.registration).toEqual({ inliers: 80, reprojectionPx: 1.5 });
    expect(retrieval.estimates.every((e) => e.method !== 'registered' && e.registration === undefined)).toBe(true);
  });

  test('one registration on a look-alike place far away does not move the track far, and does not count as registered', () => {
    const near = registeredNear(fixes);
    const wrongAt = Math.floor(near.length / 2);
    const truth = near[wrongAt]!.truth;
    const far = destination(truth, 45, WRONG_REGISTRATION_M);
    const wrong = near.map((f, i) => (i === wrongAt ? { ...f, measurement: { ...f.measurement, registration: { ...(f.measurement.registration as object), lat: far.lat, lon: far.lon } as FrameRegistration } } : f));
    const estimate = track(wrong).estimates.find((e) => e.frame === near[wrongAt]!.measurement.frame)!;
    expect(haversineMeters(estimate, truth)).toBeLessThan(3 * REGISTRATION_SIGMA_M);
    expect(estimate.method).toBe('retrieval');
  });

  test('a failed registration is no evidence: it neither places the drone nor confirms a track that retrieval alone converged on', () => {
    const failed = fixes.map((f) => ({ ...f, measurement: { ...f.measurement, registration: { failed: 'featureless' } } }));
    const retrieval = track(fixes);
    const unconfirmed = track(failed);
    expect(retrieval.estimates.some((e) => !e.relocalizing)).toBe(true);
    expect(unconfirmed.estimates.every((e) => e.relocalizing && e.method === 'retrieval' && e.registration === undefined)).toBe(true);
    // the first estimate precedes any re-seeding: the same evidence gives the same fix
    expect(unconfirmed.errors[0]).toEqual(retrieval.errors[0]);
  });
});
