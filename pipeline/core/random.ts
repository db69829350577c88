/**
 * Seeded randomness shared by the generators and the tracker: the same seed gives the same
 * sequence on every machine, so nothing seeded may touch Math.random or the clock.
 */

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { floor, imul, log, sqrt } = Math;

const MULBERRY_INCREMENT = 0x6d2b79f5;
const TWO_TO_32 = 4294967296;

/** mulberry32: a small, fast 32-bit PRNG; returns uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + MULBERRY_INCREMENT) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_TO_32;
  };
}

/** A seeded random stream (mulberry32) with the draws the generators and the tracker need. */
export class Random {
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
  unit(): number {
    return this.next();
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + floor(this.next() * (hi - lo + 1));
  }

  /** true with probability p */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[floor(this.next() * items.length)] as T;
  }

  /** An item drawn with probability proportional to its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
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
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const scale = sqrt((-2 * log(s)) / s);
    this.spareNormal = v * scale;
    return u * scale;
  }
}
