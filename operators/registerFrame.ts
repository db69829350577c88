import { performance } from 'node:perf_hooks';
import { concatMap, from, type OperatorFunction } from 'rxjs';
import type { FeatureWorker } from '../models/featureWorkerClient';
import { DEFAULT_HEADING_TOLERANCE_DEG, DEFAULT_ROTATION_STEP_DEG, DEFAULT_WINDOW_MARGIN, locatePhoto, type Place } from '../models/locate';
import type { MapSampler } from '../models/mapWindow';
import type { RegistrationOptions } from '../models/registration';
import { xfeatFit } from '../models/xfeat';
import type { Frame, SearchRegion } from '../pipeline/core/types';
import { destination } from '../pipeline/geo/wgs84';
import { cameraGeometry } from '../pipeline/tracking/likelihood';
import type { FrameRegistration } from '../pipeline/tracking/types';
import type { FrameMeasurement } from './searchIndex';

export interface RegisterFrameOptions {
  /** the feature worker (XFeat, matching, OpenCV) the registrations run in, off the main thread */
  worker: FeatureWorker;
  /** map windows cut from the index's imagery */
  sampler: MapSampler;
  /** the tracker's region when a frame is registered: its centre is tried first; undefined (global, lost): the candidates only */
  region: () => SearchRegion | undefined;
  /** the camera's horizontal field of view across the frames as decoded, degrees */
  hfovDeg: number;
  /** heights above ground tried when telemetry gives no altitude (the index's tile altitudes), metres */
  heightsM: number[];
  /** most registrations tried per frame (places × heights × headings, in that order); the frame's budget */
  maxAttempts: number;
  /** how far telemetry's heading may be off the frame's true orientation: headings within it are tried too */
  headingToleranceDeg: number;
  registration: RegistrationOptions;
}

/**
 * Per frame: wall time of its registration (the frame's own features, every attempt's map window
 * and fit) and, when it registered, the winning attempt's parts (features: the map window's).
 */
export interface RegistrationTiming {
  totalMs: number;
  attempts: number;
  featuresMs?: number;
  matchingMs?: number;
  estimationMs?: number;
}

export type RegisteredMeasurement<M> = M & { registration: FrameRegistration; registrationTiming: RegistrationTiming };

/**
 * A frame's budget: at the track's estimate, telemetry's heading and the two nearest headings
 * around it (locate's order); a frame that does not register then costs three attempts, and
 * the next frame, a fifth of a second later, gets its own try.
 */
export const DEFAULT_MAX_ATTEMPTS = 3;
export { DEFAULT_HEADING_TOLERANCE_DEG };

/** Nadir in the DJI convention: camera pitch is measured from it, forward. */
const NADIR_PITCH_DEG = -90;

/**
 * Registers each measurement's frame against the map (models/locate.ts) and passes the
 * measurement on with `registration`: the drone's position, covariance, heading and height,
 * or why it did not register. Where to look: the tracker's region's centre (its estimate) first,
 * then the frame's candidates (the drone stands behind the ground a tilted camera sees), best
 * first. Telemetry's altitude, heading and gimbal pitch narrow the heights, headings and the
 * camera model; without them the index's heights and every rotation step are tried. At most
 * `maxAttempts` registrations per frame. Frames must be packed RGB at a size XFeat takes
 * (xfeatFit); a worker failure ends the stream with its error. Frames are registered one at a
 * time, in order, so each reads the region the tracker set from the frame before.
 */
export function registerFrame<F extends Frame, M extends FrameMeasurement<F>>(options: RegisterFrameOptions): OperatorFunction<M, RegisteredMeasurement<M>> {
  // one at a time: each frame's registration starts once the one before it has been handed on
  return concatMap((m) => from(registerOne(m, options)));
}

async function registerOne<F extends Frame, M extends FrameMeasurement<F>>(m: M, options: RegisterFrameOptions): Promise<RegisteredMeasurement<M>> {
  const started = performance.now();
  const frame = m.source;
  const fit = xfeatFit(frame.width, frame.height);
  if (frame.format !== 'rgb24' || fit.width !== frame.width || fit.height !== frame.height) {
    const registration = { failed: `frame ${frame.index} is ${frame.width}×${frame.height} ${frame.format}; registration takes RGB at a size XFeat takes (${fit.width}×${fit.height})` };
    return { ...m, registration, registrationTiming: { totalMs: performance.now() - started, attempts: 0 } };
  }
  const pitchDeg = m.gimbalPitchDeg !== undefined ? m.gimbalPitchDeg - NADIR_PITCH_DEG : 0;
  const heightsM = m.altitudeM !== undefined && m.altitudeM > 0 ? [m.altitudeM] : options.heightsM;
  const result = await locatePhoto(options.worker, options.sampler, { rgb: frame.pixels, width: frame.width, height: frame.height }, placesFor(m, options.region()), {
    hfovDeg: options.hfovDeg,
    pitchDeg,
    ...(m.headingDeg !== undefined ? { headingDeg: m.headingDeg } : {}),
    heightsM,
    rotationStepDeg: DEFAULT_ROTATION_STEP_DEG,
    headingToleranceDeg: options.headingToleranceDeg,
    windowMargin: DEFAULT_WINDOW_MARGIN,
    budget: options.maxAttempts,
    registration: options.registration,
  });
  const totalMs = performance.now() - started;
  if (!result.ok) return { ...m, registration: { failed: result.reason }, registrationTiming: { totalMs, attempts: result.attempts } };
  return {
    ...m,
    registration: {
      lat: result.lat,
      lon: result.lon,
      covarianceM2: result.uncertainty.covarianceM2,
      headingDeg: result.headingDeg,
      heightM: result.heightM,
      inliers: result.inliers,
      reprojectionPx: result.reprojectionPx,
    },
    registrationTiming: { totalMs, attempts: result.attempts, ...result.timing },
  };
}

/** The track's estimate, then where each candidate puts the drone: behind the tile's centre by the camera's look-ahead. */
function placesFor(m: FrameMeasurement<Frame>, region: SearchRegion | undefined): Place[] {
  const places: Place[] = region ? [{ lat: region.lat, lon: region.lon, source: 'track' }] : [];
  // the look-ahead needs no field of view; the footprint it also gives is not used
  const { aheadEast, aheadNorth } = cameraGeometry(m, 0);
  const back = Math.hypot(aheadEast, aheadNorth);
  const bearing = (Math.atan2(-aheadEast, -aheadNorth) * 180) / Math.PI;
  for (const c of m.candidates) places.push({ ...destination(c, bearing, back), source: `tile ${c.tileId}` });
  return places;
}
