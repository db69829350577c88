/**
 * Localizes one still photo against the map: a list of places to look (a grid over a prior
 * circle, or the tiles retrieval proposes, best first), each tried at the headings the feature
 * method needs and the heights to expect, within a budget of registrations. The first that
 * reaches geometric consensus wins; with corroboration, so do two fits short of it from different
 * windows that agree. None that does is an answer too, with the reason.
 */
import { performance } from 'node:perf_hooks';
import { LocalFrame, destination, haversineMeters, type LatLon } from '../pipeline/geo/wgs84';
import { focalPx, type Camera, type PoseUncertainty } from './cameraPose';
import type { FeatureWorker } from './featureWorkerClient';
import { isRotationInvariant, type LocalFeatures } from './localFeatures';
import type { MapReference } from './mapReference';
import type { WindowSpec } from './mapWindow';
import { northUpFeatures } from './northUpPhoto';
import { registerPhoto, type Fit, type Registration, type RegistrationOptions, type Timing } from './registration';

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
  /** accept a fit short of the consensus when another window's fit agrees with it; unset: never */
  corroboration?: CorroborationOptions;
}

/**
 * Chance consensus at a look-alike place comes from one window's features and does not repeat
 * at the same pose from another window; a true fit does. Two fits below the consensus, each
 * with at least `minInliers` and past every geometric check, that agree within `agreeM` and
 * `agreeDeg` are taken as one.
 */
export interface CorroborationOptions {
  minInliers: number;
  agreeM: number;
  agreeDeg: number;
}

/** XFeat still matches a view turned about 20° from the map's orientation: 45° steps leave none further off than that */
export const DEFAULT_ROTATION_STEP_DEG = 45;
/** a compass on a drone in flight, or a gimbal yaw, is often 20–30° off the photo's true orientation (the wildnav photos' metadata is off by about 25°) */
export const DEFAULT_HEADING_TOLERANCE_DEG = 30;
export const DEFAULT_WINDOW_MARGIN = 1.3;
export const DEFAULT_BUDGET = 64;
/**
 * Measured with locate's windows (cut at the photo's resolution, prior 150 m): chance fits at
 * places the photo does not show reached at most 12 inliers on the wildnav photos (14 priors),
 * 17 on nadir renders of the Mandi map and 14 on the Mandi render's video frames (21 priors),
 * and no two agreed even with a floor of 12; wildnav photo 1's true fits reached 25–50 from
 * five windows, within 2 m and 3° of each other
 */
export const DEFAULT_CORROBORATION: CorroborationOptions = { minInliers: 20, agreeM: 5, agreeDeg: 5 };
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
  /** a fit short of the consensus, corroborated by another window's: that one's inliers and how far apart they put the camera */
  corroboratedBy?: { inliers: number; apartM: number };
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
  const search = new PhotoSearch(worker, reference, photo, options, asTaken);
  const headings = headingsToTry(options, isRotationInvariant(worker.method));
  let placesTried = 0;
  for (const place of places) {
    if (search.attempts < options.budget) placesTried++;
    for (const heightM of place.heightM !== undefined ? [place.heightM] : options.heightsM) {
      for (const headingDeg of headings) {
        if (search.attempts >= options.budget) return notLocated(`no registration within the budget of ${options.budget} attempts`, search.attempts, placesTried, search.best);
        const located = await search.tryAt(place, headingDeg, heightM);
        if (located) return located;
      }
    }
  }
  return notLocated(`no registration reached geometric consensus in ${search.attempts} attempt${search.attempts === 1 ? '' : 's'}`, search.attempts, placesTried, search.best);
}

type Attempt = Located | { ok: false; tentative?: Located };

/** The attempts of one photo: their count, the nearest miss, and the tentative fits kept for corroboration. */
class PhotoSearch {
  attempts = 0;
  best: NotLocated['best'];
  private readonly tentatives: Located[] = [];
  private readonly turned = new Map<number, Promise<LocalFeatures>>();
  private readonly camera: Camera;
  private readonly registration: RegistrationOptions;

  constructor(
    private readonly worker: FeatureWorker,
    private readonly reference: MapReference,
    private readonly photo: LocatePhoto,
    private readonly options: LocateOptions,
    /** the photo's features as taken, when the reference turns its windows to the heading */
    private readonly asTaken: LocalFeatures | undefined,
  ) {
    this.camera = { width: photo.width, height: photo.height, hfovDeg: options.hfovDeg, pitchDeg: options.pitchDeg };
    const corroboration = options.corroboration;
    this.registration = corroboration ? { ...options.registration, consensus: { ...options.registration.consensus, tentativeMinInliers: corroboration.minInliers } } : options.registration;
  }

  /**
   * One attempt, and after a tentative fit a second at the fit's own place and heading: a
   * different window, cut round the fit, that a true fit repeats in and a chance one does not.
   */
  async tryAt(place: Place, headingDeg: number, heightM: number): Promise<Located | undefined> {
    const first = await this.register(place, headingDeg, heightM);
    const found = this.judge(first);
    if (found || first.ok || !first.tentative || this.attempts >= this.options.budget) return found;
    const fit = first.tentative;
    const recentred: Place = { lat: fit.lat, lon: fit.lon, source: `${place.source}, recentred on a tentative fit of ${fit.inliers} inliers` };
    return this.judge(await this.register(recentred, fit.headingDeg, heightM));
  }

  /** A consensus, or a tentative fit an earlier one corroborates; a tentative fit is kept either way. */
  private judge(outcome: Attempt): Located | undefined {
    if (outcome.ok) return outcome;
    if (!outcome.tentative) return undefined;
    const agreed = this.corroborated(outcome.tentative);
    this.tentatives.push(outcome.tentative);
    return agreed;
  }

  private async register(place: Place, headingDeg: number, heightM: number): Promise<Attempt> {
    this.attempts++;
    const window = windowFor(place, headingDeg, heightM, this.photo, this.options);
    const started = performance.now();
    const features = await this.photoFeatures(headingDeg);
    const view = await this.reference.view(window, this.worker);
    const result: Registration = await registerPhoto(this.worker, { features, camera: this.camera }, view, heightM, this.registration, performance.now() - started);
    if (result.ok) return locatedFrom(result, view.window, place, this.attempts);
    if (!this.best || result.inliers > this.best.inliers) this.best = { place, headingDeg, inliers: result.inliers, matches: result.matches, reason: result.reason };
    return { ok: false, ...(result.tentative ? { tentative: locatedFrom(result.tentative, view.window, place, this.attempts) } : {}) };
  }

  private photoFeatures(headingDeg: number): Promise<LocalFeatures> {
    if (this.asTaken) return Promise.resolve(this.asTaken);
    let f = this.turned.get(headingDeg);
    if (!f) {
      f = northUpFeatures(this.worker, this.photo, headingDeg);
      this.turned.set(headingDeg, f);
    }
    return f;
  }

  /** The better of `fit` and a kept tentative fit that agrees with it, its radius holding both; none when none agrees. */
  private corroborated(fit: Located): Located | undefined {
    const { agreeM, agreeDeg } = this.options.corroboration!;
    for (const other of this.tentatives) {
      const apartM = haversineMeters(fit, other);
      if (apartM > agreeM || Math.abs(signedDeg(fit.headingDeg - other.headingDeg)) > agreeDeg) continue;
      const [better, worse] = fit.inliers >= other.inliers ? [fit, other] : [other, fit];
      const radiusM = Math.max(better.uncertainty.radiusM, apartM);
      return { ...better, uncertainty: { ...better.uncertainty, radiusM }, attempts: this.attempts, corroboratedBy: { inliers: worse.inliers, apartM } };
    }
    return undefined;
  }
}

/** A fit's pose, footprint and inliers on the ground, from the window's metres east and north. */
function locatedFrom(fit: Fit, window: WindowSpec, place: Place, attempts: number): Located {
  const frame = new LocalFrame(window.centre);
  const at = (e: number, n: number) => {
    const p = frame.fromEnu({ e, n, u: 0 });
    return { lat: p.lat, lon: p.lon };
  };
  return {
    ok: true,
    ...at(fit.pose.e, fit.pose.n),
    headingDeg: fit.pose.headingDeg,
    heightM: fit.pose.heightM,
    uncertainty: fit.uncertainty,
    inliers: fit.inliers,
    matches: fit.matches,
    reprojectionPx: fit.reprojectionPx,
    reprojectionM: fit.reprojectionM,
    footprint: fit.pose.footprint.map((c) => at(c.e, c.n)),
    inlierPairs: fit.inlierPairs.map((p) => ({ x: p.x, y: p.y, ...at(p.e, p.n) })),
    place,
    attempts,
    timing: fit.timing,
  };
}

const signedDeg = (deg: number) => ((((deg + FULL_TURN_DEG / 2) % FULL_TURN_DEG) + FULL_TURN_DEG) % FULL_TURN_DEG) - FULL_TURN_DEG / 2;

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
