/** A small seeded PRNG (mulberry32) with normal deviates: same seed, same sequence. */

import { mulberry32 } from '../random';

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { floor, log, sqrt } = Math;

export class SeededRandom {
  private next: () => number;
  private spareNormal: number | undefined;

  constructor(private readonly seed: number) {
    this.next = mulberry32(seed);
  }

  /** Back to the first number of the sequence. */
  restart(): void {
    this.next = mulberry32(this.seed);
    this.spareNormal = undefined;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
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
