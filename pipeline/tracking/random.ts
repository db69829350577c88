/** A small seeded PRNG (mulberry32) with normal deviates: same seed, same sequence. */

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { floor, imul, log, sqrt } = Math;

const TWO_TO_32 = 4294967296;
const MULBERRY_INCREMENT = 0x6d2b79f5;

export class SeededRandom {
  private state: number;
  private spareNormal: number | undefined;

  constructor(private readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Back to the first number of the sequence. */
  restart(): void {
    this.state = this.seed >>> 0;
    this.spareNormal = undefined;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + MULBERRY_INCREMENT) >>> 0;
    let t = this.state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_TO_32;
  }

  /** Standard normal (Marsaglia's polar method; the second deviate of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const scale = sqrt((-2 * log(s)) / s);
    this.spareNormal = v * scale;
    return u * scale;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return floor(this.uniform() * n);
  }
}
