/**
 * The localization pipeline: video in, smoothed fixes out.
 *
 *   decodeVideo ─► (live: latestFrame | replay: lossless, credit-paced) ─► batchFrames
 *     ─► preprocess [turned north-up by telemetry heading] ─► embedFrames (ONNX Runtime workers)
 *     ─► searchIndex (FAISS worker, frame by frame, the track prior as region)
 *     ─► [registerFrame (feature worker: the frame against the map), with config.register] ─► smoothTrack ─► fix
 *
 * Replay is lossless and paced by credit: ffmpeg pauses while `framesInFlight` frames are
 * between the decoder and the index search, and the embedder workers stay busy meanwhile. A
 * file's batches are always full and each frame is searched in the region the tracker set after
 * the frame before it, so a replay gives the same fixes every time.
 * Live streams keep one frame in work and the newest one waiting; older frames are dropped.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { identity, map, NEVER, Observable, of, pipe, Subject, takeUntil, tap } from 'rxjs';
import type { ModelInfo } from '../models/modelInfo';
import { batchFrames } from '../operators/batchFrames';
import { type DecodedFrame, decodeVideo } from '../operators/decodeVideo';
import { type Embedder, embedFrames } from '../operators/embedFrames';
import { latestFrame } from '../operators/latestFrame';
import { preprocess } from '../operators/preprocess';
import { type FrameMeasurement, type FramePriors, type Searcher, searchIndex } from '../operators/searchIndex';
import { GeolocError } from './core/errors';
import { smoothTrack } from '../operators/smoothTrack';
import { DEFAULT_HEADING_TOLERANCE_DEG, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_EVIDENCE_MATCHES, registerFrame, type RegisteredMeasurement, type RegistrationTiming } from '../operators/registerFrame';
import type { FeatureWorker } from '../models/featureWorkerClient';
import type { MapReference } from '../models/mapReference';
import { DEFAULT_REGISTRATION } from '../models/registration';
import { xfeatFit } from '../models/xfeat';
import { resolveTrackFilterOptions } from './tracking/trackFilter';
import type { PipelineConfig } from './config';
import { toFixFeature } from './fixFeature';
import { fixEvidence, type EvidenceCamera } from './fixEvidence';
import { type Logger, silentLogger } from './core/log';
import type { TrackEstimate } from './tracking/types';
import type { Candidate, FixFeature, FixMatches, PipelineSink, SearchRegion } from './core/types';
import { isNetworkKind, type SourceKind, sourceKind } from './video/sourceKind';

/**
 * Replay keeps this many batches per embedder worker in flight: one running and one queued in
 * the worker, so the worker never waits for the main thread between batches.
 */
export const BATCHES_IN_FLIGHT_PER_WORKER = 2;

/**
 * Frames to be turned north-up are decoded this many times finer than the model input (to an
 * even size, for YUV 4:2:0), so that sampling them turned loses little detail.
 */
const DEROTATE_OVERSAMPLE = 1.5;

/**
 * With registration on, frames are decoded once as a centred 4:3 crop at the largest size
 * XFeat takes (480 × 360): registration reads them as they are, and the model's square input
 * is sampled from their centre square (turned north-up or not). A 4:3 crop of a landscape
 * frame keeps its shorter side, so the field of view across it is tracker.cameraFovDeg.
 */
const REGISTRATION_ASPECT = { width: 4, height: 3 };
export const REGISTRATION_FRAME = xfeatFit(REGISTRATION_ASPECT.width, REGISTRATION_ASPECT.height);

/** Horizontal field of view of REGISTRATION_FRAME for a camera whose field of view across its shorter side is `shortSideFovDeg`. */
export function registrationHfovDeg(shortSideFovDeg: number): number {
  const half = (shortSideFovDeg * Math.PI) / 360;
  return (2 * Math.atan((Math.tan(half) * REGISTRATION_FRAME.width) / REGISTRATION_FRAME.height) * 180) / Math.PI;
}

/** What registering frames needs (config.register): the feature worker, the map, and the index's heights. */
export interface Registrar {
  worker: FeatureWorker;
  reference: MapReference;
  /** heights tried when telemetry has no altitude: the index's tile altitudes, metres */
  heightsM: number[];
}

/** The nearest even number of pixels to `pixels`. */
function evenPixels(pixels: number): number {
  return 2 * Math.round(pixels / 2);
}

export interface LocalizeDeps {
  embedder: Embedder & { info: ModelInfo; size: number };
  index: Searcher;
  /** needed with config.register */
  registrar?: Registrar;
  logger?: Logger;
  /** telemetry priors (altitude, heading) for a frame time, when a track rides along */
  priorsAt?: (t: number) => FramePriors | undefined;
  /** told of every frame in, frame dropped and fix out, in that order of events (a counter, the gateway, the JSONL file, ...) */
  sinks?: readonly PipelineSink[];
  /** the stream read for the source "-" (default process.stdin) */
  stdin?: Readable;
  /** told the pid of each ffmpeg started */
  onProcessStart?: (pid: number | undefined) => void;
  /**
   * when it emits, no more video is read (ffmpeg is stopped) and the frames already read go on
   * to their fixes; the output then completes
   */
  stop?: Observable<unknown>;
}

export interface LocalizeOptions {
  /** newest-frame-wins flow; default: true for network sources */
  live?: boolean;
  /** read a file at its own speed (ffmpeg -re), as a camera would deliver it */
  realtime?: boolean;
  /** find each frame's global top-k too (see searchIndex), for scoring a replay */
  globalTopK?: boolean;
  /** properties added to each fix's feature before the sinks see it (replay: the truth) */
  annotate?: (fix: LocalizedFix) => Record<string, unknown> | undefined;
}

/** The pipeline's counters: a sink that counts what it is told, and the decoders started. */
export class PipelineStats implements PipelineSink {
  framesIn = 0;
  fixesOut = 0;
  /** live: frames replaced by a newer one before they could be localized */
  droppedFrames = 0;
  /** the ffmpeg processes started (more than one after reconnects) */
  decoderStarts = 0;

  frameIn(): void {
    this.framesIn += 1;
  }

  frameDropped(): void {
    this.droppedFrames += 1;
  }

  fix(): void {
    this.fixesOut += 1;
  }
}

/** One output of the pipeline. */
export interface LocalizedFix {
  estimate: TrackEstimate;
  feature: FixFeature;
  /** from the frame being decoded to this fix, ms */
  latencyMs: number;
  /** the frame's top-k tiles from a global search, best first, when asked for */
  globalTopK?: Candidate[];
  /** what registering the frame cost, with config.register */
  registrationTiming?: RegistrationTiming;
  /** the frame's matched points, when it registered */
  matches?: FixMatches;
}

/**
 * Whether `source` is read newest-frame-first (live) or frame by frame (lossless): network
 * streams and realtime reads are live unless `live` says otherwise. Throws
 * GEOLOC_ERR_SOURCE_UNSUPPORTED for a source it cannot read.
 */
export function readsLive(source: string, options: Pick<LocalizeOptions, 'live' | 'realtime'> = {}): boolean {
  return options.live ?? (isNetworkKind(sourceKind(source)) || options.realtime === true);
}

export function localize(source: string, config: PipelineConfig, deps: LocalizeDeps, options: LocalizeOptions = {}): Observable<LocalizedFix> {
  return new Observable<LocalizedFix>((subscriber) => {
    const logger = deps.logger ?? silentLogger;
    const sinks = deps.sinks ?? [];
    let live: boolean;
    let kind: SourceKind;
    try {
      kind = sourceKind(source);
      live = readsLive(source, options);
      if (config.register && !deps.registrar) throw new GeolocError('GEOLOC_ERR_PIPELINE_CONFIG', 'pipeline setting register is on but no feature worker and map were opened for it (openLocalizer opens them)');
    } catch (err) {
      subscriber.error(err);
      return undefined;
    }
    const [height, width] = deps.embedder.info.inputSize;
    const cameraFovDeg = resolveTrackFilterOptions(config.tracker).cameraFovDeg;
    const batchesInFlight = live ? 1 : deps.embedder.size * BATCHES_IN_FLIGHT_PER_WORKER;
    // room for one more batch being decoded while every worker's batches are in flight
    const decoderWindow = Math.max(config.framesInFlight, (batchesInFlight + 1) * config.maxBatch);
    const turn = config.derotate && deps.priorsAt !== undefined && height === width;
    // a seeded tracker's first search is restricted to its prior (TrackFilter.searchRegion before any estimate)
    let region: SearchRegion | undefined = config.tracker.prior;
    const credits = new Subject<number>();

    // frames to be turned are sampled anyway, so they come as YUV where they can: no conversion in ffmpeg
    const registrar = config.register ? deps.registrar : undefined;
    // the frame as the pipeline looks at it: the registration crop, or the model's centred square of the shorter side
    const evidenceCamera: EvidenceCamera = registrar
      ? { ...REGISTRATION_FRAME, hfovDeg: registrationHfovDeg(cameraFovDeg) }
      : { width: REGISTRATION_FRAME.height, height: REGISTRATION_FRAME.height, hfovDeg: cameraFovDeg };
    // registration reads RGB at its own size, which the model's input is sampled from
    const decodeSize = registrar ? REGISTRATION_FRAME : turn ? { width: evenPixels(width * DEROTATE_OVERSAMPLE), height: evenPixels(height * DEROTATE_OVERSAMPLE) } : { width, height };
    const frames = decodeVideo(source, {
      ...decodeSize,
      acceptYuv: turn && !registrar,
      fps: config.fps,
      fit: config.fit,
      realtime: options.realtime ?? false,
      readTimeoutMs: config.readTimeoutMs,
      reconnect: config.reconnect,
      request$: live ? undefined : credits,
      stdin: deps.stdin,
      logger,
      onProcessStart: deps.onProcessStart,
    }).pipe(
      takeUntil(deps.stop ?? NEVER),
      tap(() => {
        for (const sink of sinks) sink.frameIn?.();
      }),
    );
    const localizeBatch = pipe(
      preprocess<DecodedFrame>(deps.embedder.info, turn ? { headingDeg: (frame) => deps.priorsAt!(frame.t)?.headingDeg } : {}),
      embedFrames(deps.embedder, batchesInFlight),
      searchIndex<DecodedFrame>(deps.index, {
        k: config.k,
        region: () => region,
        priors: deps.priorsAt ? (frame) => deps.priorsAt!(frame.t) : undefined,
        globalTopK: options.globalTopK,
      }),
      registrar
        ? registerFrame<DecodedFrame, FrameMeasurement<DecodedFrame>>({
            ...registrar,
            region: () => region,
            hfovDeg: registrationHfovDeg(cameraFovDeg),
            maxAttempts: DEFAULT_MAX_ATTEMPTS,
            headingToleranceDeg: DEFAULT_HEADING_TOLERANCE_DEG,
            maxEvidenceMatches: DEFAULT_MAX_EVIDENCE_MATCHES,
            registration: { ...DEFAULT_REGISTRATION, uncertainty: { ...DEFAULT_REGISTRATION.uncertainty, mapSigmaM: config.mapSigmaM } },
          })
        : identity,
    );

    const measurements = live
      ? frames.pipe(
          latestFrame((frame) => of([frame]).pipe(localizeBatch), {
            onDrop: () => {
              for (const sink of sinks) sink.frameDropped?.();
            },
          }),
        )
      : frames.pipe(
          // a file's batches are always full, so a replay does not depend on timing
          batchFrames(config.maxBatch, kind === 'file' ? Infinity : config.maxWaitMs),
          localizeBatch,
          // the frame has left the decoder's window: let ffmpeg deliver one more
          tap(() => credits.next(1)),
        );

    const subscription = measurements
      .pipe(
        smoothTrack({ ...config.tracker, logger }),
        map(({ estimate, measurement }): LocalizedFix => {
          region = estimate.searchRegion;
          const latencyMs = performance.now() - measurement.source.decodedAt;
          const { globalTopK, registrationTiming } = measurement as Partial<RegisteredMeasurement<FrameMeasurement<DecodedFrame>>>;
          const { evidence, matches } = fixEvidence(estimate, measurement, evidenceCamera);
          const feature = toFixFeature(estimate, config.flight, latencyMs, measurement.source.sourceIndex);
          feature.properties.evidence = evidence;
          const fix: LocalizedFix = {
            estimate,
            latencyMs,
            feature,
            ...(globalTopK && { globalTopK }),
            ...(registrationTiming && { registrationTiming }),
            ...(matches && { matches }),
          };
          Object.assign(fix.feature.properties, options.annotate?.(fix));
          // a sink that throws (disk full, closed pipe) ends the pipeline with its error
          for (const sink of sinks) sink.fix?.(fix.feature, latencyMs, matches);
          return fix;
        }),
      )
      .subscribe(subscriber);
    if (!live) credits.next(decoderWindow);
    return () => {
      subscription.unsubscribe();
      credits.complete();
    };
  });
}
