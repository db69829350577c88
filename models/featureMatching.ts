/**
 * Mutual nearest neighbours between two feature sets with Lowe's ratio test: a match is kept
 * when each is the other's nearest and the nearest is clearly nearer than the second nearest.
 * XFeat descriptors are unit rows compared by squared L2 distance (2 − 2·inner product), the
 * binary ones (ORB, AKAZE) by Hamming distance.
 */
import type { LocalFeatures } from './localFeatures';

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

/** Fills both tables (a's nearest in b, b's nearest in a) from one pass over all pairs. */
function distances(a: LocalFeatures, b: LocalFeatures, fromA: Nearest, fromB: Nearest): void {
  const dim = a.dim;
  if (a.descriptors instanceof Float32Array && b.descriptors instanceof Float32Array) {
    const da = a.descriptors;
    const db = b.descriptors;
    for (let i = 0; i < a.count; i++) {
      const oi = i * dim;
      for (let j = 0; j < b.count; j++) {
        const oj = j * dim;
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += da[oi + k]! * db[oj + k]!;
        const d = 2 - 2 * dot;
        offer(fromA, i, j, d);
        offer(fromB, j, i, d);
      }
    }
    return;
  }
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

export function matchFeatures(a: LocalFeatures, b: LocalFeatures, options: MatchOptions): Matches {
  if (a.count === 0 || b.count === 0 || a.dim !== b.dim || a.descriptors.constructor !== b.descriptors.constructor) return { count: 0, a: new Int32Array(0), b: new Int32Array(0) };
  const fromA = nearestTable(a.count);
  const fromB = nearestTable(b.count);
  distances(a, b, fromA, fromB);
  const ia: number[] = [];
  const ib: number[] = [];
  // squared L2 for floats: the ratio of distances is the square root of theirs
  const squared = a.descriptors instanceof Float32Array;
  for (let i = 0; i < a.count; i++) {
    const j = fromA.index[i]!;
    if (j < 0 || fromB.index[j] !== i) continue;
    const ratio = fromA.second[i]! === Infinity ? 0 : squared ? Math.sqrt(fromA.best[i]! / fromA.second[i]!) : fromA.best[i]! / fromA.second[i]!;
    if (ratio <= options.maxRatio) {
      ia.push(i);
      ib.push(j);
    }
  }
  return { count: ia.length, a: Int32Array.from(ia), b: Int32Array.from(ib) };
}
