/**
 * Mutual nearest neighbours between two feature sets with Lowe's ratio test: a match is kept
 * when each is the other's nearest and the nearest is clearly nearer than the second nearest.
 * XFeat descriptors are unit rows compared by squared L2 distance (2 − 2·inner product), the
 * binary ones (ORB, AKAZE) by Hamming distance.
 *
 * The float pairs are screened by one GEMM in ONNX Runtime, then the few pairs that decide each
 * nearest and second nearest are recomputed exactly: the matches are the exhaustive loop's, bit
 * for bit, about 11× faster at 2048 × 2048 × 64 (bench/matching.ts). Runs in the feature worker
 * (featureWorker.ts), which has ONNX Runtime loaded.
 */
import * as ort from 'onnxruntime-node';
import type { LocalFeatures } from './localFeatures';
import { SIMILARITY_INPUTS, SIMILARITY_OUTPUT, similarityModel } from './similarityGraph';

/** What matching reads of a feature set: the feature worker is sent no keypoints or scores. */
export type Descriptors = Pick<LocalFeatures, 'count' | 'dim' | 'descriptors'>;
type FloatDescriptors = Descriptors & { descriptors: Float32Array };

const isFloat = (f: Descriptors): f is FloatDescriptors => f.descriptors instanceof Float32Array;

export interface MatchOptions {
  /** largest nearest ÷ second-nearest distance of a kept match (Lowe's test); 1 keeps every mutual pair */
  maxRatio: number;
}

/** XFeat's descriptors are less distinctive one by one than SIFT's: a looser ratio keeps enough true pairs. */
export const DEFAULT_FLOAT_RATIO = 0.95;
/** Lowe's value for binary descriptors */
export const DEFAULT_BINARY_RATIO = 0.8;

export interface Matches {
  count: number;
  /** index into a, index into b, per match */
  a: Int32Array;
  b: Int32Array;
}

interface Nearest {
  index: Int32Array;
  best: Float64Array;
  second: Float64Array;
}

function nearestTable(rows: number): Nearest {
  return { index: new Int32Array(rows).fill(-1), best: new Float64Array(rows).fill(Infinity), second: new Float64Array(rows).fill(Infinity) };
}

function offer(t: Nearest, row: number, col: number, d: number): void {
  if (d < t.best[row]!) {
    t.second[row] = t.best[row]!;
    t.best[row] = d;
    t.index[row] = col;
  } else if (d < t.second[row]!) t.second[row] = d;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, v) => {
  let c = 0;
  for (let x = v; x; x >>= 1) c += x & 1;
  return c;
});

/** Fills both tables by Hamming distance over all pairs: cheap enough in JavaScript at 32 or 61 bytes. */
function hammingDistances(a: Descriptors, b: Descriptors, fromA: Nearest, fromB: Nearest): void {
  const dim = a.dim;
  const da = a.descriptors as Uint8Array;
  const db = b.descriptors as Uint8Array;
  for (let i = 0; i < a.count; i++) {
    const oi = i * dim;
    for (let j = 0; j < b.count; j++) {
      const oj = j * dim;
      let d = 0;
      for (let k = 0; k < dim; k++) d += POPCOUNT[da[oi + k]! ^ db[oj + k]!]!;
      offer(fromA, i, j, d);
      offer(fromB, j, i, d);
    }
  }
}

/**
 * The float distance every decision is made on: 2 − 2·(a_i·b_j), the inner product summed in
 * double precision from the first component to the last. Fixing the arithmetic fixes the
 * matches (which of two near-equal neighbours wins) whatever computed the screening matrix.
 */
function floatDistance(da: Float32Array, oi: number, db: Float32Array, oj: number, dim: number): number {
  let dot = 0;
  for (let k = 0; k < dim; k++) dot += da[oi + k]! * db[oj + k]!;
  return 2 - 2 * dot;
}

/** Unit roundoff of float32 and float64. */
const F32_ROUNDOFF = 2 ** -24;
const F64_ROUNDOFF = 2 ** -53;
/**
 * A screening value and the exact one may each be off the true inner product by γ_dim·|a|·|b|
 * (γ_n = n·u/(1 − n·u), any summation order, fused or not: Higham, Accuracy and Stability of
 * Numerical Algorithms, §3.1). Twice that, since both the candidate and the threshold move; twice
 * again (and the + 1 in the bound) for the rounding of 2 − 2·dot and of the threshold itself.
 */
const MARGIN_SAFETY = 4;
/** beyond this a float32 product could overflow: such a row is computed exactly against every column */
const MAX_SCREENED_NORM = 2 ** 60;

const gamma = (n: number, u: number) => (n * u) / (1 - n * u);

/** Euclidean norm per row; Infinity for a row that cannot be screened (non-finite or huge). */
function rowNorms(x: Float32Array, count: number, dim: number): Float64Array {
  const norms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let sq = 0;
    for (let k = i * dim; k < (i + 1) * dim; k++) sq += x[k]! * x[k]!;
    const n = Math.sqrt(sq);
    norms[i] = Number.isFinite(n) && n <= MAX_SCREENED_NORM ? n : Infinity;
  }
  return norms;
}

/**
 * How far below a row's (or column's) second-largest screening value a column may lie and still be
 * among its two exact nearest. Infinity (every column a candidate) where a norm is unscreenable.
 */
function margins(norms: Float64Array, otherNorms: Float64Array, dim: number): Float64Array {
  const otherMax = otherNorms.reduce((m, v) => Math.max(m, v), 0);
  const bound = MARGIN_SAFETY * (gamma(dim, F32_ROUNDOFF) + gamma(dim, F64_ROUNDOFF));
  return norms.map((n) => bound * (n * otherMax + 1));
}

/**
 * Rows of A per GEMM: a 2 MB block of A·Bᵀ at 2048 columns. The whole 16 MB matrix at once took
 * 5 ms or, every other run, 50 ms (a fresh large buffer each call); blocks of 256 stay near 5 ms.
 */
const SCREEN_BLOCK_ROWS = 256;
/** one intra-op thread: on the 2 shared cores two made the GEMM slower (9 ms against 5 ms) */
const SCREEN_THREADS = 1;

/** The three largest screening values of a line of the matrix and where the two largest are. */
interface Top3 {
  first: Float32Array;
  second: Float32Array;
  third: Float32Array;
  firstAt: Int32Array;
  secondAt: Int32Array;
}

function top3(lines: number): Top3 {
  const v = () => new Float32Array(lines).fill(-Infinity);
  return { first: v(), second: v(), third: v(), firstAt: new Int32Array(lines).fill(-1), secondAt: new Int32Array(lines).fill(-1) };
}

function push(t: Top3, line: number, v: number, at: number): void {
  if (v > t.first[line]!) {
    t.third[line] = t.second[line]!;
    t.second[line] = t.first[line]!;
    t.secondAt[line] = t.firstAt[line]!;
    t.first[line] = v;
    t.firstAt[line] = at;
  } else if (v > t.second[line]!) {
    t.third[line] = t.second[line]!;
    t.second[line] = v;
    t.secondAt[line] = at;
  } else t.third[line] = v;
}

/**
 * Offers `table` the distances that decide line `line`'s nearest and second nearest, in
 * increasing index order: the two largest screening values' when the third is clearly below
 * them, otherwise (ties, near-duplicates, a line of one, an unscreenable norm) every one of the
 * line's `length`, so that such a line is decided exactly as an exhaustive loop would.
 */
function decide(t: Top3, line: number, margin: number, length: number, table: Nearest, distance: (k: number) => number): void {
  if (t.third[line]! < t.second[line]! - margin) {
    const p = Math.min(t.firstAt[line]!, t.secondAt[line]!);
    const q = Math.max(t.firstAt[line]!, t.secondAt[line]!);
    offer(table, line, p, distance(p));
    offer(table, line, q, distance(q));
  } else for (let k = 0; k < length; k++) offer(table, line, k, distance(k));
}

/** Screening tops of every row and every column of A·Bᵀ. */
interface Screen {
  rows: Top3;
  cols: Top3;
}

/**
 * Fills both tables for float descriptors from the screen (float32 GEMM, see FeatureMatcher):
 * the distances that decide each row's and column's nearest and second nearest are recomputed
 * with floatDistance, so the tables, ties included, are those an exhaustive loop would fill.
 */
function decideFloat(a: FloatDescriptors, b: FloatDescriptors, screen: Screen, fromA: Nearest, fromB: Nearest): void {
  const { count: n, dim } = a;
  const m = b.count;
  const da = a.descriptors;
  const db = b.descriptors;
  const normsA = rowNorms(da, n, dim);
  const normsB = rowNorms(db, m, dim);
  const marginA = margins(normsA, normsB, dim);
  const marginB = margins(normsB, normsA, dim);
  for (let i = 0; i < n; i++) decide(screen.rows, i, marginA[i]!, m, fromA, (j) => floatDistance(da, i * dim, db, j * dim, dim));
  for (let j = 0; j < m; j++) decide(screen.cols, j, marginB[j]!, n, fromB, (i) => floatDistance(da, i * dim, db, j * dim, dim));
}

/** Mutual nearest neighbours of a and b that pass the ratio test, in a's order. */
function mutualMatches(fromA: Nearest, fromB: Nearest, squared: boolean, options: MatchOptions): Matches {
  const ia: number[] = [];
  const ib: number[] = [];
  for (let i = 0; i < fromA.index.length; i++) {
    const j = fromA.index[i]!;
    if (j < 0 || fromB.index[j] !== i) continue;
    // squared L2 for floats: the ratio of distances is the square root of theirs
    const ratio = fromA.second[i]! === Infinity ? 0 : squared ? Math.sqrt(fromA.best[i]! / fromA.second[i]!) : fromA.best[i]! / fromA.second[i]!;
    if (ratio <= options.maxRatio) {
      ia.push(i);
      ib.push(j);
    }
  }
  return { count: ia.length, a: Int32Array.from(ia), b: Int32Array.from(ib) };
}

/**
 * Matching with its ONNX Runtime session (the similarity GEMM): one per feature worker, next to
 * the XFeat session that made the descriptors.
 */
export class FeatureMatcher {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(): Promise<FeatureMatcher> {
    const session = await ort.InferenceSession.create(similarityModel(), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: SCREEN_THREADS });
    return new FeatureMatcher(session);
  }

  async match(a: Descriptors, b: Descriptors, options: MatchOptions): Promise<Matches> {
    if (a.count === 0 || b.count === 0 || a.dim !== b.dim || a.descriptors.constructor !== b.descriptors.constructor) return { count: 0, a: new Int32Array(0), b: new Int32Array(0) };
    const fromA = nearestTable(a.count);
    const fromB = nearestTable(b.count);
    const float = isFloat(a) && isFloat(b);
    if (float) decideFloat(a, b, await this.screen(a, b), fromA, fromB);
    else hammingDistances(a, b, fromA, fromB);
    return mutualMatches(fromA, fromB, float, options);
  }

  /** A·Bᵀ a block of A's rows at a time, each block's values folded into the tops and dropped. */
  private async screen(a: FloatDescriptors, b: FloatDescriptors): Promise<Screen> {
    const { count: n, dim } = a;
    const m = b.count;
    const rows = top3(n);
    const cols = top3(m);
    const bTensor = new ort.Tensor('float32', b.descriptors.subarray(0, m * dim), [m, dim]);
    for (let start = 0; start < n; start += SCREEN_BLOCK_ROWS) {
      const end = Math.min(n, start + SCREEN_BLOCK_ROWS);
      const aTensor = new ort.Tensor('float32', a.descriptors.subarray(start * dim, end * dim), [end - start, dim]);
      const out = await this.session.run({ [SIMILARITY_INPUTS.a]: aTensor, [SIMILARITY_INPUTS.b]: bTensor });
      const s = out[SIMILARITY_OUTPUT]!.data as Float32Array;
      for (let i = start; i < end; i++) {
        const o = (i - start) * m;
        for (let j = 0; j < m; j++) {
          const v = s[o + j]!;
          // almost every value is below both thirds: two comparisons per entry
          if (v > rows.third[i]!) push(rows, i, v, j);
          if (v > cols.third[j]!) push(cols, j, v, i);
        }
      }
    }
    return { rows, cols };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
