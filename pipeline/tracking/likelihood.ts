/**
 * The measurement likelihood: a mixture of one isotropic Gaussian kernel per retrieved
 * candidate plus a uniform outlier floor (formula in README.md).
 */
import type { LocalFrame } from '../geo/wgs84';
import type { Candidate } from '../core/types';

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { PI, cos, exp, log, max, sin, tan } = Math;

/** Beyond this many nats below its peak (about 7.7σ) a kernel adds nothing measurable. */
const NEGLIGIBLE_EXPONENT = -30;

export interface LikelihoodOptions {
  /** softmax temperature over candidate scores (score units) */
  scoreTemperature: number;
  /** kernel standard deviation as a fraction of the candidate's tile footprint */
  kernelSigmaPerFootprint: number;
  /** prior probability that none of the top-k candidates is near the truth */
  outlierProbability: number;
  /** area over which an outlier match lands, m² (the extent of the indexed map) */
  outlierAreaM2: number;
  /** camera field of view across the (square) image the model sees, degrees: the vertical FOV of a landscape frame */
  cameraFovDeg: number;
  /** tolerance on ln(tile footprint / camera footprint) when altitude is known */
  scaleSigmaLog: number;
}

/** Kernels in local metres, ready to evaluate at many positions. */
export interface CandidateKernels {
  /** the length of every array below */
  count: number;
  east: Float64Array;
  north: Float64Array;
  sigma: Float64Array;
  /** mixture weight π_j (sums to 1 over the candidates) */
  weight: Float64Array;
  /** (1 − ε) π_j / (2π σ_j²): the kernel's height at its centre */
  peak: Float64Array;
  /** −1 / (2σ_j²) */
  exponent: Float64Array;
  /** ε / A: the likelihood of a position no candidate points to */
  floor: number;
}

/** Ground footprint of a camera `rangeM` from the ground along its axis, metres. */
export function cameraFootprintM(rangeM: number, fovDeg: number): number {
  return 2 * rangeM * tan((fovDeg * PI) / 360);
}

/** Telemetry that shapes the likelihood (see Measurement). */
export interface CameraTelemetry {
  altitudeM?: number;
  headingDeg?: number;
  gimbalPitchDeg?: number;
}

/**
 * Where the camera axis meets the ground relative to the drone (a tilted camera looks
 * ahead along its heading), and the camera's footprint there. Without altitude (or with a
 * non-positive one) nothing is known; without heading or pitch the camera counts as nadir.
 */
export function cameraGeometry(telemetry: CameraTelemetry, fovDeg: number): { aheadEast: number; aheadNorth: number; footprintM?: number } {
  const { altitudeM, headingDeg, gimbalPitchDeg } = telemetry;
  if (altitudeM === undefined || !(altitudeM > 0)) return { aheadEast: 0, aheadNorth: 0 };
  const tilt = headingDeg !== undefined && gimbalPitchDeg !== undefined ? ((gimbalPitchDeg + 90) * PI) / 180 : 0;
  const ahead = altitudeM * tan(tilt);
  const heading = ((headingDeg ?? 0) * PI) / 180;
  return { aheadEast: ahead * sin(heading), aheadNorth: ahead * cos(heading), footprintM: cameraFootprintM(altitudeM / cos(tilt), fovDeg) };
}

export function buildKernels(
  candidates: readonly Candidate[],
  frame: LocalFrame,
  options: LikelihoodOptions,
  telemetry: CameraTelemetry,
  outlierAreaM2: number = options.outlierAreaM2,
): CandidateKernels {
  const count = candidates.length;
  const kernels: CandidateKernels = {
    count,
    east: new Float64Array(count),
    north: new Float64Array(count),
    sigma: new Float64Array(count),
    weight: new Float64Array(count),
    peak: new Float64Array(count),
    exponent: new Float64Array(count),
    floor: options.outlierProbability / outlierAreaM2,
  };
  if (count === 0) return kernels;
  const bestScore = max(...candidates.map((c) => c.score));
  const camera = cameraGeometry(telemetry, options.cameraFovDeg);
  const cameraM = camera.footprintM;
  let total = 0;
  for (const [j, c] of candidates.entries()) {
    // the tile shows the ground ahead of the camera; the drone is that far behind it
    const enu = frame.toEnu(c);
    kernels.east[j] = enu.e - camera.aheadEast;
    kernels.north[j] = enu.n - camera.aheadNorth;
    kernels.sigma[j] = options.kernelSigmaPerFootprint * c.footprintM;
    let w = exp((c.score - bestScore) / options.scoreTemperature);
    if (cameraM !== undefined) {
      const logRatio = log(c.footprintM / cameraM);
      w *= exp(-(logRatio * logRatio) / (2 * options.scaleSigmaLog * options.scaleSigmaLog));
    }
    kernels.weight[j] = w;
    total += w;
  }
  const inlier = 1 - options.outlierProbability;
  // j < count, the length of every kernel array
  for (let j = 0; j < count; j++) {
    const weight = total > 0 ? kernels.weight[j]! / total : 1 / count;
    const sigma = kernels.sigma[j]!;
    const variance = sigma * sigma;
    kernels.weight[j] = weight;
    kernels.peak[j] = (inlier * weight) / (2 * PI * variance);
    kernels.exponent[j] = -1 / (2 * variance);
  }
  return kernels;
}

/** L(x) for `count` positions, written into `out`; `east`, `north` and `out` hold at least `count` entries. */
export function evaluateLikelihood(
  kernels: CandidateKernels,
  east: Float64Array,
  north: Float64Array,
  count: number,
  out: Float64Array,
): void {
  const { east: ce, north: cn, peak, exponent, floor } = kernels;
  const k = kernels.count;
  for (let i = 0; i < count; i++) {
    const x = east[i]!;
    const y = north[i]!;
    let sum = floor;
    // j < k, the length of every kernel array
    for (let j = 0; j < k; j++) {
      const dx = x - ce[j]!;
      const dy = y - cn[j]!;
      const z = exponent[j]! * (dx * dx + dy * dy);
      if (z > NEGLIGIBLE_EXPONENT) sum += peak[j]! * exp(z);
    }
    out[i] = sum;
  }
}
