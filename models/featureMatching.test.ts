import { mulberry32 } from '../pipeline/core/random';
import { randomUnitDescriptors, referenceFloatMatches } from '../tests/support/referenceMatching';
import { DEFAULT_BINARY_RATIO, DEFAULT_FLOAT_RATIO, FeatureMatcher, type Matches } from './featureMatching';

const DIM = 64;
const RATIOS = [DEFAULT_FLOAT_RATIO, 0.8, 1];
/** a few float32 ulps of a unit descriptor's components */
const NEAR_TIE_STEP = 5e-8;

describe('FeatureMatcher', () => {
  let matcher: FeatureMatcher;
  beforeAll(async () => {
    matcher = await FeatureMatcher.load();
  });
  afterAll(() => matcher.release());

  const plain = (m: Matches) => ({ count: m.count, a: Array.from(m.a), b: Array.from(m.b) });

  /** The matcher against the exhaustive reference at several ratios. */
  async function expectParity(a: Float32Array, b: Float32Array, dim = DIM): Promise<Matches[]> {
    const n = a.length / dim;
    const m = b.length / dim;
    const out: Matches[] = [];
    for (const maxRatio of RATIOS) {
      const got = await matcher.match({ count: n, dim, descriptors: a }, { count: m, dim, descriptors: b }, { maxRatio });
      expect(plain(got)).toEqual(plain(referenceFloatMatches(a, n, b, m, dim, { maxRatio })));
      out.push(got);
    }
    return out;
  }

  const rows = (x: Float32Array, picks: number[], dim = DIM) => {
    const out = new Float32Array(picks.length * dim);
    picks.forEach((p, r) => out.set(x.subarray(p * dim, (p + 1) * dim), r * dim));
    return out;
  };

  it.each([
    [0, 5],
    [5, 0],
    [1, 1],
    [1, 2],
    [2, 1],
    [2, 2],
    [1, 40],
    [40, 1],
    [300, 257],
  ])('gives the reference matches for %i × %i random unit descriptors', async (n, m) => {
    const random = mulberry32(n * 1000 + m);
    await expectParity(randomUnitDescriptors(n, DIM, random), randomUnitDescriptors(m, DIM, random));
  });

  it('gives the reference matches at full size, most of them mutual for near-copies', async () => {
    const random = mulberry32(7);
    const a = randomUnitDescriptors(2048, DIM, random);
    const noise = randomUnitDescriptors(2048, DIM, random);
    // b: a's rows slightly moved, so that most rows have a clear mutual nearest
    const b = a.map((v, k) => v + 0.05 * noise[k]!);
    const [atDefault] = await expectParity(a, b);
    expect(atDefault!.count).toBeGreaterThan(1000);
  });

  it('breaks ties (duplicate rows, duplicate columns, both) as the reference does', async () => {
    const random = mulberry32(11);
    const base = randomUnitDescriptors(30, DIM, random);
    const picks = Array.from({ length: 60 }, (_, k) => Math.floor(random() * 30));
    // duplicates on one side, then on both; a set of one row repeated; a pair of identical rows
    await expectParity(base, rows(base, picks));
    await expectParity(rows(base, picks), base);
    await expectParity(rows(base, picks), rows(base, picks.slice().reverse()));
    await expectParity(rows(base, [3, 3, 3, 3]), rows(base, [3, 3]));
    await expectParity(rows(base, [0, 0]), rows(base, [0, 1]));
  });

  it('decides near-ties that float32 cannot tell apart as the reference does', async () => {
    const random = mulberry32(13);
    const base = randomUnitDescriptors(40, DIM, random);
    // copies moved by a few float32 ulps: their distances differ by less than a float32 GEMM's
    // rounding, so its order of them is often wrong and only the exact recomputation decides
    const copies = (x: Float32Array, each: number) => {
      const out = new Float32Array(x.length * each);
      for (let c = 0; c < each; c++) for (let k = 0; k < x.length; k++) out[c * x.length + k] = x[k]! + NEAR_TIE_STEP * (random() - 0.5);
      return out;
    };
    const coarse = base.map((v) => Math.round(v * 8) / 8); // few distinct values: exact ties in double too
    await expectParity(base, copies(base, 8));
    await expectParity(copies(base, 8), base);
    await expectParity(copies(base, 4), copies(base, 4));
    await expectParity(coarse, new Float32Array([...coarse, ...coarse.subarray(0, 10 * DIM)]));
  });

  it('matches descriptors of any length and scale, and unscreenable ones (NaN, huge) exactly', async () => {
    const random = mulberry32(17);
    const a = randomUnitDescriptors(50, 7, random);
    const b = randomUnitDescriptors(60, 7, random);
    await expectParity(a, b, 7);
    await expectParity(a.map((v) => v * 1000), b.map((v) => v * 1e-3), 7);
    const withNaN = b.slice();
    withNaN[3 * 7 + 2] = Number.NaN;
    await expectParity(a, withNaN, 7);
    await expectParity(withNaN, a, 7);
    const huge = a.slice();
    huge.fill(3e30, 0, 7);
    await expectParity(huge, b, 7);
  });

  it('matches binary descriptors by Hamming distance', async () => {
    const random = mulberry32(19);
    const a = Uint8Array.from({ length: 40 * 32 }, () => Math.floor(random() * 256));
    const order = Array.from({ length: 40 }, (_, k) => (k * 7) % 40);
    const b = new Uint8Array(40 * 32);
    order.forEach((p, r) => b.set(a.subarray(p * 32, (p + 1) * 32), r * 32));
    const m = await matcher.match({ count: 40, dim: 32, descriptors: a }, { count: 40, dim: 32, descriptors: b }, { maxRatio: DEFAULT_BINARY_RATIO });
    expect(m.count).toBe(40);
    for (let r = 0; r < m.count; r++) expect(order[m.b[r]!]).toBe(m.a[r]);
  });
});
