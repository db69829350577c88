/**
 * Localizes one still photo against the map: a list of places to look (a grid over a prior
 * circle, or the tiles retrieval proposes, best first), each tried at the headings the feature
 * method needs and the heights to expect, within a budget of registrations. The first that
 * reaches geometric consensus wins; none that does is an answer too, with the reason.
 */
import { performance } from 'node:perf_hooks';
import { LocalFrame, destination, type LatLon } from '../pipeline/geo/wgs84';
import { focalPx } from './cameraPose';
import type { FeatureWorker } from './featureWorkerClient';
import { isRotationInvariant, type LocalFeatures } from './localFeatures';
import type { MapReference } from './mapReference';
import type { WindowSpec } from './mapWindow';
import { northUpFeatures } from './northUpPhoto';
import { registerPhoto, type Registration, type RegistrationOptions, type Timing } from './registration';
import type { PoseUncertainty } from './cameraPose';

export interface LocatePhoto {
  /** packed RGB at the size features are extracted at (see xfeatFit) */
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface LocateOptions {
  hfovDeg: number;
  /** camera tilt forward from straight down, degrees */
  pitchDeg: number;
  /** compass heading the photo's top faces, when known */
  headingDeg?: number;
  /** heights above ground to try, metres: the one given, or the index's tile scales */
  heightsM: number[];
  /** headings tried when none is given and the features are not rotation invariant */
  rotationStepDeg: number;
  /** how far a given heading may be off: headings within it are tried, in steps of half the rotation step */
  headingToleranceDeg: number;
  /** ground a map window covers, as a multiple of the photo's footprint: room for the prior's error */
  windowMargin: number;
  /** most registrations tried before giving up */
  budget: number;
  registration: RegistrationOptions;
}

/** XFeat still matches a view turned about 20° from the map's orientation: 45° steps leave none further off than that */
export const DEFAULT_ROTATION_STEP_DEG = 45;
/** a compass on a drone in flight, or a gimbal yaw, is often 20–30° off the photo's true orientation (the wildnav photos' metadata is off by about 25°) */
export const DEFAULT_HEADING_TOLERANCE_DEG = 30;
export const DEFAULT_WINDOW_MARGIN = 1.3;
export const DEFAULT_BUDGET = 64;
/** grid step over a prior circle, as a share of the footprint's shorter side: each point's window holds the photo somewhere */
export const PRIOR_GRID_STEP = 0.75;

/** Where to look: a point under the camera, with the height to expect there when retrieval knows it. */
export interface Place extends LatLon {
  heightM?: number;
  /** what proposed it, for the report */
  source: string;
}

export interface Located {
  ok: true;
  lat: number;
  lon: number;
  headingDeg: number;
  heightM: number;
  uncertainty: PoseUncertainty;
  inliers: number;
  matches: number;
  reprojectionPx: number;
  reprojectionM: number;
  /** ground corners of the photo: top-left, top-right, bottom-right, bottom-left */
  footprint: LatLon[];
  /** each inlier's photo pixel and the ground point the fit maps it to */
  inlierPairs: (LatLon & { x: number; y: number })[];
  place: Place;
  attempts: number;
  timing: Timing;
}

export interface NotLocated {
  ok: false;
  reason: string;
  attempts: number;
  /** how many of the places, in order, were tried (some of them only in part when the budget ran out) */
  placesTried: number;
  /** the attempt that came nearest to a consensus */
  best?: { place: Place; headingDeg: number; inliers: number; matches: number; reason: string };
}

const FULL_TURN_DEG = 360;
const DEG = Math.PI / 180;

/** Ground width and height the photo covers from height h (at its centre, for a tilted camera). */
export function footprintM(photo: Pick<LocatePhoto, 'width' | 'height'>, hfovDeg: number, pitchDeg: number, heightM: number): { widthM: number; heightM: number } {
  const alongAxis = heightM / Math.cos(pitchDeg * DEG);
  const perPx = alongAxis / focalPx({ width: photo.width, hfovDeg });
  return { widthM: perPx * photo.width, heightM: perPx * photo.height };
}

/** Points of a square grid over the circle, nearest the centre first. */
export function priorGrid(near: LatLon, radiusM: number, stepM: number, source: string): Place[] {
  const steps = Math.floor(radiusM / stepM);
  const frame = new LocalFrame(near);
  const places: (Place & { d: number })[] = [];
  for (let j = -steps; j <= steps; j++) {
    for (let i = -steps; i <= steps; i++) {
      const d = Math.hypot(i, j) * stepM;
      if (d > radiusM) continue;
      const p = frame.fromEnu({ e: i * stepM, n: j * stepM, u: 0 });
      places.push({ lat: p.lat, lon: p.lon, source, d });
    }
  }
  return places.sort((a, b) => a.d - b.d).map(({ d: _, ...p }) => p);
}

export function headingsToTry(options: Pick<LocateOptions, 'headingDeg' | 'rotationStepDeg' | 'headingToleranceDeg'>, rotationInvariant: boolean): number[] {
  const given = options.headingDeg;
  if (given !== undefined && rotationInvariant) return [given];
  if (given !== undefined) {
    const step = options.rotationStepDeg / 2;
    const tries = [given];
    for (let off = step; off <= options.headingToleranceDeg; off += step) tries.push(given + off, given - off);
    return tries.map((h) => ((h % FULL_TURN_DEG) + FULL_TURN_DEG) % FULL_TURN_DEG);
  }
  if (rotationInvariant) return [0];
  const n = Math.round(FULL_TURN_DEG / options.rotationStepDeg);
  return Array.from({ length: n }, (_, i) => i * options.rotationStepDeg);
}

/**
 * Against a north-up reference (an index's stored features) the photo is turned north-up by each
 * heading tried, its features taken once per heading; against windows cut at run time, the
 * photo's features are taken once and each window is turned to the heading instead.
 */
export async function locatePhoto(worker: FeatureWorker, reference: MapReference, photo: LocatePhoto, places: Place[], options: LocateOptions): Promise<Located | NotLocated> {
  const asTaken = reference.orientation === 'as-asked' ? await worker.extract(photo.rgb, photo.width, photo.height) : undefined;
  const turned = new Map<number, LocalFeatures>();
  const photoFeatures = async (headingDeg: number): Promise<LocalFeatures> => {
    if (asTaken) return asTaken;
    let f = turned.get(headingDeg);
    if (!f) {
      f = await northUpFeatures(worker, photo, headingDeg);
      turned.set(headingDeg, f);
    }
    return f;
  };
  const camera = { width: photo.width, height: photo.height, hfovDeg: options.hfovDeg, pitchDeg: options.pitchDeg };
  const headings = headingsToTry(options, isRotationInvariant(worker.method));
  let attempts = 0;
  let placesTried = 0;
  let best: NotLocated['best'];
  for (const place of places) {
    if (attempts < options.budget) placesTried++;
    for (const heightM of place.heightM !== undefined ? [place.heightM] : options.heightsM) {
      for (const headingDeg of headings) {
        if (attempts >= options.budget) return notLocated(`no registration within the budget of ${options.budget} attempts`, attempts, placesTried, best);
        attempts++;
        const window = windowFor(place, headingDeg, heightM, photo, options);
        const started = performance.now();
        const features = await photoFeatures(headingDeg);
        const view = await reference.view(window, worker);
        const result: Registration = await registerPhoto(worker, { features, camera }, view, heightM, options.registration, performance.now() - started);
        if (result.ok) {
          const frame = new LocalFrame(view.window.centre);
          const at = (e: number, n: number) => {
            const p = frame.fromEnu({ e, n, u: 0 });
            return { lat: p.lat, lon: p.lon };
          };
          const position = at(result.pose.e, result.pose.n);
          return {
            ok: true,
            ...position,
            headingDeg: result.pose.headingDeg,
            heightM: result.pose.heightM,
            uncertainty: result.uncertainty,
            inliers: result.inliers,
            matches: result.matches,
            reprojectionPx: result.reprojectionPx,
            reprojectionM: result.reprojectionM,
            footprint: result.pose.footprint.map((c) => at(c.e, c.n)),
            inlierPairs: result.inlierPairs.map((p) => ({ x: p.x, y: p.y, ...at(p.e, p.n) })),
            place,
            attempts,
            timing: result.timing,
          };
        }
        if (!best || result.inliers > best.inliers) best = { place, headingDeg, inliers: result.inliers, matches: result.matches, reason: result.reason };
      }
    }
  }
  return notLocated(`no registration reached geometric consensus in ${attempts} attempt${attempts === 1 ? '' : 's'}`, attempts, placesTried, best);
}

function notLocated(reason: string, attempts: number, placesTried: number, best: NotLocated['best']): NotLocated {
  return { ok: false, reason: best ? `${reason}; the best: ${best.reason}` : reason, attempts, placesTried, ...(best ? { best } : {}) };
}

/** The window the photo would fill 1/margin of if the camera stood at `place`: centred where its optical axis meets the ground. */
export function windowFor(place: LatLon, headingDeg: number, heightM: number, photo: Pick<LocatePhoto, 'width' | 'height'>, options: Pick<LocateOptions, 'hfovDeg' | 'pitchDeg' | 'windowMargin'>): WindowSpec {
  const ahead = heightM * Math.tan(options.pitchDeg * DEG);
  const centre = ahead > 0 ? destination(place, headingDeg, ahead) : { lat: place.lat, lon: place.lon };
  const { widthM } = footprintM(photo, options.hfovDeg, options.pitchDeg, heightM);
  return { centre, headingDeg, metersPerPixel: (widthM * options.windowMargin) / photo.width, width: photo.width, height: photo.height };
}
