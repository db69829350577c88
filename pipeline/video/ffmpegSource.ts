/**
 * The one module that talks to ffmpeg (through fluent-ffmpeg, which is archived upstream, so
 * nothing else may depend on it). It turns a source into an ffmpeg command line that decodes,
 * drops to the wanted frame rate and scales to the wanted size inside ffmpeg, and writes raw
 * frames (RGB24, or YUV 4:2:0 in limited range) to a Writable the caller owns.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { type PixelFormat, yuvMatrixOf } from './pixelFormat';
import type { SourceKind } from './sourceKind';
import type { YuvMatrix } from '../core/types';

/** How a frame of another aspect ratio is brought to width × height. */
export type FrameFit = 'crop' | 'pad' | 'stretch';

export interface FfmpegDecodeOptions {
  width: number;
  height: number;
  /** frames per second ffmpeg delivers (it drops or repeats frames); undefined keeps the source's rate */
  fps?: number;
  fit: FrameFit;
  /** the layout of the frames written; yuv420p needs an even width and height */
  pixelFormat: PixelFormat;
  /**
   * network sources: once frames flow, a stream that delivers none for this long counts as lost
   * (ffmpegFrames stops ffmpeg); ffmpeg's own socket timeout, which also bounds the wait for the
   * first frame, is SOCKET_TIMEOUT_GRACE_MS longer
   */
  readTimeoutMs: number;
  /** UDP: receive FIFO size in 188-byte packets, so a busy reader does not lose datagrams */
  udpFifoPackets: number;
  rtspTransport: 'tcp' | 'udp';
  /** SRT receiver latency */
  srtLatencyMs: number;
  /**
   * network sources: how much of the stream ffmpeg studies before decoding. Its default (5 s)
   * delays the first frame by as much; too little may miss the codec parameters of streams
   * whose keyframes are rarer than this.
   */
  liveProbeMs: number;
  /** files: read at the source's own speed (ffmpeg -re), as a live camera would deliver */
  realtime: boolean;
  /** the stream read for the source "-" */
  stdin?: Readable;
  /** after SIGTERM, how long ffmpeg gets to exit before SIGKILL */
  killGraceMs: number;
  /** decoder threads (ffmpeg -threads); undefined lets ffmpeg choose (one per core, plus one) */
  decodeThreads?: number;
  /**
   * do not decode frames that no other frame refers to (most B-frames). Only right when the
   * frames left still outnumber `fps`: the frame rate filter then takes the nearest earlier one
   * (at most a B-frame run before the frame on screen at the output frame's time).
   */
  skipNonReferenceFrames: boolean;
}

export const DEFAULT_FFMPEG_OPTIONS = {
  fit: 'crop',
  pixelFormat: 'rgb24',
  readTimeoutMs: 5000,
  udpFifoPackets: 50_000,
  rtspTransport: 'tcp',
  srtLatencyMs: 120,
  liveProbeMs: 500,
  realtime: false,
  killGraceMs: 2000,
  skipNonReferenceFrames: false,
} as const satisfies Partial<FfmpegDecodeOptions>;

const MICROS_PER_MS = 1000;
/**
 * How much longer than readTimeoutMs ffmpeg's socket timeout is. ffmpeg holds the last frames
 * of a stream (in its decoder threads, parser and frame rate filter) and, when its timeout ends
 * the stream, flushes them out as if they had just arrived. ffmpegFrames' silence clock starts
 * at the last frame out, a decode after ffmpeg's last read, so the grace lets it declare the
 * loss first and stop ffmpeg, whose flush is then counted and thrown away. (ffmpeg lets its
 * first SIGTERM end a blocking read no sooner than its own timeout: keep this below killGraceMs.)
 */
export const SOCKET_TIMEOUT_GRACE_MS = 500;
/** How many of ffmpeg's last stderr lines are kept to explain a failure. */
const STDERR_TAIL_LINES = 20;

/** Adds query parameters to a URL unless the user already set them there. */
function withQuery(url: string, params: Record<string, string | number>): string {
  const [base, query = ''] = url.split('?', 2) as [string, string?];
  const existing = new URLSearchParams(query);
  for (const [key, value] of Object.entries(params)) if (!existing.has(key)) existing.set(key, String(value));
  return `${base}?${existing.toString()}`;
}

/** The input URL (or "pipe:0") and the options placed before it. */
export function inputArguments(source: string, kind: SourceKind, options: FfmpegDecodeOptions): { input: string; inputOptions: string[] } {
  const { input, inputOptions } = sourceArguments(source, kind, options);
  return { input, inputOptions: [...inputOptions, ...decoderArguments(options)] };
}

function decoderArguments(options: Pick<FfmpegDecodeOptions, 'decodeThreads' | 'skipNonReferenceFrames'>): string[] {
  return [
    ...(options.decodeThreads !== undefined ? ['-threads', String(options.decodeThreads)] : []),
    ...(options.skipNonReferenceFrames ? ['-skip_frame', 'noref'] : []),
  ];
}

function sourceArguments(source: string, kind: SourceKind, options: FfmpegDecodeOptions): { input: string; inputOptions: string[] } {
  const timeoutUs = (options.readTimeoutMs + SOCKET_TIMEOUT_GRACE_MS) * MICROS_PER_MS;
  const lowDelay = ['-fflags', 'nobuffer', '-analyzeduration', String(options.liveProbeMs * MICROS_PER_MS)];
  switch (kind) {
    case 'file':
      return { input: source, inputOptions: options.realtime ? ['-re'] : [] };
    case 'stdin':
      return { input: 'pipe:0', inputOptions: [] };
    case 'udp':
      return { input: withQuery(source, { timeout: timeoutUs, overrun_nonfatal: 1, fifo_size: options.udpFifoPackets }), inputOptions: lowDelay };
    case 'tcp':
      return { input: withQuery(source, { timeout: timeoutUs }), inputOptions: lowDelay };
    case 'srt':
      return { input: withQuery(source, { timeout: timeoutUs, latency: options.srtLatencyMs * MICROS_PER_MS }), inputOptions: lowDelay };
    case 'rtsp':
      return { input: source, inputOptions: [...lowDelay, '-rtsp_transport', options.rtspTransport, '-timeout', String(timeoutUs)] };
  }
}

/**
 * Area averaging: the right filter for shrinking (every source pixel counts once, no ringing),
 * and about a third cheaper here than swscale's default bicubic.
 */
const SCALE_FLAGS = 'flags=area';

/**
 * Below this fraction of a frame, k · sourceFps / fps is taken as the whole number it stands
 * for: floating point puts some exact products (k = 1001 at 30000/1001 frames/s) a hair below.
 */
const WHOLE_FRAME_TOLERANCE = 1e-6;

/**
 * The number (from 0) of the source frame that output frame `k` of the frame rate filter is, for
 * a source of constant rate `sourceFps`: the one on screen at k / fps (see videoFilter).
 */
export function sourceFrameOf(k: number, fps: number, sourceFps: number): number {
  return Math.floor((k * sourceFps) / fps + WHOLE_FRAME_TOLERANCE);
}

/**
 * The filter chain: frame rate first, so only kept frames are processed; then the fit, with a
 * crop taken before scaling so that a single scaler pass (which also converts the pixel format)
 * touches only the pixels kept. YUV comes out in limited range whatever the source's range, so
 * that its reader needs to know only the matrix.
 * The frame rate filter counts time from the source's first frame and takes, for output frame
 * k, the source frame on screen at k / fps (round=up: the last that began at or before it), so
 * which source frame it is follows from the rates alone (sourceFrameOf). Rounding up also keeps
 * the frame on screen when the source ends: a clip shorter than one output period still gives
 * its frame, where the default rounding gives none.
 */
export function videoFilter(options: Pick<FfmpegDecodeOptions, 'width' | 'height' | 'fps' | 'fit' | 'pixelFormat'>): string {
  const { width: w, height: h } = options;
  const scaleFlags = options.pixelFormat === 'yuv420p' ? `${SCALE_FLAGS}:out_range=tv` : SCALE_FLAGS;
  const size = {
    // the largest centred region of the output's aspect ratio
    crop: [`crop=min(iw\\,ih*${w}/${h}):min(ih\\,iw*${h}/${w})`, `scale=${w}:${h}:${scaleFlags}`],
    pad: [`scale=${w}:${h}:force_original_aspect_ratio=decrease:${scaleFlags}`, `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2`],
    stretch: [`scale=${w}:${h}:${scaleFlags}`],
  }[options.fit];
  return [...(options.fps !== undefined ? ['setpts=PTS-STARTPTS', `fps=${options.fps}:round=up`] : []), ...size, `format=${options.pixelFormat}`].join(',');
}

export function outputArguments(options: FfmpegDecodeOptions): string[] {
  return ['-an', '-sn', '-dn', '-vf', videoFilter(options), '-pix_fmt', options.pixelFormat, '-f', 'rawvideo'];
}

/** How a decoder process ended. */
export interface DecoderExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** true when stop() ended it */
  stopped: boolean;
  /** bytes ffmpeg wrote after stop(), read and thrown away */
  discardedBytes: number;
  /** ffmpeg could not be started at all */
  spawnError?: Error;
  /** ffmpeg's last stderr lines, to explain a failure */
  stderrTail: string[];
}

export interface DecoderHooks {
  onStart?(pid: number | undefined): void;
  onStderrLine?(line: string): void;
}

export interface DecoderProcess {
  /** settles once ffmpeg has exited and its pipes are closed (never rejects) */
  readonly exited: Promise<DecoderExit>;
  pid(): number | undefined;
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is reaped. Safe to call twice. */
  stop(): Promise<DecoderExit>;
}

let capabilitiesKnown: Promise<void> | undefined;

/**
 * Before its first command in a process, fluent-ffmpeg asks ffmpeg for its formats and then
 * for its encoders, two more ffmpeg runs in turn on the way to the first frame. This asks both
 * at once (fluent-ffmpeg keeps the answers for the process), so a caller can do it while it
 * probes the source. Never rejects: a missing ffmpeg is reported by the decode itself.
 */
export function learnFfmpegCapabilities(): Promise<void> {
  capabilitiesKnown ??= Promise.all([
    new Promise<void>((resolve) => ffmpeg.getAvailableFormats(() => resolve())),
    new Promise<void>((resolve) => ffmpeg.getAvailableEncoders(() => resolve())),
  ]).then(() => undefined);
  return capabilitiesKnown;
}

/**
 * Starts ffmpeg decoding `source` into `sink` (raw RGB24 frames back to back). The sink is
 * piped with `end: false`: the caller ends it after `exited`, so a sink that holds writes back
 * for backpressure still receives every byte ffmpeg wrote.
 */
export function spawnDecoder(
  source: string,
  kind: SourceKind,
  options: FfmpegDecodeOptions,
  sink: Writable,
  hooks: DecoderHooks,
): DecoderProcess {
  const { input, inputOptions } = inputArguments(source, kind, options);
  const stdin = kind === 'stdin' ? options.stdin ?? process.stdin : undefined;
  const stderrTail: string[] = [];
  let child: ChildProcess | undefined;
  let stopRequested = false;
  let discardedBytes = 0;
  let killTimer: NodeJS.Timeout | undefined;
  let settle!: (exit: DecoderExit) => void;
  const exited = new Promise<DecoderExit>((resolve) => (settle = resolve));

  const command = ffmpeg({ stdoutLines: STDERR_TAIL_LINES })
    .input(stdin ?? input)
    .inputOptions(['-hide_banner', '-loglevel', 'error', ...(stdin ? [] : ['-nostdin']), ...inputOptions])
    .outputOptions(outputArguments(options));

  const terminate = (proc: ChildProcess) => {
    proc.stdout?.unpipe(sink);
    proc.stdout?.on('data', (chunk: Buffer) => (discardedBytes += chunk.length));
    if (stdin && proc.stdin) stdin.unpipe(proc.stdin);
    proc.kill('SIGTERM');
    killTimer = setTimeout(() => proc.kill('SIGKILL'), options.killGraceMs);
  };

  command.on('start', () => {
    // fluent-ffmpeg keeps the child on this field only; its exit is the truth about the process
    child = (command as unknown as { ffmpegProc: ChildProcess }).ffmpegProc;
    const proc = child;
    proc.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(killTimer);
      if (stdin && proc.stdin) stdin.unpipe(proc.stdin);
      settle({ code, signal, stopped: stopRequested, discardedBytes, stderrTail });
    });
    if (stopRequested) terminate(proc);
    else hooks.onStart?.(proc.pid);
  });
  command.on('stderr', (line: string) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    hooks.onStderrLine?.(line);
  });
  // Errors after start are reported by the child's exit above; before start, ffmpeg never ran.
  command.on('error', (err: Error) => {
    if (!child) settle({ code: null, signal: null, stopped: stopRequested, discardedBytes, spawnError: err, stderrTail });
  });
  command.pipe(sink, { end: false });

  return {
    exited,
    pid: () => child?.pid,
    stop() {
      if (!stopRequested) {
        stopRequested = true;
        if (child && child.exitCode === null && child.signalCode === null) terminate(child);
      }
      return exited;
    },
  };
}

/** "30000/1001" → 29.97; undefined for "0/0" and anything else that is not a positive rate. */
function parseRate(rate: string | undefined): number | undefined {
  const [num, den = '1'] = (rate ?? '').split('/');
  const value = Number(num) / Number(den);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** What a file's first video stream is, as far as decoding it needs to know. */
export interface VideoStreamFacts {
  /** frames per second, when ffprobe can tell */
  fps?: number;
  /** the picture's size in pixels, when ffprobe can tell */
  width?: number;
  height?: number;
  /** its colour matrix, when it is YUV in one that frames can be converted with (see yuvMatrixOf) */
  yuvMatrix?: YuvMatrix;
}

/**
 * Asks ffprobe about a file's first video stream. Never rejects: when ffprobe cannot tell, the
 * facts are empty and the decode that follows reports what is wrong with the file.
 */
export function probeVideoStream(path: string): Promise<VideoStreamFacts> {
  return new Promise((resolve) => {
    ffmpeg.ffprobe(path, ['-select_streams', 'v:0'], (err, metadata) => {
      const stream = err ? undefined : metadata.streams.find((s) => s.codec_type === 'video');
      if (!stream) return resolve({});
      resolve({ fps: parseRate(stream.avg_frame_rate) ?? parseRate(stream.r_frame_rate), yuvMatrix: yuvMatrixOf(stream), ...(stream.width && stream.height ? { width: stream.width, height: stream.height } : {}) });
    });
  });
}
