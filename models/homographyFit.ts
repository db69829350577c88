/**
 * Robust homography between matched points by OpenCV (inside a worker, see opencv.ts), and
 * the least-squares refits the pose's uncertainty is bootstrapped from.
 */
import type { OpenCv } from './opencv';
import { mulberry32 } from '../pipeline/core/random';

export type RobustMethod = 'ransac' | 'magsac';
export const ROBUST_METHODS: readonly RobustMethod[] = ['ransac', 'magsac'];

export interface RobustOptions {
  method: RobustMethod;
  /** largest reprojection error of an inlier, pixels of the destination image */
  thresholdPx: number;
  maxIters: number;
  confidence: number;
}

export interface RobustFit {
  /** row-major 3×3, source → destination; null when OpenCV found none */
  h: number[] | null;
  /** 1 for an inlier, per match */
  inliers: Uint8Array;
}

/** Least squares over all points given: OpenCV's method 0. */
const LEAST_SQUARES = 0;
const HOMOGRAPHY_ENTRIES = 9;
/** a refit of fewer points than this is degenerate */
const MIN_POINTS = 4;

function points(cv: OpenCv, xy: Float64Array) {
  return cv.matFromArray(xy.length / 2, 1, cv.CV_64FC2, xy);
}

/** `src`, `dst`: n·2 coordinates of n matches. */
export function robustHomography(cv: OpenCv, src: Float64Array, dst: Float64Array, options: RobustOptions): RobustFit {
  const n = src.length / 2;
  const a = points(cv, src);
  const b = points(cv, dst);
  const mask = new cv.Mat();
  const method = options.method === 'magsac' ? cv.USAC_MAGSAC : cv.RANSAC;
  const h = cv.findHomography(a, b, method, options.thresholdPx, mask, options.maxIters, options.confidence);
  try {
    if (h.empty() || mask.rows !== n) return { h: null, inliers: new Uint8Array(n) };
    return { h: Array.from(h.data64F), inliers: Uint8Array.from(mask.data.subarray(0, n), (v) => (v ? 1 : 0)) };
  } finally {
    for (const m of [a, b, mask, h]) m.delete();
  }
}

/**
 * `samples` least-squares homographies, each from the inliers drawn with replacement
 * (seeded): how much the fit moves with the evidence it rests on. Draws that OpenCV cannot
 * fit are left out; the result holds 9 numbers per refit that succeeded.
 */
export function bootstrapHomographies(cv: OpenCv, src: Float64Array, dst: Float64Array, samples: number, seed: number): Float64Array {
  const n = src.length / 2;
  const random = mulberry32(seed);
  const out: number[] = [];
  const a = new Float64Array(2 * n);
  const b = new Float64Array(2 * n);
  for (let s = 0; s < samples && n >= MIN_POINTS; s++) {
    for (let i = 0; i < n; i++) {
      const k = Math.floor(random() * n);
      a[2 * i] = src[2 * k]!;
      a[2 * i + 1] = src[2 * k + 1]!;
      b[2 * i] = dst[2 * k]!;
      b[2 * i + 1] = dst[2 * k + 1]!;
    }
    const ma = points(cv, a);
    const mb = points(cv, b);
    const mask = new cv.Mat();
    const h = cv.findHomography(ma, mb, LEAST_SQUARES, 0, mask, 0, 0);
    if (!h.empty() && h.data64F.length === HOMOGRAPHY_ENTRIES && h.data64F.every(Number.isFinite)) out.push(...h.data64F);
    for (const m of [ma, mb, mask, h]) m.delete();
  }
  return Float64Array.from(out);
}
