import { LocalFrame } from '../geo/wgs84';
import { buildKernels, cameraFootprintM, evaluateLikelihood, type LikelihoodOptions } from './likelihood';
import type { Candidate } from '../core/types';

const ORIGIN = { lat: 47, lon: 8 };
const frame = new LocalFrame(ORIGIN);
const OPTIONS: LikelihoodOptions = {
  scoreTemperature: 0.05,
  kernelSigmaPerFootprint: 0.3,
  outlierProbability: 0.5,
  outlierAreaM2: 9e6,
  cameraFovDeg: 80,
  scaleSigmaLog: 0.5,
};

function candidateAt(east: number, north: number, score: number, footprintM: number): Candidate {
  const { lat, lon } = frame.fromEnu({ e: east, n: north, u: 0 });
  return { tileId: 0, score, lat, lon, footprintM };
}

function likelihoodAt(kernels: ReturnType<typeof buildKernels>, east: number, north: number): number {
  const out = new Float64Array(1);
  evaluateLikelihood(kernels, Float64Array.of(east), Float64Array.of(north), 1, out);
  return out[0]!;
}

describe('measurement likelihood', () => {
  test('one candidate: the outlier floor plus a Gaussian of σ = κ·footprint', () => {
    const kernels = buildKernels([candidateAt(100, -50, 0.8, 200)], frame, OPTIONS, {});
    const sigma = 0.3 * 200;
    const floor = 0.5 / 9e6;
    const peak = 0.5 / (2 * Math.PI * sigma * sigma);
    expect(likelihoodAt(kernels, 100, -50)).toBeCloseTo(floor + peak, 12);
    expect(likelihoodAt(kernels, 100 + sigma, -50) / (floor + peak * Math.exp(-0.5))).toBeCloseTo(1, 6);
    expect(likelihoodAt(kernels, 5000, 5000)).toBeCloseTo(floor, 15);
  });

  test('mixture weights are a softmax of the scores at the given temperature', () => {
    const gap = 0.05 * Math.log(3); // a score gap of T·ln 3 makes one candidate three times as likely
    const kernels = buildKernels([candidateAt(0, 0, 0.9, 200), candidateAt(1000, 0, 0.9 - gap, 200)], frame, OPTIONS, {});
    expect(kernels.weight[0]).toBeCloseTo(0.75, 9);
    expect(kernels.weight[1]).toBeCloseTo(0.25, 9);
  });

  test('with altitude, tiles whose footprint does not match the camera lose weight', () => {
    const altitudeM = 120;
    const cameraM = cameraFootprintM(altitudeM, OPTIONS.cameraFovDeg);
    const kernels = buildKernels([candidateAt(0, 0, 0.9, cameraM), candidateAt(800, 0, 0.9, 2 * cameraM)], frame, OPTIONS, { altitudeM });
    const expectedRatio = Math.exp(-(Math.log(2) ** 2) / (2 * 0.5 ** 2));
    expect(kernels.weight[1]! / kernels.weight[0]!).toBeCloseTo(expectedRatio, 9);
    // without altitude (or with a non-positive one) the two count the same
    for (const altitude of [undefined, 0, -3]) {
      const flat = buildKernels([candidateAt(0, 0, 0.9, cameraM), candidateAt(800, 0, 0.9, 2 * cameraM)], frame, OPTIONS, { altitudeM: altitude });
      expect(flat.weight[1]).toBeCloseTo(flat.weight[0]!, 12);
    }
  });

  test('a tilted camera sees ground ahead of the drone: kernels move back along the heading', () => {
    const altitudeM = 200;
    const tilted = buildKernels([candidateAt(0, 0, 0.9, 200)], frame, OPTIONS, { altitudeM, headingDeg: 90, gimbalPitchDeg: -80 });
    const ahead = altitudeM * Math.tan((10 * Math.PI) / 180);
    expect(tilted.east[0]).toBeCloseTo(-ahead, 6);
    expect(tilted.north[0]).toBeCloseTo(0, 6);
    // without the heading the direction is unknown: no shift
    const noHeading = buildKernels([candidateAt(0, 0, 0.9, 200)], frame, OPTIONS, { altitudeM, gimbalPitchDeg: -80 });
    expect(Math.hypot(noHeading.east[0]!, noHeading.north[0]!)).toBeLessThan(1e-6);
  });

  test('no candidates: the likelihood is flat', () => {
    const kernels = buildKernels([], frame, OPTIONS, {});
    expect(kernels.count).toBe(0);
    expect(likelihoodAt(kernels, 0, 0)).toBe(likelihoodAt(kernels, 3000, -200));
  });
});
