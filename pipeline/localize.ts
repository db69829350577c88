/**
 * The localization pipeline: video in, smoothed fixes out.
 *
 *   decodeVideo ─► (live: latestFrame | replay: lossless, credit-paced) ─► batchFrames
 *     ─► preprocess [turned north-up by telemetry heading] ─► embedFrames (ONNX Runtime workers)
 *     ─► searchIndex (FAISS worker, frame by frame, the track prior as region) ─► smoothTrack ─► fix
 *
 * Replay is lossless and paced by credit: ffmpeg pauses while `framesInFlight` frames are
 * between the decoder and the index search, and the embedder workers stay busy meanwhile. A
 * file's batches are always full and each frame is searched in the region the tracker set after
 * the frame before it, so a replay gives the same fixes every time.
 * Live streams keep one frame in work and the newest one waiting; older frames are dropped.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { map, NEVER, Observable, of, pipe, Subject, takeUntil, tap } from 'rxjs';
import type { ModelInfo } from '../models/modelInfo';
import type { Candidate, SearchRegion } from '../models/satelliteIndex';
import { batchFrames } from '../operators/batchFrames';
import { type DecodedFrame, decodeVideo } from '../operators/decodeVideo';
import { type Embedder, embedFrames } from '../operators/embedFrames';
import { latestFrame } from '../operators/latestFrame';
import { preprocess } from '../operators/preprocess';
import { type FramePriors, type Searcher, searchIndex } from '../operators/searchIndex';
import { smoothTrack } from '../operators/smoothTrack';
import type { PipelineConfig } from './config';
import { toFixFeature } from './fixFeature';
import { type Logger, silentLogger } from './log';
import type { TrackEstimate } from './tracking/types';
import type { FixFeature } from './types';
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

/** The nearest even number of pixels to `pixels`. */
function evenPixels(pixels: number): number {
  return 2 * Math.round(pixels / 2);
}

export interface LocalizeDeps {
  embedder: Embedder & { info: ModelInfo; size: number };
  index: Searcher;
  logger?: Logger;
  /** telemetry priors (altitude, heading) for a frame time, when a track rides along */
  priorsAt?: (t: number) => FramePriors | undefined;
  /** counters the caller reads while and after the pipeline runs */
  stats?: PipelineStats;
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
  /** find each frame's global top-1 too (see searchIndex), for scoring a replay */
  globalTop1?: boolean;
}

export interface PipelineStats {
  framesIn: number;
  fixesOut: number;
  /** live: frames replaced by a newer one before they could be localized */
  droppedFrames: number;
  /** the ffmpeg processes started (more than one after reconnects) */
  decoderStarts: number;
}

export function newPipelineStats(): PipelineStats {
  return { framesIn: 0, fixesOut: 0, droppedFrames: 0, decoderStarts: 0 };
}

/** One output of the pipeline. */
export interface LocalizedFix {
  estimate: TrackEstimate;
  feature: FixFeature;
  /** from the frame being decoded to this fix, ms */
  latencyMs: number;
  /** the frame's best tile from a global search, when asked for */
  globalTop1?: Candidate;
}

/** Deletes the entries of frames up to `frame` (maps keyed by frame index, filled in order). */
function forgetUpTo<V>(byFrame: Map<number, V>, frame: number): void {
  for (const key of byFrame.keys()) {
    if (key > frame) return;
    byFrame.delete(key);
  }
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
    const stats = deps.stats ?? newPipelineStats();
    let live: boolean;
    let kind: SourceKind;
    try {
      kind = sourceKind(source);
      live = readsLive(source, options);
    } catch (err) {
      subscriber.error(err);
      return undefined;
    }
    const [height, width] = deps.embedder.info.inputSize;
    const batchesInFlight = live ? 1 : deps.embedder.size * BATCHES_IN_FLIGHT_PER_WORKER;
    // room for one more batch being decoded while every worker's batches are in flight
    const decoderWindow = Math.max(config.framesInFlight, (batchesInFlight + 1) * config.maxBatch);
    const turn = config.derotate && deps.priorsAt !== undefined && height === width;
    let region: SearchRegion | undefined;
    // what a frame's fix needs from its decode, by frame index, until the fix is out
    const decoded = new Map<number, Pick<DecodedFrame, 'decodedAt' | 'sourceIndex'>>();
    const globalTop1 = new Map<number, Candidate>();
    const credits = new Subject<number>();

    // frames to be turned are sampled anyway, so they come as YUV where they can: no conversion in ffmpeg
    const frames = decodeVideo(source, {
      width: turn ? evenPixels(width * DEROTATE_OVERSAMPLE) : width,
      height: turn ? evenPixels(height * DEROTATE_OVERSAMPLE) : height,
      acceptYuv: turn,
      fps: config.fps,
      fit: config.fit,
      realtime: options.realtime ?? false,
      readTimeoutMs: config.readTimeoutMs,
      reconnect: config.reconnect,
      request$: live ? undefined : credits,
      stdin: deps.stdin,
      logger,
      onProcessStart(pid) {
        stats.decoderStarts += 1;
        deps.onProcessStart?.(pid);
      },
    }).pipe(
      takeUntil(deps.stop ?? NEVER),
      tap((frame) => {
        stats.framesIn += 1;
        decoded.set(frame.index, { decodedAt: frame.decodedAt, sourceIndex: frame.sourceIndex });
      }),
    );
    const localizeBatch = pipe(
      preprocess<DecodedFrame>(deps.embedder.info, turn ? { headingDeg: (frame) => deps.priorsAt!(frame.t)?.headingDeg } : {}),
      embedFrames(deps.embedder, batchesInFlight),
      searchIndex<DecodedFrame>(deps.index, {
        k: config.k,
        region: () => region,
        priors: deps.priorsAt ? (frame) => deps.priorsAt!(frame.t) : undefined,
        globalTop1: options.globalTop1,
      }),
      tap((measurement) => measurement.globalTop1 && globalTop1.set(measurement.frame, measurement.globalTop1)),
    );

    const measurements = live
      ? frames.pipe(
          latestFrame((frame) => of([frame]).pipe(localizeBatch), {
            onDrop: (dropped, count) => {
              stats.droppedFrames = count;
              decoded.delete(dropped.index);
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
        map((estimate): LocalizedFix => {
          region = estimate.searchRegion;
          const frame = decoded.get(estimate.frame);
          const latencyMs = performance.now() - (frame?.decodedAt ?? Number.NaN);
          const top1 = globalTop1.get(estimate.frame);
          // frames the tracker gave no estimate for (none before the first candidates) go too
          forgetUpTo(decoded, estimate.frame);
          forgetUpTo(globalTop1, estimate.frame);
          stats.fixesOut += 1;
          return { estimate, latencyMs, feature: toFixFeature(estimate, config.flight, latencyMs, frame?.sourceIndex), ...(top1 && { globalTop1: top1 }) };
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
