/**
 * Output counts in shared memory: the thread that runs the outputs writes them, the pipeline's
 * thread reads them when it likes (/metrics, the report) without a message or a wait.
 */
import type { OutputStats } from '../core/types';

const COUNTS = ['sent', 'dropped', 'errors', 'cutOffs', 'connected', 'queued', 'bufferedBytes'] as const;
export type OutputCounts = Omit<OutputStats, 'name' | 'target'>;

/** the bytes a SharedOutputStats of `outputs` outputs takes */
export const sharedOutputStatsBytes = (outputs: number) => outputs * COUNTS.length * BigInt64Array.BYTES_PER_ELEMENT;

export class SharedOutputStats {
  /** 64-bit slots read and written with Atomics: no torn value, no overflow */
  private readonly slots: BigInt64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new BigInt64Array(buffer);
  }

  write(output: number, counts: OutputCounts): void {
    COUNTS.forEach((name, i) => Atomics.store(this.slots, output * COUNTS.length + i, BigInt(Number(counts[name]))));
  }

  read(output: number): OutputCounts {
    const value = Object.fromEntries(COUNTS.map((name, i) => [name, Number(Atomics.load(this.slots, output * COUNTS.length + i))]));
    return { ...value, connected: value.connected === 1 } as OutputCounts;
  }
}
