import { performance } from 'node:perf_hooks';
import { defer, Observable, switchMap } from 'rxjs';
import { GeolocError } from '../pipeline/core/errors';
import { type Logger, silentLogger } from '../pipeline/core/log';
import type { Frame } from '../pipeline/core/types';
import { Demand } from '../pipeline/video/demand';
import { DEFAULT_FFMPEG_OPTIONS, type FfmpegDecodeOptions, learnFfmpegCapabilities, probeVideoStream, sourceFrameOf } from '../pipeline/video/ffmpegSource';
import { ffmpegFrames } from '../pipeline/video/ffmpegFrames';
import { fitsFormat } from '../pipeline/video/pixelFormat';
import { isNetworkKind, sourceKind } from '../pipeline/video/sourceKind';
import { reconnectWithBackoff, type ReconnectOptions } from './reconnectWithBackoff';
import type { YuvMatrix } from '../pipeline/core/types';

/** A decoded frame, with the moment its last byte arrived (for latency) and where it is in its source. */
export type DecodedFrame = Frame & {
  /** performance.now() when the frame was complete in memory */
  decodedAt: number;
  /**
   * a file's frame number (from 0) of the source frame on screen at t: what a player or
   * `ffmpeg -vf select=eq(n\,N)` finds. For a file whose frame rate ffprobe cannot tell, stdin
   * and live streams, the same as index.
   */
  sourceIndex: number;
};

export interface DecodeVideoOptions extends Partial<Omit<FfmpegDecodeOptions, 'width' | 'height' | 'fps' | 'pixelFormat'>> {
  width: number;
  height: number;
  /** frames per second ffmpeg delivers */
  fps: number;
  /**
   * deliver YUV 4:2:0 frames where their colour matrix is known (a file whose video is YUV, at
   * an even width and height): half the bytes of RGB24 and no conversion in ffmpeg, for a
   * consumer that samples the frames anyway. Other sources give RGB24. Default false.
   */
  acceptYuv?: boolean;
  /** reconnect settings for network sources (files and stdin are never reconnected) */
  reconnect?: Partial<Omit<ReconnectOptions, 'describe' | 'logger'>>;
  /**
   * Lossless flow control: when given, a frame is emitted only against credit, and each number
   * this emits grants that many more frames (ffmpeg is paused meanwhile). Without it frames are
   * pushed as fast as ffmpeg decodes them.
   */
  request$?: Observable<number>;
  logger?: Logger;
  /** told the pid of every ffmpeg process started (one per connection) */
  onProcessStart?: (pid: number | undefined) => void;
}

const MS_PER_S = 1000;
/**
 * Files and stdin are decoded on one thread unless asked otherwise: a replay shares the cores
 * with the model, and ffmpeg's frame threads spend more CPU per frame than one thread does.
 * Live streams keep ffmpeg's choice, so that a large stream keeps up in real time.
 */
const RECORDING_DECODE_THREADS = 1;
/**
 * A file's non-reference frames are skipped when at least this many source frames fall on each
 * frame wanted: with up to three B-frames in a row, one frame in four is still decoded.
 */
const SOURCE_FRAMES_PER_WANTED_FOR_SKIPPING = 4;
/** damaged-data lines logged one by one; the rest are only counted (ffmpegFrames logs the total) */
const CORRUPT_LINES_LOGGED = 5;

/**
 * Decodes a file, stdin ("-") or a live rtsp/udp/tcp/srt stream into RGB24 (or, when accepted,
 * YUV 4:2:0) frames of width × height at `fps`, numbered from 0 without gaps across reconnects.
 * A file's frame time is its index / fps, and it is the source frame on screen then (sourceIndex);
 * a live frame's time is its arrival, in seconds since subscription, so the gap of an outage
 * shows. Live streams that die are reconnected with bounded backoff.
 */
export function decodeVideo(source: string, options: DecodeVideoOptions): Observable<DecodedFrame> {
  return new Observable<DecodedFrame>((subscriber) => {
    const logger = options.logger ?? silentLogger;
    let kind: ReturnType<typeof sourceKind>;
    try {
      kind = sourceKind(source);
      if (!(options.fps > 0) || !(options.width > 0) || !(options.height > 0)) {
        throw new GeolocError('GEOLOC_ERR_PIPELINE_CONFIG', `decodeVideo(${source}): fps, width and height must be positive (got ${options.fps}, ${options.width}, ${options.height})`);
      }
    } catch (err) {
      subscriber.error(err);
      return undefined;
    }
    const live = isNetworkKind(kind);
    const ffmpegOptions: FfmpegDecodeOptions = { ...DEFAULT_FFMPEG_OPTIONS, decodeThreads: live ? undefined : RECORDING_DECODE_THREADS, ...options };
    const demand = new Demand(options.request$ ? 0 : Infinity);
    const grants = options.request$?.subscribe({ next: (n) => demand.grant(n), error: (err) => subscriber.error(err) });
    const startedAt = performance.now();
    // set once the file is probed; RGB24 frames until then (and for every other source)
    let yuvMatrix: YuvMatrix | undefined;
    // a file's frame rate, once probed
    let sourceFps: number | undefined;
    let index = 0;
    let corruptLinesSeen = 0;

    const events = {
      onStart(pid: number | undefined) {
        logger.log({ level: 'info', message: `decoding ${source} (ffmpeg pid ${pid})`, pid });
        options.onProcessStart?.(pid);
      },
      onCorruptData(line: string) {
        corruptLinesSeen += 1;
        if (corruptLinesSeen <= CORRUPT_LINES_LOGGED) logger.log({ level: 'warn', code: 'GEOLOC_ERR_FRAME_CORRUPT', message: `${source}: ${line}` });
      },
    };
    /**
     * What ffprobe tells of a file: its rate numbers its frames, a file whose frames are not all
     * wanted skips its non-reference frames, and one in a known YUV matrix can be delivered as YUV.
     */
    const chooseSettings = async (): Promise<FfmpegDecodeOptions> => {
      if (kind !== 'file') return ffmpegOptions;
      const wantsYuv = options.acceptYuv === true && fitsFormat('yuv420p', options.width, options.height);
      const stream = await probeVideoStream(source);
      sourceFps = stream.fps;
      const skip = options.skipNonReferenceFrames ?? (stream.fps !== undefined && stream.fps >= SOURCE_FRAMES_PER_WANTED_FOR_SKIPPING * options.fps);
      if (skip && options.skipNonReferenceFrames === undefined) {
        logger.log({ level: 'info', message: `${source}: ${stream.fps} frames/s for ${options.fps} wanted; non-reference frames are not decoded` });
      }
      if (wantsYuv) yuvMatrix = stream.yuvMatrix;
      return { ...ffmpegOptions, skipNonReferenceFrames: skip, pixelFormat: yuvMatrix ? 'yuv420p' : 'rgb24' };
    };
    const run = defer(() => Promise.all([chooseSettings(), learnFfmpegCapabilities()])).pipe(
      switchMap(([settings]) => ffmpegFrames(source, kind, settings, demand, logger, events)),
    );
    const frames = live ? run.pipe(reconnectWithBackoff({ ...options.reconnect, describe: `live source ${source}`, logger })) : run;
    const subscription = frames.subscribe({
      next(pixels) {
        const decodedAt = performance.now();
        const t = live ? (decodedAt - startedAt) / MS_PER_S : index / options.fps;
        const sourceIndex = sourceFps ? sourceFrameOf(index, options.fps, sourceFps) : index;
        const { width, height } = options;
        subscriber.next(
          yuvMatrix
            ? { index, sourceIndex, t, width, height, decodedAt, format: 'yuv420p', pixels, matrix: yuvMatrix }
            : { index, sourceIndex, t, width, height, decodedAt, format: 'rgb24', pixels },
        );
        index += 1;
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    return () => {
      grants?.unsubscribe();
      subscription.unsubscribe();
    };
  });
}
