import { performance } from 'node:perf_hooks';
import { concatMap, defer, from, type OperatorFunction } from 'rxjs';
import type { FeatureWorker } from '../models/featureWorkerClient';
import { DEFAULT_HEADING_TOLERANCE_DEG, DEFAULT_ROTATION_STEP_DEG, DEFAULT_WINDOW_MARGIN, locatePhoto, type Place } from '../models/locate';
import type { MapReference } from '../models/mapReference';
import type { RegistrationOptions } from '../models/registration';
import { xfeatFit } from '../models/xfeat';
import { spreadSample } from '../pipeline/core/stats';
import type { Frame, RegistrationEvidence, SearchRegion } from '../pipeline/core/types';
import { destination } from '../pipeline/geo/wgs84';
import { cameraGeometry } from '../pipeline/tracking/likelihood';
import type { FrameRegistration } from '../pipeline/tracking/types';
import type { FrameMeasurement } from './searchIndex';

export interface RegisterFrameOptions {
  /** the feature worker (XFeat, matching, OpenCV) the registrations run in, off the main thread */
  worker: FeatureWorker;
  /** the map: the index's stored features, or windows cut from its imagery */
  reference: MapReference;
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
  /** most matched points a registered frame keeps as its evidence, spread over its inliers */
  maxEvidenceMatches: number;
  registration: RegistrationOptions;
}

/**
 * Per frame: wall time of its registration (the frame's own features, every attempt's map window
 * and fit) and, when it registered, the winning attempt's parts (features: the map's view, cut and
 * extracted or read from the index's stored features, and the frame's own when taken for it).
 */
export interface RegistrationTiming {
  totalMs: number;
  attempts: number;
  featuresMs?: number;
  matchingMs?: number;
  estimationMs?: number;
}

export type RegisteredMeasurement<M> = M & { registration: FrameRegistration; registrationTiming: RegistrationTiming; registrationEvidence?: RegistrationEvidence };

/**
 * A frame's budget: at the track's estimate, telemetry's heading and the two nearest headings
 * around it (locate's order); a frame that does not register then costs three attempts, and
 * the next frame, a fifth of a second later, gets its own try.
 */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** 64 pairs show a fit's spread on a map and weigh about 3 kB as JSON */
export const DEFAULT_MAX_EVIDENCE_MATCHES = 64;
export { DEFAULT_HEADING_TOLERANCE_DEG };

/** Nadir in the DJI convention: camera pitch is measured from it, forward. */
const NADIR_PITCH_DEG = -90;

/**
 * Registers each measurement's frame against the map (models/locate.ts) and passes the
 * measurement on with `registration`: the drone's position, covariance, heading and height,
 * or why it did not register. Where to look: the tracker's region's centre (its estimate) first,
 * then the frame's candidates (the drone stands behind the ground a tilted camera sees), best
 * first. Telemetry's altitude, heading and gimbal pitch narrow the heights, headings and the
 * camera model; without them the index's heights and every rotation step are tried. Once a
 * frame has registered, the heading it showed corrects telemetry's for the next frames, which
 * then try that heading alone. At most `maxAttempts` registrations per frame; while no frame
 * registers, each frame goes on down the candidates where the one before stopped (the search
 * widens over frames within each frame's budget). Frames must be packed RGB at a size XFeat
 * takes (xfeatFit); a worker failure ends the stream with its error. Frames are registered one
 * at a time, in order, so each reads the region the tracker set from the frame before.
 */
export function registerFrame<F extends Frame, M extends FrameMeasurement<F>>(options: RegisterFrameOptions): OperatorFunction<M, RegisteredMeasurement<M>> {
  return (source) =>
    defer(() => {
      const search: SearchState = { candidatesTried: 0 };
      // one at a time: each frame's registration starts once the one before it has been handed on
      return source.pipe(concatMap((m) => from(registerOne(m, options, search))));
    });
}

/** What one subscription has learnt from the frames before. */
interface SearchState {
  /** the registered heading minus telemetry's, from the last frame that registered */
  headingOffsetDeg?: number;
  /** candidates tried, in rank order, by the frames since the last registration */
  candidatesTried: number;
}

async function registerOne<F extends Frame, M extends FrameMeasurement<F>>(m: M, options: RegisterFrameOptions, search: SearchState): Promise<RegisteredMeasurement<M>> {
  const started = performance.now();
  const frame = m.source;
  const fit = xfeatFit(frame.width, frame.height);
  if (frame.format !== 'rgb24' || fit.width !== frame.width || fit.height !== frame.height) {
    const registration = { failed: `frame ${frame.index} is ${frame.width}×${frame.height} ${frame.format}; registration takes RGB at a size XFeat takes (${fit.width}×${fit.height})` };
    return { ...m, registration, registrationTiming: { totalMs: performance.now() - started, attempts: 0 } };
  }
  const pitchDeg = m.gimbalPitchDeg !== undefined ? m.gimbalPitchDeg - NADIR_PITCH_DEG : 0;
  const heightsM = m.altitudeM !== undefined && m.altitudeM > 0 ? [m.altitudeM] : options.heightsM;
  const corrected = m.headingDeg !== undefined && search.headingOffsetDeg !== undefined;
  const headingDeg = m.headingDeg !== undefined ? m.headingDeg + (search.headingOffsetDeg ?? 0) : undefined;
  const region = options.region();
  const { places, candidateStart } = placesFor(m, region, search.candidatesTried);
  const result = await locatePhoto(options.worker, options.reference, { rgb: frame.pixels, width: frame.width, height: frame.height }, places, {
    hfovDeg: options.hfovDeg,
    pitchDeg,
    ...(headingDeg !== undefined ? { headingDeg: normalDeg(headingDeg) } : {}),
    heightsM,
    rotationStepDeg: DEFAULT_ROTATION_STEP_DEG,
    headingToleranceDeg: corrected ? 0 : options.headingToleranceDeg,
    windowMargin: DEFAULT_WINDOW_MARGIN,
    budget: options.maxAttempts,
    registration: options.registration,
  });
  const totalMs = performance.now() - started;
  if (!result.ok) {
    const tried = result.placesTried - (region ? 1 : 0);
    search.candidatesTried = candidateStart + tried < m.candidates.length ? candidateStart + tried : 0;
    return { ...m, registration: { failed: result.reason }, registrationTiming: { totalMs, attempts: result.attempts } };
  }
  search.candidatesTried = 0;
  if (m.headingDeg !== undefined) search.headingOffsetDeg = signedDeg(result.headingDeg - m.headingDeg);
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
    registrationEvidence: {
      frameWidth: frame.width,
      frameHeight: frame.height,
      footprint: result.footprint,
      proposedBy: result.place.source,
      points: spreadSample(result.inlierPairs, options.maxEvidenceMatches),
    },
  };
}

const TRACK = 'track';
const normalDeg = (deg: number) => ((deg % 360) + 360) % 360;
const signedDeg = (deg: number) => ((((deg + 180) % 360) + 360) % 360) - 180;

/**
 * The track's estimate, then where each candidate puts the drone: behind the tile's centre by
 * the camera's look-ahead. The candidates start at rank `tried` (those the frames before tried
 * in vain), wrapping round to the best.
 */
function placesFor(m: FrameMeasurement<Frame>, region: SearchRegion | undefined, tried: number): { places: Place[]; candidateStart: number } {
  const places: Place[] = region ? [{ lat: region.lat, lon: region.lon, source: TRACK }] : [];
  // the look-ahead needs no field of view; the footprint it also gives is not used
  const { aheadEast, aheadNorth } = cameraGeometry(m, 0);
  const back = Math.hypot(aheadEast, aheadNorth);
  const bearing = (Math.atan2(-aheadEast, -aheadNorth) * 180) / Math.PI;
  const n = m.candidates.length;
  const candidateStart = n > 0 ? tried % n : 0;
  for (let i = 0; i < n; i++) {
    const c = m.candidates[(candidateStart + i) % n]!;
    places.push({ ...destination(c, bearing, back), source: `tile ${c.tileId}` });
  }
  return { places, candidateStart };
}
