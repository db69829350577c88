/**
 * Float matching the plain way: the exhaustive double loop geoloc used before the ONNX Runtime
 * screening (kept here as the parity tests' reference and bench/matching.ts's baseline). Every
 * pair's squared L2 distance, 2 − 2·inner product summed in double from the first component;
 * each row's and column's nearest (the first on ties) and second nearest; mutual pairs through
 * the ratio test. featureMatching.ts must give exactly this.
 */
import type { Matches, MatchOptions } from '../../models/featureMatching';

export function referenceFloatMatches(a: Float32Array, n: number, b: Float32Array, m: number, dim: number, options: MatchOptions): Matches {
  const rowAt = new Int32Array(n).fill(-1);
  const rowBest = new Float64Array(n).fill(Infinity);
  const rowSecond = new Float64Array(n).fill(Infinity);
  const colAt = new Int32Array(m).fill(-1);
  const colBest = new Float64Array(m).fill(Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += a[i * dim + k]! * b[j * dim + k]!;
      const d = 2 - 2 * dot;
      if (d < rowBest[i]!) {
        rowSecond[i] = rowBest[i]!;
        rowBest[i] = d;
        rowAt[i] = j;
      } else if (d < rowSecond[i]!) rowSecond[i] = d;
      if (d < colBest[j]!) {
        colBest[j] = d;
        colAt[j] = i;
      }
    }
  }
  const ia: number[] = [];
  const ib: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = rowAt[i]!;
    if (j < 0 || colAt[j] !== i) continue;
    const ratio = rowSecond[i] === Infinity ? 0 : Math.sqrt(rowBest[i]! / rowSecond[i]!);
    if (ratio <= options.maxRatio) {
      ia.push(i);
      ib.push(j);
    }
  }
  return { count: ia.length, a: Int32Array.from(ia), b: Int32Array.from(ib) };
}

/** count rows of dim seeded random components scaled to unit length. */
export function randomUnitDescriptors(count: number, dim: number, random: () => number): Float32Array {
  const x = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const row = x.subarray(i * dim, (i + 1) * dim);
    for (let k = 0; k < dim; k++) row[k] = random() - 0.5;
    const norm = Math.hypot(...row);
    for (let k = 0; k < dim; k++) row[k] = row[k]! / norm;
  }
  return x;
}
