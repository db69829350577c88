import { ParticleCloud, type HeadingModel } from './particles';
import { Random } from '../core/random';

const N = 4000;
const NO_HEADING_MODEL: HeadingModel = { crabSigmaRad: 0.2, crabCorrelationS: 10, freeFraction: 0, modeDwellS: 10 };

function cloudOf(place: (i: number, random: Random) => [number, number]): ParticleCloud {
  const random = new Random(7);
  const cloud = new ParticleCloud(N, random);
  for (let i = 0; i < N; i++) [cloud.east[i], cloud.north[i]] = place(i, random);
  cloud.equalizeWeights();
  return cloud;
}

describe('ParticleCloud', () => {
  test('the 95% radius of an isotropic Gaussian cloud is σ·√(−2 ln 0.05)', () => {
    const sigma = 20;
    const cloud = cloudOf((_, r) => [300 + sigma * r.normal(), -200 + sigma * r.normal()]);
    const summary = cloud.summarize(150, 50);
    expect(Math.hypot(summary.east - 300, summary.north + 200)).toBeLessThan(2);
    expect(summary.radius95M / (sigma * Math.sqrt(-2 * Math.log(0.05)))).toBeGreaterThan(0.95);
    expect(summary.radius95M / (sigma * Math.sqrt(-2 * Math.log(0.05)))).toBeLessThan(1.07);
    expect(summary.massNear).toBeCloseTo(1 - Math.exp(-(50 * 50) / (2 * sigma * sigma)), 1);
  });

  test('a two-mode cloud reports its stronger mode, with a radius that reaches the other', () => {
    const cloud = cloudOf((i, r) => (i < 0.7 * N ? [10 * r.normal(), 10 * r.normal()] : [1000 + 10 * r.normal(), 10 * r.normal()]));
    const summary = cloud.summarize(150, 50);
    expect(Math.hypot(summary.east, summary.north)).toBeLessThan(3);
    expect(summary.radius95M).toBeGreaterThan(990);
  });

  test('weights move the estimate; systematic resampling keeps it and equalizes the weights', () => {
    const cloud = cloudOf((i, r) => (i < N / 2 ? [r.normal(), r.normal()] : [500 + r.normal(), r.normal()]));
    const logFactor = new Float64Array(N).map((_, i) => (i < N / 2 ? 0 : Math.log(9)));
    cloud.reweight(logFactor);
    expect(cloud.effectiveSampleSize()).toBeLessThan(N);
    cloud.resample();
    let onRight = 0;
    for (let i = 0; i < N; i++) if (cloud.east[i]! > 250) onRight++;
    expect(onRight / N).toBeCloseTo(0.9, 2);
    expect(cloud.effectiveSampleSize()).toBeCloseTo(N, 6);
  });

  test('motion never exceeds the maximum speed, even over a long gap', () => {
    const cloud = cloudOf(() => [0, 0]);
    for (let i = 0; i < N; i++) cloud.vEast[i] = 19;
    cloud.predict(45, { maxSpeedMps: 20, processNoiseMps2: 5 }, NO_HEADING_MODEL, undefined);
    let fastest = 0;
    let farthest = 0;
    for (let i = 0; i < N; i++) {
      fastest = Math.max(fastest, Math.hypot(cloud.vEast[i]!, cloud.vNorth[i]!));
      farthest = Math.max(farthest, Math.hypot(cloud.east[i]!, cloud.north[i]!));
    }
    expect(fastest).toBeLessThanOrEqual(20 + 1e-9);
    expect(farthest).toBeLessThanOrEqual(20 * 45 + 1e-6);
    expect(farthest).toBeGreaterThan(19 * 10); // it did move
  });

  test('particles that follow the heading move along it (plus their crab angle)', () => {
    const cloud = cloudOf(() => [0, 0]);
    for (let i = 0; i < N; i++) cloud.vNorth[i] = 10; // moving north...
    const east = Math.PI / 2; // ...while the heading says east
    for (let step = 0; step < 5; step++) cloud.predict(0.2, { maxSpeedMps: 20, processNoiseMps2: 1 }, NO_HEADING_MODEL, east);
    let alongEast = 0;
    for (let i = 0; i < N; i++) alongEast += cloud.vEast[i]! / Math.hypot(cloud.vEast[i]!, cloud.vNorth[i]!);
    expect(alongEast / N).toBeGreaterThan(Math.cos(3 * NO_HEADING_MODEL.crabSigmaRad));
  });

  test('dt = 0 moves nothing', () => {
    const cloud = cloudOf((_, r) => [r.normal(), r.normal()]);
    const before = Float64Array.from(cloud.east);
    cloud.predict(0, { maxSpeedMps: 20, processNoiseMps2: 2 }, NO_HEADING_MODEL, undefined);
    expect(Array.from(cloud.east)).toEqual(Array.from(before));
  });
});
