import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isGeolocError } from '../core/errors';
import { destination, haversineMeters } from '../geo/wgs84';
import { repoRoot } from '../core/paths';
import { summarize } from '../core/stats';
import { DEFAULT_SIMULATION, scoreTrack, simulateFlight, withoutTelemetry, type SimulatedFix, type TrackScore } from '../../tests/support/trackingSimulation';
import { DEFAULT_TRACK_FILTER_OPTIONS, TrackFilter, type TrackFilterOptions } from './trackFilter';
import type { Measurement, TrackEstimate } from './types';
import type { SearchRegion } from '../core/types';

/*
 * The simulated retrieval (tests/support/trackingSimulation.ts, DEFAULT_SIMULATION; parameters
 * fixed before the filter was tuned): a 2.4 km square world tiled at 140/230/350 m
 * footprints (stride half a footprint); a 3-minute flight at 5 Hz, 5–15 m/s, turning up to
 * 8°/s; top-10 candidates scored 0.55 + 0.35·IoU(camera 200 m footprint, tile) + noise
 * (σ 0.02, correlated over 0.5 s); regimes of mean 1 s: genuine 40%, a consistent mirrored
 * "twin" place 15%, random distractor places 45% (distractors outrank the truth by
 * 0.01–0.06). Telemetry: heading ±5°, altitude ±2 m.
 */
const CAMERA_FOV_DEG = (2 * Math.atan(DEFAULT_SIMULATION.cameraFootprintM / (2 * DEFAULT_SIMULATION.altitudeM)) * 180) / Math.PI;
const FILTER: Partial<TrackFilterOptions> = { cameraFovDeg: CAMERA_FOV_DEG };

function track(fixes: SimulatedFix[], options: Partial<TrackFilterOptions> = FILTER, scoring: { restrictSearch?: boolean } = {}): TrackScore {
  const filter = new TrackFilter(options);
  return scoreTrack(fixes, (m) => filter.update(m), scoring);
}

function figures(score: TrackScore) {
  return { smoothed: summarize(score.errors), rawTop1: summarize(score.rawTop1Errors), coverage: score.coverage, top1WithinFootprint: score.top1WithinFootprint };
}

/** An error thrown by `run`, for assertions on its code and message. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('TrackFilter on a simulated flight', () => {
  let flights: SimulatedFix[][];
  let scores: TrackScore[];
  let pooled: TrackScore;
  let result: ReturnType<typeof figures>;

  beforeAll(() => {
    flights = [1, 2].map((seed) => simulateFlight({ seed }));
    scores = flights.map((fixes) => track(fixes));
    const errors = scores.flatMap((s) => s.errors);
    pooled = {
      estimates: scores.flatMap((s) => s.estimates),
      errors,
      rawTop1Errors: scores.flatMap((s) => s.rawTop1Errors),
      coverage: scores.reduce((sum, s) => sum + s.coverage * s.errors.length, 0) / errors.length,
      top1WithinFootprint: scores.reduce((sum, s) => sum + s.top1WithinFootprint, 0) / scores.length,
    };
    result = figures(pooled);
  });

  afterAll(() => {
    const dir = join(repoRoot(), 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tracking-simulation.json'), JSON.stringify({ simulation: DEFAULT_SIMULATION, seeds: [1, 2], ...result }, null, 2));
  });

  test('the simulated retrieval is as noisy as stated: 30–60% of top-1 within one footprint', () => {
    expect(result.top1WithinFootprint).toBeGreaterThan(0.3);
    expect(result.top1WithinFootprint).toBeLessThan(0.6);
    expect(result.rawTop1.p95).toBeGreaterThan(1000);
  });

  test('smoothed error p50 ≤ 20 m and p95 ≤ half the raw top-1 p95', () => {
    expect(result.smoothed.p50).toBeLessThanOrEqual(20);
    expect(result.smoothed.p95).toBeLessThanOrEqual(result.rawTop1.p95 / 2);
  });

  test('the reported 95% radius holds the truth for at least 90% of fixes', () => {
    expect(result.coverage).toBeGreaterThanOrEqual(0.9);
  });

  test('the search region for the next fix holds the next true position while tracking', () => {
    let tracked = 0;
    let held = 0;
    scores.forEach((score, f) => {
      score.estimates.forEach((estimate, i) => {
        const next = flights[f]![i + 1];
        if (!estimate.searchRegion || !next) return;
        tracked++;
        if (haversineMeters(estimate.searchRegion, next.truth) <= estimate.searchRegion.radiusM) held++;
      });
    });
    expect(tracked).toBeGreaterThan(0.8 * pooled.estimates.length);
    expect(held / tracked).toBeGreaterThanOrEqual(0.98);
  });

  test('while it starts, it asks for a global search', () => {
    for (const score of scores) {
      expect(score.estimates[0]!.relocalizing).toBe(true);
      expect(score.estimates[0]!.searchRegion).toBeUndefined();
      expect(score.estimates.some((e) => !e.relocalizing && e.searchRegion !== undefined)).toBe(true);
    }
  });
});

describe('TrackFilter telemetry', () => {
  let full: ReturnType<typeof figures>;
  let noHeading: ReturnType<typeof figures>;
  let noAltitude: ReturnType<typeof figures>;
  let sideways: ReturnType<typeof figures>;

  beforeAll(() => {
    const fixes = simulateFlight({ seed: 1 });
    full = figures(track(fixes));
    noHeading = figures(track(withoutTelemetry(fixes, { heading: true })));
    noAltitude = figures(track(withoutTelemetry(fixes, { altitude: true })));
    sideways = figures(track(simulateFlight({ seed: 1, headingOffsetDeg: 90 })));
  });

  test('heading telemetry improves the track', () => {
    expect(full.smoothed.p50).toBeLessThan(noHeading.smoothed.p50);
  });

  test('altitude telemetry does not hurt', () => {
    expect(full.smoothed.p50).toBeLessThanOrEqual(1.1 * noAltitude.smoothed.p50);
    expect(full.coverage).toBeGreaterThanOrEqual(noAltitude.coverage - 0.02);
  });

  test('camera pitch telemetry removes the look-ahead of a tilted camera', () => {
    // 10° off nadir at 200 m: the matched ground lies 35 m ahead of the drone
    const altitudeM = 200;
    const tilted = simulateFlight({ seed: 2, gimbalPitchDeg: -80, altitudeM });
    const options = { cameraFovDeg: (2 * Math.atan(DEFAULT_SIMULATION.cameraFootprintM / (2 * altitudeM)) * 180) / Math.PI };
    const withPitch = figures(track(tilted, options));
    const withoutPitch = figures(track(withoutTelemetry(tilted, { pitch: true }), options));
    expect(withPitch.smoothed.p50).toBeLessThanOrEqual(20);
    expect(withoutPitch.smoothed.p50).toBeGreaterThan(withPitch.smoothed.p50 + 10);
  });

  test('a heading that is not the course (flying sideways) costs accuracy, not the track', () => {
    expect(sideways.smoothed.p95).toBeLessThanOrEqual(sideways.rawTop1.p95 / 2);
    expect(sideways.coverage).toBeGreaterThanOrEqual(0.9);
  });
});

describe('TrackFilter losing and finding the track', () => {
  const KIDNAP = { startS: 40, durationS: 20, eastM: 1200, northM: 1200 };
  let score: TrackScore;
  beforeAll(() => {
    score = track(simulateFlight({ seed: 3, durationS: 120, kidnap: KIDNAP }));
  });
  const lostAfterS = DEFAULT_TRACK_FILTER_OPTIONS.lostAfterS;
  const firstLostAfter = (t0: number) => score.estimates.find((e) => e.t >= t0 && e.lost);

  test('when the measurements jump to another place, it declares the track lost and asks for a global search', () => {
    expect(score.estimates.filter((e) => e.t < KIDNAP.startS).some((e) => !e.relocalizing)).toBe(true);
    const lost = firstLostAfter(KIDNAP.startS);
    expect(lost).toBeDefined();
    expect((lost as TrackEstimate).t).toBeLessThanOrEqual(KIDNAP.startS + lostAfterS + 3);
    expect((lost as TrackEstimate).relocalizing).toBe(true);
    expect((lost as TrackEstimate).searchRegion).toBeUndefined();
  });

  test('when they come back, it loses the wrong place and recovers the truth within lostAfterS + 5 s', () => {
    const back = KIDNAP.startS + KIDNAP.durationS;
    const lost = firstLostAfter(back);
    expect(lost).toBeDefined();
    const recovered = score.estimates.findIndex((e, i) => e.t > (lost as TrackEstimate).t && !e.relocalizing && score.errors[i]! < 50);
    expect(recovered).toBeGreaterThan(0);
    expect(score.estimates[recovered]!.t).toBeLessThanOrEqual(back + lostAfterS + 5);
    const after = score.errors.slice(recovered);
    expect(summarize(after).p50).toBeLessThanOrEqual(20);
  });
});

describe('TrackFilter with searches restricted to its search region', () => {
  const KIDNAP = { startS: 40, durationS: 20, eastM: 1200, northM: 1200 };
  let accuracy: ReturnType<typeof figures>;
  let kidnapped: TrackScore;
  let globalShare: number;

  beforeAll(() => {
    const measured: Measurement[] = [];
    const filter = new TrackFilter(FILTER);
    accuracy = figures(
      scoreTrack(simulateFlight({ seed: 1 }), (m) => {
        measured.push(m);
        return filter.update(m);
      }, { restrictSearch: true }),
    );
    globalShare = measured.filter((m) => !m.searchRegion).length / measured.length;
    kidnapped = track(simulateFlight({ seed: 3, durationS: 120, kidnap: KIDNAP }), FILTER, { restrictSearch: true });
  });

  test('most searches stay regional, a share stays global, and the accuracy targets hold', () => {
    expect(globalShare).toBeGreaterThan(0.2);
    expect(globalShare).toBeLessThan(0.6);
    expect(accuracy.smoothed.p50).toBeLessThanOrEqual(20);
    expect(accuracy.coverage).toBeGreaterThanOrEqual(0.9);
  });

  test('the periodic global searches still reveal a wrong track, and the truth is found again', () => {
    const lost = kidnapped.estimates.find((e) => e.t >= KIDNAP.startS && e.lost);
    expect(lost).toBeDefined();
    const back = KIDNAP.startS + KIDNAP.durationS;
    const recovered = kidnapped.estimates.findIndex((e, i) => e.t > back && !e.relocalizing && kidnapped.errors[i]! < 50);
    expect(recovered).toBeGreaterThan(0);
    expect(kidnapped.estimates[recovered]!.t).toBeLessThanOrEqual(back + 4 * DEFAULT_TRACK_FILTER_OPTIONS.lostAfterS);
  });
});

describe('TrackFilter seeded with a prior (the take-off point)', () => {
  const SEEDS = [1, 2, 3];
  const DURATION_S = 30;
  const PRIOR_RADIUS_M = 200;
  /** a prior this far from the take-off point holds none of the flight's first seconds */
  const WRONG_PRIOR_OFFSET_M = 1500;
  /** "settled": from then on the error stays below SETTLED_M for SETTLE_S */
  const SETTLED_M = 50;
  const SETTLE_S = 5;
  const { lostAfterS } = DEFAULT_TRACK_FILTER_OPTIONS;

  /** searches restricted to the filter's region, starting inside the prior, as the pipeline runs it */
  function seededTrack(fixes: SimulatedFix[], prior: SearchRegion | undefined): { score: TrackScore; measured: Measurement[] } {
    const filter = new TrackFilter({ ...FILTER, prior });
    const measured: Measurement[] = [];
    const score = scoreTrack(fixes, (m) => {
      measured.push(m);
      return filter.update(m);
    }, { restrictSearch: true, firstRegion: filter.searchRegion() });
    return { score, measured };
  }

  function settledAt(score: TrackScore, rateHz = DEFAULT_SIMULATION.rateHz): number {
    const span = SETTLE_S * rateHz;
    const i = score.errors.findIndex((_, j) => score.errors.slice(j, j + span).every((e) => e < SETTLED_M));
    return i < 0 ? Infinity : score.estimates[i]!.t;
  }

  const flights = SEEDS.map((seed) => simulateFlight({ seed, durationS: DURATION_S }));

  test('at the true start: the first search is the prior, the first second of estimates lies within it, and it settles no later than unseeded', () => {
    for (const fixes of flights) {
      const prior = { ...fixes[0]!.truth, radiusM: PRIOR_RADIUS_M };
      const seeded = seededTrack(fixes, prior);
      const unseeded = seededTrack(fixes, undefined);
      expect(seeded.measured[0]!.searchRegion).toEqual(prior);
      expect(seeded.score.estimates[0]!.relocalizing).toBe(false);
      for (const e of seeded.score.estimates.filter((e) => e.t < 1)) expect(haversineMeters(e, prior)).toBeLessThanOrEqual(PRIOR_RADIUS_M);
      expect(settledAt(seeded.score)).toBeLessThanOrEqual(settledAt(unseeded.score));
    }
  });

  test('far from the truth: the prior is declared lost within lostAfterS + 3 s, and global re-localization finds the truth', () => {
    for (const fixes of flights) {
      const prior = { ...destination(fixes[0]!.truth, 45, WRONG_PRIOR_OFFSET_M), radiusM: PRIOR_RADIUS_M };
      const { score } = seededTrack(fixes, prior);
      const lost = score.estimates.find((e) => e.lost);
      expect(lost).toBeDefined();
      expect((lost as TrackEstimate).t).toBeLessThanOrEqual(lostAfterS + 3);
      expect((lost as TrackEstimate).relocalizing).toBe(true);
      expect((lost as TrackEstimate).searchRegion).toBeUndefined();
      expect(settledAt(score)).toBeLessThanOrEqual(lostAfterS + 5);
    }
  });
});

describe('TrackFilter time and determinism', () => {
  const fixes = simulateFlight({ seed: 5, durationS: 30 });
  const measurements = fixes.map((f) => f.measurement);

  test('same seed and inputs give the same outputs; reset() starts over exactly', () => {
    const a = new TrackFilter(FILTER);
    const b = new TrackFilter(FILTER);
    const first = measurements.map((m) => a.update(m));
    expect(measurements.map((m) => b.update(m))).toEqual(first);
    a.reset();
    expect(measurements.map((m) => a.update(m))).toEqual(first);
    const other = new TrackFilter({ ...FILTER, seed: 2 });
    expect(measurements.map((m) => other.update(m))).not.toEqual(first);
  });

  test('repeated measurements at the same time (dt = 0) add no certainty and barely move the estimate', () => {
    const filter = new TrackFilter(FILTER);
    let last: TrackEstimate | undefined;
    for (const m of measurements.slice(0, 100)) last = filter.update(m);
    const before = last as TrackEstimate;
    for (let i = 0; i < 10; i++) last = filter.update({ ...measurements[99]!, frame: 100 + i });
    const after = last as TrackEstimate;
    expect(after.t).toBe(before.t);
    expect(haversineMeters(before, after)).toBeLessThan(5);
    expect(after.radiusM).toBeGreaterThan(0.8 * before.radiusM);
  });

  test('every frame of a 30 fps replay: the same accuracy targets hold', () => {
    const replay = simulateFlight({ seed: 4, rateHz: 30, durationS: 40 });
    const result = figures(track(replay));
    expect(result.smoothed.p50).toBeLessThanOrEqual(20);
    expect(result.smoothed.p95).toBeLessThanOrEqual(result.rawTop1.p95 / 2);
    expect(result.coverage).toBeGreaterThanOrEqual(0.9);
  });

  test('a gap without candidates widens the radius and the search region by the motion it allows', () => {
    const filter = new TrackFilter(FILTER);
    let last: TrackEstimate | undefined;
    for (const m of measurements.slice(0, 100)) last = filter.update(m);
    const before = last as TrackEstimate;
    const after = filter.update({ frame: 101, t: before.t + 10, candidates: [] }) as TrackEstimate;
    expect(after.radiusM).toBeGreaterThan(before.radiusM + 20);
    expect(after.candidates).toEqual([]);
    expect(after.top1).toBeUndefined();
    expect((after.searchRegion?.radiusM ?? Infinity) > after.radiusM).toBe(true);
    expect(filter.searchRegion()).toEqual(after.searchRegion);
  });

  test('nothing to estimate from before the first candidates', () => {
    const filter = new TrackFilter(FILTER);
    expect(filter.update({ frame: 0, t: 0, candidates: [] })).toBeUndefined();
    expect(filter.searchRegion()).toBeUndefined();
    expect(filter.update(measurements[1]!)).toMatchObject({ frame: measurements[1]!.frame, relocalizing: true });
  });
});

describe('TrackFilter bad input', () => {
  const fixes = simulateFlight({ seed: 6, durationS: 10 });
  const good = fixes[20]!.measurement;
  const withCandidate = (patch: Record<string, unknown>): Measurement => ({
    ...good,
    candidates: [good.candidates[0]!, { ...good.candidates[1]!, ...patch }],
  });
  const cases: Array<[string, Measurement, string]> = [
    ['NaN latitude', withCandidate({ lat: Number.NaN }), 'candidates[1].lat'],
    ['longitude out of range', withCandidate({ lon: 200 }), 'candidates[1].lon'],
    ['an L2 distance for a score', withCandidate({ score: 3.7 }), 'candidates[1].score'],
    ['a zero footprint', withCandidate({ footprintM: 0 }), 'candidates[1].footprintM'],
    ['a null candidate', { ...good, candidates: [null as never] }, 'candidates[0]'],
    ['candidates not an array', { ...good, candidates: undefined as never }, 'candidates'],
    ['t NaN', { ...good, t: Number.NaN }, 't is NaN'],
    ['altitude Infinity', { ...good, altitudeM: Infinity }, 'altitudeM'],
    ['heading NaN', { ...good, headingDeg: Number.NaN }, 'headingDeg'],
    ['a camera pitch above the horizon', { ...good, gimbalPitchDeg: 10 }, 'gimbalPitchDeg'],
    ['a search region without a radius', { ...good, searchRegion: { lat: 47, lon: 8, radiusM: 0 } }, 'searchRegion'],
    ['time going backwards', { ...good, t: fixes[10]!.t }, 'before the previous measurement'],
  ];

  test.each(cases)('%s: GEOLOC_ERR_TRACK_INPUT naming the field, and the state is untouched', (_, bad, field) => {
    const filter = new TrackFilter(FILTER);
    const twin = new TrackFilter(FILTER);
    for (const f of fixes.slice(0, 20)) {
      filter.update(f.measurement);
      twin.update(f.measurement);
    }
    const err = thrown(() => filter.update(bad));
    expect(isGeolocError(err, 'GEOLOC_ERR_TRACK_INPUT')).toBe(true);
    expect((err as Error).message).toContain(field);
    expect((err as Error).message).toContain(`frame ${good.frame}`);
    expect(filter.update(fixes[21]!.measurement)).toEqual(twin.update(fixes[21]!.measurement));
  });

  test.each<[string, Record<string, unknown>]>([
    ['particles', { particles: 0 }],
    ['outlierProbability', { outlierProbability: 1 }],
    ['maxSpeedMps', { maxSpeedMps: -5 }],
    ['seed', { seed: 0.5 }],
    ['origin', { origin: { lat: 91, lon: 0 } }],
    ['prior', { prior: { lat: 47, lon: 8, radiusM: 0 } }],
    ['prior', { prior: { lat: 47, lon: 181, radiusM: 100 } }],
    ['particle', { particle: 100 }],
  ])('option %s out of range: GEOLOC_ERR_TRACK_OPTIONS naming it', (name, options) => {
    const err = thrown(() => new TrackFilter(options as Partial<TrackFilterOptions>));
    expect(isGeolocError(err, 'GEOLOC_ERR_TRACK_OPTIONS')).toBe(true);
    expect((err as Error).message).toContain(name);
  });
});
