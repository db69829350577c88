/**
 * The fix outputs on a thread of their own. Encoding a fix and the system calls that send it
 * cost the thread that runs them far more than the work itself when they run only ten times a
 * second (cold caches, a syscall per output); the pipeline's thread only hands each fix over,
 * whole, in one message, and reads the outputs' counts from shared memory. The outputs' own
 * thread (outputsWorker.ts) runs the OutputSinks: rate limits, queues, reconnects, as before.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LogRecord, Logger } from './core/log';
import { definedOnly } from './core/options';
import type { FixFeature, OutputStats, PipelineSink } from './core/types';
import type { ArgValues } from './outputArgs';
import { SharedOutputStats, sharedOutputStatsBytes } from './sinks/sharedOutputStats';

/** The outputs of a run, as one sink: each fix goes to every output. */
export interface Outputs extends PipelineSink {
  fix(feature: FixFeature): void;
  /** each output's counts, as its thread last published them */
  stats(): OutputStats[];
  /** lets each output's queue leave (within its close timeout), then ends them; safe to call twice */
  close(): Promise<void>;
}

/** A run without outputs. */
export const NO_OUTPUTS: Outputs = { fix: () => undefined, stats: () => [], close: async () => undefined };

export interface OutputsThreadOptions {
  /**
   * how often the outputs' thread publishes their counts (and once more when they close): each
   * publication wakes the thread, and /metrics is scraped every few seconds
   */
  statsIntervalMs: number;
}

export const OUTPUTS_THREAD_DEFAULTS: OutputsThreadOptions = { statsIntervalMs: 500 };

/** What the outputs' thread starts from: the output flags (checked already) and where to publish the counts. */
export interface OutputsWorkerData {
  values: ArgValues;
  stats: SharedArrayBuffer;
  statsIntervalMs: number;
}

/** to the outputs' thread: a fix and when the pipeline handed it over (epoch ms), or the end */
export type ToOutputsWorker = { fix: FixFeature; handedOverMs: number } | { close: true };
/** from it: a log record for the pipeline's logger, or the word that every output has closed */
export type FromOutputsWorker = { log: LogRecord } | { closed: true };

export class OutputsThread implements Outputs {
  private readonly worker: Worker;
  private readonly counts: SharedOutputStats;
  private running = true;
  private closing: Promise<void> | undefined;
  private closed: (() => void) | undefined;

  /** `outputs`: each output's name and target, in the order the thread opens them */
  constructor(
    values: ArgValues,
    private readonly outputs: ReadonlyArray<Pick<OutputStats, 'name' | 'target'>>,
    logger: Logger,
    options: Partial<OutputsThreadOptions> = {},
  ) {
    const { statsIntervalMs } = { ...OUTPUTS_THREAD_DEFAULTS, ...definedOnly(options) };
    const stats = new SharedArrayBuffer(sharedOutputStatsBytes(outputs.length));
    this.counts = new SharedOutputStats(stats);
    this.worker = new Worker(join(__dirname, 'outputsWorker.js'), { workerData: { values, stats, statsIntervalMs } satisfies OutputsWorkerData });
    this.worker.on('message', (message: FromOutputsWorker) => {
      if ('log' in message) logger.log(message.log);
      else this.closed?.();
    });
    // a thread that fails costs the run its outputs, never the pipeline
    this.worker.on('error', (err) => {
      logger.log({ level: 'error', code: 'GEOLOC_ERR_OUTPUT_UNAVAILABLE', message: `the outputs' thread failed (${err.message}); the pipeline goes on without its outputs` });
    });
    this.worker.on('exit', () => {
      this.running = false;
      this.closed?.();
    });
  }

  fix(feature: FixFeature): void {
    if (this.running && !this.closing) this.worker.postMessage({ fix: feature, handedOverMs: Date.now() } satisfies ToOutputsWorker);
  }

  stats(): OutputStats[] {
    return this.outputs.map((output, i) => ({ ...output, ...this.counts.read(i) }));
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    if (!this.running) return;
    await new Promise<void>((resolve) => {
      this.closed = resolve;
      this.worker.postMessage({ close: true } satisfies ToOutputsWorker);
    });
    await this.worker.terminate();
  }
}
