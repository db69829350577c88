/** Seeded randomness shared by the generators and the tracker: same seed, same sequence, on every machine. */

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { imul } = Math;

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
