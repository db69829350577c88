/**
 * The streaming pipeline's settings: named, documented defaults, and validation that names
 * the offending field (GEOLOC_ERR_PIPELINE_CONFIG). A JSON file (--config) may override any.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ProviderName } from '../models/embedWorker';
import { resolveTrackFilterOptions, type TrackFilterOptions } from './tracking/trackFilter';
import { GeolocError } from './core/errors';
import { DEFAULT_RECONNECT_OPTIONS } from '../operators/reconnectWithBackoff';
import { DEFAULT_FFMPEG_OPTIONS, type FrameFit } from './video/ffmpegSource';

export interface PipelineConfig {
  /** name carried by every fix (GeoJSON property `flight`) */
  flight: string;
  /** frames per second localized; ffmpeg drops the rest */
  fps: number;
  /** frames per inference batch (replay); live sources always run one frame at a time */
  maxBatch: number;
  /** longest wait for a batch to fill once its first frame is in */
  maxWaitMs: number;
  /** candidates per frame handed to the tracker */
  k: number;
  /**
   * embedder worker threads (each its own ONNX Runtime session). 'auto': for a recording read
   * losslessly on the CPU, one single-threaded worker per core (throughput); for live streams
   * and on CUDA, one worker (latency)
   */
  workers: number | 'auto';
  /** ONNX Runtime intra-op threads per worker; undefined = 1 per worker in the per-core layout, else ONNX Runtime's choice (all cores) */
  intraOpThreads?: number;
  /** execution providers tried in order */
  providers: ProviderName[];
  /** how a frame of another aspect ratio becomes the model's square input */
  fit: FrameFit;
  /**
   * turn each frame north-up by the telemetry heading before embedding, as the tiles are
   * (the camera's top must face the heading, as a DJI gimbal following the aircraft does);
   * without telemetry, or for frames without a heading, nothing is turned
   */
  derotate: boolean;
  /** replay: frames decoded ahead of the tracker at most (bounds memory; ffmpeg pauses beyond) */
  framesInFlight: number;
  /** network sources: time without a frame that counts as a lost stream (see FfmpegDecodeOptions.readTimeoutMs) */
  readTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number; maxAttempts: number };
  /**
   * register each frame against the map (operators/registerFrame, in the feature worker) and
   * fuse the registered position into the track; off: retrieval only. Frames are then decoded once at the size
   * registration reads (REGISTRATION_FRAME, a centred 4:3 crop) and the model's input is
   * sampled from them; needs fit 'crop'. The camera's field of view comes from
   * tracker.cameraFovDeg (across the frame's shorter side)
   */
  register: boolean;
  /**
   * 1-σ of the index imagery's georeferencing against the truth, metres: added to every
   * registration's uncertainty. 0 (the default): fixes are as exact as the map, in its frame
   */
  mapSigmaM: number;
  /** tracker settings passed to smoothTrack (`prior`: where the flight starts, from --near/--radius) */
  tracker: Partial<TrackFilterOptions>;
}

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = {
  flight: 'flight',
  fps: 5,
  maxBatch: 8,
  maxWaitMs: 50,
  k: 10,
  workers: 'auto',
  providers: ['cuda', 'cpu'],
  fit: 'crop',
  derotate: true,
  framesInFlight: 32,
  readTimeoutMs: DEFAULT_FFMPEG_OPTIONS.readTimeoutMs,
  reconnect: {
    initialDelayMs: DEFAULT_RECONNECT_OPTIONS.initialDelayMs,
    maxDelayMs: DEFAULT_RECONNECT_OPTIONS.maxDelayMs,
    maxAttempts: DEFAULT_RECONNECT_OPTIONS.maxAttempts,
  },
  register: true,
  mapSigmaM: 0,
  tracker: {},
};

const FITS: readonly FrameFit[] = ['crop', 'pad', 'stretch'];
const PROVIDERS: readonly ProviderName[] = ['cuda', 'cpu'];

function fail(field: string, want: string, got: unknown): never {
  throw new GeolocError('GEOLOC_ERR_PIPELINE_CONFIG', `pipeline setting ${field} must be ${want}, got ${JSON.stringify(got)}`);
}

function positive(field: string, value: number, integer: boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    fail(field, integer ? 'a whole number ≥ 1' : 'a positive number', value);
  }
}

/** Defaults overlaid with `overrides` (nested reconnect/tracker merged), validated. */
export function resolveConfig(overrides: Partial<PipelineConfig> = {}): PipelineConfig {
  const config: PipelineConfig = {
    ...DEFAULT_PIPELINE_CONFIG,
    ...overrides,
    reconnect: { ...DEFAULT_PIPELINE_CONFIG.reconnect, ...overrides.reconnect },
    tracker: { ...DEFAULT_PIPELINE_CONFIG.tracker, ...overrides.tracker },
  };
  const known = new Set(Object.keys(DEFAULT_PIPELINE_CONFIG).concat('intraOpThreads'));
  for (const key of Object.keys(overrides)) if (!known.has(key)) fail(key, `one of ${[...known].join(', ')}`, key);
  if (typeof config.flight !== 'string' || config.flight === '') fail('flight', 'a non-empty string', config.flight);
  positive('fps', config.fps, false);
  positive('maxBatch', config.maxBatch, true);
  if (typeof config.maxWaitMs !== 'number' || !(config.maxWaitMs >= 0)) fail('maxWaitMs', 'a number ≥ 0', config.maxWaitMs);
  positive('k', config.k, true);
  if (config.workers !== 'auto') positive('workers', config.workers, true);
  if (config.intraOpThreads !== undefined) positive('intraOpThreads', config.intraOpThreads, true);
  if (!Array.isArray(config.providers) || config.providers.length === 0 || !config.providers.every((p) => PROVIDERS.includes(p))) {
    fail('providers', `a non-empty list of ${PROVIDERS.join(', ')}`, config.providers);
  }
  if (!FITS.includes(config.fit)) fail('fit', FITS.join(' | '), config.fit);
  if (typeof config.derotate !== 'boolean') fail('derotate', 'true or false', config.derotate);
  if (typeof config.register !== 'boolean') fail('register', 'true or false', config.register);
  // registration's frames are a centred crop, which the model's input is sampled from
  if (config.register && config.fit !== 'crop') fail('fit', "'crop' when register is on", config.fit);
  if (typeof config.mapSigmaM !== 'number' || !(config.mapSigmaM >= 0) || !Number.isFinite(config.mapSigmaM)) fail('mapSigmaM', 'a number of metres ≥ 0', config.mapSigmaM);
  positive('framesInFlight', config.framesInFlight, true);
  if (config.framesInFlight < config.maxBatch) fail('framesInFlight', `at least maxBatch (${config.maxBatch})`, config.framesInFlight);
  positive('readTimeoutMs', config.readTimeoutMs, false);
  positive('reconnect.initialDelayMs', config.reconnect.initialDelayMs, false);
  positive('reconnect.maxDelayMs', config.reconnect.maxDelayMs, false);
  positive('reconnect.maxAttempts', config.reconnect.maxAttempts, true);
  // refused now (GEOLOC_ERR_TRACK_OPTIONS, naming the option), not when the first frame reaches the tracker
  resolveTrackFilterOptions(config.tracker);
  return config;
}

/** Reads a JSON object of settings (a --config file). */
export function readConfigFile(path: string): Partial<PipelineConfig> {
  if (!existsSync(path)) throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `config file ${path} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_PIPELINE_CONFIG', `config file ${path} is not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(`file ${path}`, 'a JSON object', parsed);
  return parsed as Partial<PipelineConfig>;
}
