/**
 * Running the pipeline as a whole: opening the model and index (closing whatever opened if the
 * other fails), then running the pipeline into its sinks until the source ends or a signal
 * stops it. What `run`, `replay`, `demo` and the benchmarks share.
 */
import { performance } from 'node:perf_hooks';
import { type Observable, Subject, type Subscription } from 'rxjs';
import { telemetryAt, type TelemetryRecord } from './telemetry';
import { EmbedderPool } from '../models/embedderPool';
import { defaultModelPath } from '../models/modelInfo';
import { SatelliteIndex } from '../models/satelliteIndex';
import type { PipelineConfig } from './config';
import { GeolocError } from './core/errors';
import type { PipelineSink } from './core/types';
import { type LocalizedFix, type LocalizeOptions, localize, PipelineStats } from './localize';
import { type Logger, silentLogger } from './core/log';
import { type SchedulingPolicy, scheduleAsBatchJob } from './batchScheduling';
import type { FramePriors } from '../operators/searchIndex';
import { FeatureWorker } from '../models/featureWorkerClient';
import { openMapReference } from '../models/openReference';
import type { Registrar } from './localize';
import { warnIfCameraMisfits } from './cameraFit';
import { resolveTrackFilterOptions } from './tracking/trackFilter';

export interface Localizer {
  embedder: EmbedderPool;
  index: SatelliteIndex;
  /** the policy this process's threads, and the decoders it starts, run under */
  scheduling: SchedulingPolicy;
  /** the feature worker and the map, with config.register */
  registrar?: Registrar;
  close(): Promise<void>;
}

/** The feature worker (XFeat) and the map (the index's reference features, or its imagery), for registering frames. */
async function openRegistrar(index: SatelliteIndex, logger: Logger): Promise<Registrar> {
  const reference = await openMapReference(index.dir, index.manifest, 'xfeat', (line) => logger.log({ level: 'info', message: line }));
  const worker = await FeatureWorker.start({ method: 'xfeat' });
  return { worker, reference, heightsM: index.manifest.scales.map((s) => s.altitudeM) };
}

/**
 * Starts the embedder pool and opens the index, refusing an index built with another model.
 * `lossless`: the pipeline will read a recording frame by frame (not a live stream), which
 * is what workers 'auto' lays the pool out for, and the process runs as a batch job
 * (scheduleAsBatchJob).
 */
export async function openLocalizer(
  modelPath: string | undefined,
  indexDir: string | undefined,
  config: PipelineConfig,
  lossless: boolean,
  logger: Logger = silentLogger,
): Promise<Localizer> {
  if (!indexDir) throw new GeolocError('GEOLOC_ERR_USAGE', '--index <dir> is required: the satellite index to search (build one with geoloc index build)');
  const scheduling = lossless ? await scheduleAsBatchJob(process.pid, logger) : 'default';
  const workers = config.workers !== 'auto' ? config.workers : lossless ? 'per-core' : 1;
  const embedder = await EmbedderPool.create({ modelPath: modelPath ?? defaultModelPath(), workers, providers: config.providers, intraOpThreads: config.intraOpThreads });
  let index: SatelliteIndex;
  try {
    index = await SatelliteIndex.open(indexDir, { model: embedder.info });
  } catch (err) {
    await embedder.close();
    throw err;
  }
  let registrar: Registrar | undefined;
  try {
    if (config.register) registrar = await openRegistrar(index, logger);
  } catch (err) {
    await Promise.all([embedder.close(), index.close()]);
    throw err;
  }
  return {
    embedder,
    index,
    scheduling,
    ...(registrar && { registrar }),
    close: async () => {
      await Promise.all([embedder.close(), index.close(), registrar?.worker.close()]);
    },
  };
}

export interface PipelineRun {
  stats: PipelineStats;
  wallSeconds: number;
  /** the signal that stopped it early, if one did */
  interrupted?: NodeJS.Signals;
}

export interface RunPipelineOptions extends LocalizeOptions {
  source: string;
  config: PipelineConfig;
  localizer: Localizer;
  logger: Logger;
  /** where the fixes and the pipeline's counts go (the JSONL file, the gateway, ...), besides the run's own stats */
  sinks?: readonly PipelineSink[];
  priorsAt?: (t: number) => FramePriors | undefined;
  /** the telemetry's altitudes above ground, metres: checked against the index's band */
  telemetryAltitudesM?: number[];
  onFix?: (fix: LocalizedFix) => void;
  /** stops the run as a signal does (no more video read, the frames read still become fixes), for a worker's one flight */
  stop?: Observable<void>;
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
const MS_PER_S = 1000;
/**
 * After SIGINT/SIGTERM, how long the frames already read get to reach their fixes before the
 * run stops without them (GEOLOC_ERR_FRAMES_LEFT_IN_FLIGHT): the few batches in flight take
 * seconds at most on a CPU.
 */
export const STOP_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Runs the pipeline to its end. SIGINT/SIGTERM stop it cleanly: no more video is read (ffmpeg
 * is stopped), the frames already read go on to their fixes for up to STOP_DRAIN_TIMEOUT_MS (a
 * second signal stops at once), every line written is whole; the caller closes the workers.
 * Rejects with the pipeline's error, a failing sink's included.
 */
export function runPipeline(options: RunPipelineOptions): Promise<PipelineRun> {
  const stats = new PipelineStats();
  const started = performance.now();
  return new Promise<PipelineRun>((resolve, reject) => {
    let subscription: Subscription | undefined;
    let stoppedBy: NodeJS.Signals | undefined;
    let drainLimit: NodeJS.Timeout | undefined;
    const stop = new Subject<void>();
    let finished = false;
    const finish = (interrupted?: NodeJS.Signals) => {
      finished = true;
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      stopAsked?.unsubscribe();
      clearTimeout(drainLimit);
      subscription?.unsubscribe();
      return { stats, wallSeconds: (performance.now() - started) / MS_PER_S, interrupted };
    };
    const stopWithoutDraining = (why: string) => {
      const left = stats.framesIn - stats.fixesOut - stats.droppedFrames;
      options.logger.log({ level: 'warn', code: 'GEOLOC_ERR_FRAMES_LEFT_IN_FLIGHT', message: `${why}: stopping with ${left} frames read but not localized; the fixes written are complete`, left });
      resolve(finish(stoppedBy));
    };
    const onSignal = (signal: NodeJS.Signals) => {
      // a run that ended while this signal was being delivered (another listener stopped it) has nothing to drain
      if (finished) return;
      if (stoppedBy) {
        stopWithoutDraining(`${signal} again`);
        return;
      }
      stoppedBy = signal;
      options.logger.log({ level: 'info', message: `${signal}: no more video is read; the frames already read go on to their fixes (for up to ${STOP_DRAIN_TIMEOUT_MS / MS_PER_S} s; a second signal stops at once)` });
      drainLimit = setTimeout(() => stopWithoutDraining(`the frames in flight took longer than ${STOP_DRAIN_TIMEOUT_MS / MS_PER_S} s after ${signal}`), STOP_DRAIN_TIMEOUT_MS);
      stop.next();
    };
    for (const s of STOP_SIGNALS) process.on(s, onSignal);
    const stopAsked = options.stop?.subscribe(() => stop.next());
    const { index } = options.localizer;
    void warnIfCameraMisfits(
      { indexDir: index.dir, manifest: index.manifest, source: options.source, shortSideFovDeg: resolveTrackFilterOptions(options.config.tracker).cameraFovDeg, ...(options.telemetryAltitudesM ? { altitudesM: options.telemetryAltitudesM } : {}) },
      options.logger,
    );
    subscription = localize(
      options.source,
      options.config,
      { embedder: options.localizer.embedder, index: options.localizer.index, registrar: options.localizer.registrar, logger: options.logger, sinks: [stats, ...(options.sinks ?? [])], priorsAt: options.priorsAt, onProcessStart: () => (stats.decoderStarts += 1), stop },
      { live: options.live, realtime: options.realtime, globalTopK: options.globalTopK, annotate: options.annotate },
    ).subscribe({
      next(fix) {
        try {
          options.onFix?.(fix);
        } catch (err) {
          finish();
          reject(err);
        }
      },
      error(err) {
        finish();
        reject(err);
      },
      complete: () => resolve(finish(stoppedBy)),
    });
  });
}

/** The tracker's priors from a telemetry track: altitude, heading and camera pitch at a frame time. */
export function telemetryPriors(records: readonly TelemetryRecord[]): (t: number) => FramePriors | undefined {
  return (t) => {
    const record = telemetryAt(records, t);
    return record && { altitudeM: record.alt, headingDeg: record.headingDeg, gimbalPitchDeg: record.gimbalPitchDeg };
  };
}


/** The altitudes a telemetry track reports, metres (records without one are left out). */
export function telemetryAltitudes(records: readonly TelemetryRecord[]): number[] {
  return records.flatMap((r) => (r.alt !== undefined ? [r.alt] : []));
}
