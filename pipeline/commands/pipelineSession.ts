/**
 * What `run`, `replay` and `demo` share: the pipeline's command-line options, opening the model
 * and index (closing whatever opened if the other fails), running the pipeline into a JSONL
 * writer (and a gateway with --serve) until it ends or a signal stops it, and turning errors
 * into one coded line and an exit status.
 */
import { performance } from 'node:perf_hooks';
import { constants as osConstants } from 'node:os';
import { Subject, type Subscription } from 'rxjs';
import { telemetryAt, type TelemetryRecord } from '../telemetry';
import { type GatewayArgValues, gatewayOptionsFromArgs, untilSignal } from '../../gateway/cli';
import { createGateway, type Gateway } from '../../gateway/server';
import { EmbedderPool } from '../../models/embedderPool';
import { defaultModelPath } from '../../models/modelInfo';
import { SatelliteIndex } from '../../models/satelliteIndex';
import { DEFAULT_PIPELINE_CONFIG, type PipelineConfig, readConfigFile, resolveConfig } from '../config';
import { describeError, GeolocError, isGeolocError } from '../errors';
import { numberOption } from './options';
import type { JsonlWriter } from '../jsonlWriter';
import { type LocalizedFix, type LocalizeOptions, localize, newPipelineStats, type PipelineStats } from '../localize';
import { type Logger, silentLogger } from '../log';
import { type SchedulingPolicy, scheduleAsBatchJob } from '../batchScheduling';
import type { FramePriors } from '../../operators/searchIndex';

/** parseArgs definitions of the pipeline settings every localizing command takes. */
export const PIPELINE_ARG_OPTIONS = {
  index: { type: 'string' },
  model: { type: 'string' },
  config: { type: 'string' },
  flight: { type: 'string' },
  fps: { type: 'string' },
  batch: { type: 'string' },
  k: { type: 'string' },
  workers: { type: 'string' },
  threads: { type: 'string' },
  fit: { type: 'string' },
  cpu: { type: 'boolean' },
  derotate: { type: 'boolean' },
} as const;

export const PIPELINE_ARGS_USAGE = `  --index <dir>        satellite index folder (geoloc index build)
  --model <onnx>       embedding model (default: the embedded fixtures/model/model.onnx)
  --config <json>      pipeline settings file (fields of PipelineConfig; flags override it)
  --flight <name>      flight name written in every fix
  --fps <n>            frames localized per second (default 5)
  --batch <n>          frames per inference batch in replay (default 8)
  --k <n>              candidates per frame (default 10)
  --workers <n|auto>   ONNX Runtime worker threads (default auto: a single-threaded worker per
                       core for recordings on the CPU, one worker for live streams and CUDA)
  --threads <n>        intra-op threads per worker (default: 1 per core-worker, else all cores)
  --fit <crop|pad|stretch>  how frames become the model's square input (default crop)
  --cpu                skip the CUDA execution provider
  --no-derotate        do not turn frames north-up by the telemetry heading before matching
`;

export type PipelineArgValues = Partial<Record<Exclude<keyof typeof PIPELINE_ARG_OPTIONS, 'cpu' | 'derotate'>, string>> & { cpu?: boolean; derotate?: boolean };

const FRAMES_IN_FLIGHT_PER_BATCH = DEFAULT_PIPELINE_CONFIG.framesInFlight / DEFAULT_PIPELINE_CONFIG.maxBatch;

/** With --serve (port given): a gateway that publishes every fix and serves the map of the index's imagery. */
export async function openServeGateway(port: number | undefined, values: GatewayArgValues & { index?: string }, logger: Logger): Promise<Gateway | undefined> {
  if (port === undefined) return undefined;
  const gateway = await createGateway({ ...gatewayOptionsFromArgs(values), port, imagery: { index: values.index } });
  logger.log({ level: 'info', message: `map at ${gateway.url}/ (fixes on ${gateway.wsUrl})` });
  return gateway;
}

/**
 * The exit status of a localizing command once its source has ended, or a signal stopped it; a
 * gateway keeps serving the map until Ctrl-C after the source ended on its own.
 */
export async function exitAfterServing(gateway: Gateway | undefined, interrupted: NodeJS.Signals | undefined, logger: Logger, ended: string): Promise<number> {
  if (interrupted) return signalExitCode(interrupted);
  if (gateway) {
    logger.log({ level: 'info', message: `${ended}; still serving ${gateway.url}/ until Ctrl-C` });
    await untilSignal();
  }
  return 0;
}

/** Defaults, then the --config file, then flags. */
export function configFromArgs(values: PipelineArgValues, base: Partial<PipelineConfig> = {}): PipelineConfig {
  const fromFile = values.config ? readConfigFile(values.config) : {};
  const flags: Partial<PipelineConfig> = {};
  const set = <K extends keyof PipelineConfig>(key: K, value: PipelineConfig[K] | undefined) => {
    if (value !== undefined) flags[key] = value;
  };
  set('flight', values.flight);
  set('fps', numberOption('fps', values.fps, undefined));
  set('maxBatch', numberOption('batch', values.batch, undefined));
  set('k', numberOption('k', values.k, undefined));
  set('workers', values.workers === 'auto' ? 'auto' : numberOption('workers', values.workers, undefined));
  set('intraOpThreads', numberOption('threads', values.threads, undefined));
  set('fit', values.fit as PipelineConfig['fit'] | undefined);
  if (values.cpu) flags.providers = ['cpu'];
  if (values.derotate !== undefined) flags.derotate = values.derotate;
  const merged = { ...base, ...fromFile, ...flags };
  // the decoder's window grows with the batch, as the default's does
  if (merged.maxBatch !== undefined && merged.framesInFlight === undefined) merged.framesInFlight = merged.maxBatch * FRAMES_IN_FLIGHT_PER_BATCH;
  return resolveConfig(merged);
}

export interface Localizer {
  embedder: EmbedderPool;
  index: SatelliteIndex;
  /** the policy this process's threads, and the decoders it starts, run under */
  scheduling: SchedulingPolicy;
  close(): Promise<void>;
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
  return {
    embedder,
    index,
    scheduling,
    close: async () => {
      await Promise.all([embedder.close(), index.close()]);
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
  writer?: JsonlWriter;
  gateway?: Gateway;
  priorsAt?: (t: number) => FramePriors | undefined;
  onFix?: (fix: LocalizedFix) => void;
  /** properties added to each fix's feature before it is written or published (replay: the truth) */
  annotate?: (fix: LocalizedFix) => Record<string, unknown> | undefined;
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
 * Rejects with the pipeline's error.
 */
export function runPipeline(options: RunPipelineOptions): Promise<PipelineRun> {
  const stats = newPipelineStats();
  const started = performance.now();
  const { writer, gateway, config } = options;
  return new Promise<PipelineRun>((resolve, reject) => {
    let reportedDrops = 0;
    let framesSeen = 0;
    let subscription: Subscription | undefined;
    let stoppedBy: NodeJS.Signals | undefined;
    let drainLimit: NodeJS.Timeout | undefined;
    const stop = new Subject<void>();
    const finish = (interrupted?: NodeJS.Signals) => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
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
    subscription = localize(
      options.source,
      config,
      { embedder: options.localizer.embedder, index: options.localizer.index, logger: options.logger, stats, priorsAt: options.priorsAt, stop },
      { live: options.live, realtime: options.realtime, globalTop1: options.globalTop1 },
    ).subscribe({
      next(fix) {
        try {
          Object.assign(fix.feature.properties, options.annotate?.(fix));
          writer?.write(fix.feature);
          if (gateway) {
            gateway.metrics.framesIn.inc(stats.framesIn - framesSeen);
            gateway.metrics.framesDropped.inc(stats.droppedFrames - reportedDrops);
            gateway.metrics.inferenceLatency.observe(fix.latencyMs);
            gateway.publish(config.flight, fix.feature);
          }
          framesSeen = stats.framesIn;
          reportedDrops = stats.droppedFrames;
          options.onFix?.(fix);
        } catch (err) {
          // an output that fails (disk full, closed pipe) stops the pipeline with its coded error
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

const SIGNAL_EXIT_BASE = 128;

/** The shell's exit status for a run a signal stopped: 128 + the signal's number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return SIGNAL_EXIT_BASE + (osConstants.signals[signal] ?? 0);
}

/** Writes the error as one coded line; usage errors exit 2, everything else 1. */
export function reportFailure(command: string, err: unknown): number {
  process.stderr.write(`geoloc ${command}: ${describeError(err)}\n`);
  return isGeolocError(err, 'GEOLOC_ERR_USAGE') ? 2 : 1;
}
