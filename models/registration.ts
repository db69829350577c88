/**
 * Registration of one photo against one map window: the window's local features, mutual
 * nearest-neighbour matches with the photo's, OpenCV's robust homography, and the checks that
 * a fit has geometric consensus. A fit that passes becomes a pose with its uncertainty; one
 * that does not says why.
 */
import { performance } from 'node:perf_hooks';
import { applyHomography, poseFrom, poseFromPlane, poseUncertainty, type Camera, type Pose, type PoseUncertainty } from './cameraPose';
import type { FeatureWorker } from './featureWorkerClient';
import { DEFAULT_FLOAT_RATIO, type MatchOptions } from './featureMatching';
import type { RobustOptions } from './homographyFit';
import type { LocalFeatures } from './localFeatures';
import type { ReferenceView } from './mapReference';
import { windowToEnu, type WindowSpec } from './mapWindow';

export interface ConsensusOptions {
  /**
   * fewest RANSAC inliers of a fit that counts: chance consensus on a look-alike place reached
   * 15–33 inliers over the Mandi render's hills, the true place 45–830, a real wildnav photo 41
   */
  minInliers: number;
  /**
   * fewest inliers of a fit that passes every geometric check and is kept as tentative when it
   * falls short of minInliers (see locate's corroboration); unset: no fit below minInliers is kept
   */
  tentativeMinInliers?: number;
  /** largest factor between the height a fit implies and the height the window was cut for */
  maxScaleFactor: number;
  /** largest ratio of the fit's two scales at the image centre, beyond what the pitch explains */
  maxAnisotropy: number;
}

export interface UncertaintyOptions {
  bootstrapSamples: number;
  seed: number;
  tiltSigmaDeg: number;
  mapSigmaM: number;
  /** keypoints' placement error beyond the bootstrap's, in map-window pixels (see UncertaintyInputs.resolutionSigmaM) */
  resolutionSigmaPx: number;
}

export interface RegistrationOptions {
  match: MatchOptions;
  robust: RobustOptions;
  consensus: ConsensusOptions;
  uncertainty: UncertaintyOptions;
}

export const DEFAULT_CONSENSUS: ConsensusOptions = { minInliers: 40, maxScaleFactor: 2, maxAnisotropy: 1.5 };
/** OpenCV's defaults for findHomography, with a threshold of a few pixels of a 640-px window */
export const DEFAULT_ROBUST: RobustOptions = { method: 'magsac', thresholdPx: 4, maxIters: 2000, confidence: 0.999 };
/**
 * 200 refits give the bootstrap's share of the radius to within about 10%; a stabilised gimbal
 * points within about 1° (the wildnav photos report −90.3° for nadir). Positions are in the
 * map's own frame: its georeferencing error is the map maker's to state (PipelineConfig
 * mapSigmaM, locate --map-sigma), none by default. Keypoints beyond the bootstrap: 0.3 of a
 * window pixel, measured on the fixture flight (frames rendered from the map, so the map adds
 * nothing): with it the fused track's 95% radius held 98% of the first minute's fixes.
 */
export const DEFAULT_UNCERTAINTY: UncertaintyOptions = { bootstrapSamples: 200, seed: 14, tiltSigmaDeg: 1, mapSigmaM: 0, resolutionSigmaPx: 0.3 };

/**
 * The fit's own tilt replaces the gimbal's when its radius is at most this share of the
 * gimbal-tilt radius: on real photos (relief, lens distortion) the bootstrap trusts a fitted
 * tilt more than it deserves, and only a clear gain is worth that risk. Measured: the fixture
 * flight's fitted tilt gives radii about a sixth of the gimbal's and errors of 0.1–1 m; a
 * wildnav photo whose fitted tilt was 2.2° off the gimbal's nadir came out 8 m off instead of 3.3 m
 */
const FITTED_TILT_ADVANTAGE = 0.5;
/** ... and when it lies within this many of the gimbal's σ of the reported pitch */
const TILT_AGREEMENT_SIGMAS = 2;

/** What the pipeline and `explain` register XFeat features with. */
export const DEFAULT_REGISTRATION: RegistrationOptions = { match: { maxRatio: DEFAULT_FLOAT_RATIO }, robust: DEFAULT_ROBUST, consensus: DEFAULT_CONSENSUS, uncertainty: DEFAULT_UNCERTAINTY };

export interface Timing {
  featuresMs: number;
  matchingMs: number;
  estimationMs: number;
}

interface Evidence {
  matches: number;
  inliers: number;
  timing: Timing;
}

/** A fit that passed every geometric check: the pose it implies, with its uncertainty. */
export type Fit = Evidence & {
  /** photo pixels → window pixels */
  homography: number[];
  /** metres east and north of the window's centre */
  pose: Pose;
  /** the camera's tilt from straight down the pose assumes, degrees, and where it came from: the gimbal's report, or the fit itself where that pins it down better */
  tiltDeg: number;
  tiltFrom: 'telemetry' | 'fit';
  uncertainty: PoseUncertainty;
  reprojectionPx: number;
  reprojectionM: number;
  /** each inlier's photo pixel and where the fit puts it on the ground (metres east, north of the window's centre) */
  inlierPairs: InlierPair[];
};

/** A consensus, or why not; a fit short of the consensus but above tentativeMinInliers comes with it as `tentative`. */
export type Registration = (Fit & { ok: true }) | (Evidence & { ok: false; reason: string; tentative?: Fit });

export interface InlierPair {
  x: number;
  y: number;
  e: number;
  n: number;
}

export interface Photo {
  features: LocalFeatures;
  camera: Camera;
}

/**
 * `expectedHeightM`: the height the window's scale was cut for, what a fit's own height is
 * checked against. `featuresMs`: what getting the features of this attempt cost (the map's,
 * and the photo's when they were taken for it), reported as the timing's features.
 */
export function registerPhoto(
  worker: FeatureWorker,
  photo: Photo,
  reference: ReferenceView,
  expectedHeightM: number,
  options: RegistrationOptions,
  featuresMs: number,
): Promise<Registration> {
  return new WindowRegistration(worker, photo, reference, expectedHeightM, options, featuresMs).run();
}

class WindowRegistration {
  private readonly timing: Timing;
  private matches = 0;
  private inliers = 0;
  private readonly window: WindowSpec;

  constructor(
    private readonly worker: FeatureWorker,
    private readonly photo: Photo,
    private readonly reference: ReferenceView,
    private readonly expectedHeightM: number,
    private readonly options: RegistrationOptions,
    featuresMs: number,
  ) {
    this.window = reference.window;
    this.timing = { featuresMs, matchingMs: 0, estimationMs: 0 };
  }

  private fail(reason: string): Registration {
    return { ok: false, reason, matches: this.matches, inliers: this.inliers, timing: this.timing };
  }

  async run(): Promise<Registration> {
    const { photo, window, options } = this;
    const { minInliers, maxScaleFactor, maxAnisotropy } = options.consensus;
    // the fewest a fit needs to be looked at: a tentative one's, when those are kept
    const needed = Math.min(minInliers, options.consensus.tentativeMinInliers ?? minInliers);
    const mapFeatures = this.reference.features;
    if (photo.features.count < needed) return this.fail(`the photo has ${photo.features.count} local features, fewer than the ${needed} a fit needs (featureless: flat, blurred or dark)`);
    if (mapFeatures.count < needed) return this.fail(`the map window has ${mapFeatures.count} local features, fewer than the ${needed} a fit needs`);
    let t = performance.now();
    const m = await this.worker.match(photo.features, mapFeatures, options.match);
    this.timing.matchingMs = performance.now() - t;
    this.matches = m.count;
    if (m.count < needed) return this.fail(`${m.count} mutual matches, fewer than the ${needed} inliers a fit needs`);
    const src = new Float64Array(2 * m.count);
    const dst = new Float64Array(2 * m.count);
    for (let i = 0; i < m.count; i++) {
      src.set(photo.features.keypoints.subarray(2 * m.a[i]!, 2 * m.a[i]! + 2), 2 * i);
      dst.set(mapFeatures.keypoints.subarray(2 * m.b[i]!, 2 * m.b[i]! + 2), 2 * i);
    }
    t = performance.now();
    const fit = await this.worker.homography(src, dst, options.robust);
    this.inliers = fit.inliers.reduce((a, v) => a + v, 0);
    if (!fit.h) return this.done(t, this.fail(`OpenCV found no homography among ${m.count} matches`));
    const shortOfConsensus = `${this.inliers} inliers of ${m.count} matches, fewer than the ${minInliers} that make a consensus`;
    if (this.inliers < needed) return this.done(t, this.fail(shortOfConsensus));
    const h = fit.h;
    const ground = (x: number, y: number) => {
      const p = applyHomography(h, x, y);
      return windowToEnu(window, p.x, p.y);
    };
    const { camera } = photo;
    // a proper fit keeps the photo's corners in front of the camera and its outline convex, unmirrored
    const corners = [[0, 0], [camera.width, 0], [camera.width, camera.height], [0, camera.height]] as const;
    if (corners.some(([x, y]) => h[6]! * x + h[7]! * y + h[8]! <= 0) || !convexClockwise(corners.map(([x, y]) => applyHomography(h, x, y)))) {
      return this.done(t, this.fail(`the fit of ${this.inliers} inliers folds, mirrors or flips the photo: no consistent view`));
    }
    const pose = poseFrom(ground, camera);
    const free = poseFromPlane(ground, camera);
    const scale = pose.heightM / this.expectedHeightM;
    if (!(scale <= maxScaleFactor && scale >= 1 / maxScaleFactor)) {
      return this.done(t, this.fail(`the fit of ${this.inliers} inliers implies a height of ${pose.heightM.toFixed(0)} m, more than ${maxScaleFactor}× from the ${this.expectedHeightM.toFixed(0)} m assumed`));
    }
    const anisotropy = stretch(h, camera) * Math.cos((camera.pitchDeg * Math.PI) / 180);
    if (anisotropy > maxAnisotropy) {
      return this.done(t, this.fail(`the fit of ${this.inliers} inliers stretches the photo ${anisotropy.toFixed(2)}:1 beyond its pitch, more than ${maxAnisotropy}:1`));
    }
    let sq = 0;
    for (let i = 0; i < m.count; i++) {
      if (!fit.inliers[i]) continue;
      const p = applyHomography(h, src[2 * i]!, src[2 * i + 1]!);
      sq += (p.x - dst[2 * i]!) ** 2 + (p.y - dst[2 * i + 1]!) ** 2;
    }
    const reprojectionPx = Math.sqrt(sq / this.inliers);
    const inSrc = new Float64Array(2 * this.inliers);
    const inDst = new Float64Array(2 * this.inliers);
    const inlierPairs: InlierPair[] = [];
    for (let i = 0, k = 0; i < m.count; i++) {
      if (!fit.inliers[i]) continue;
      inSrc.set(src.subarray(2 * i, 2 * i + 2), 2 * k);
      inDst.set(dst.subarray(2 * i, 2 * i + 2), 2 * k++);
      const x = src[2 * i]!;
      const y = src[2 * i + 1]!;
      inlierPairs.push({ x, y, ...ground(x, y) });
    }
    const { bootstrapSamples, seed, tiltSigmaDeg, mapSigmaM, resolutionSigmaPx } = options.uncertainty;
    const resolutionSigmaM = resolutionSigmaPx * window.metersPerPixel;
    const refits = await this.worker.bootstrap(inSrc, inDst, bootstrapSamples, seed);
    const fixedRefits: Pose[] = [];
    const freeRefits: Pose[] = [];
    for (let r = 0; r < refits.length; r += 9) {
      const hr = refits.subarray(r, r + 9);
      const refitGround = (x: number, y: number) => {
        const p = applyHomography(hr, x, y);
        return windowToEnu(window, p.x, p.y);
      };
      fixedRefits.push(poseFrom(refitGround, camera));
      const f = free && poseFromPlane(refitGround, camera);
      if (f) freeRefits.push(f);
    }
    // the gimbal's pitch carries its own error into the position; a tilt the fit pins down clearly
    // better, and that the gimbal's report does not contradict, replaces it
    const withTelemetryTilt = poseUncertainty({ pose, refits: fixedRefits, tiltSigmaDeg, mapSigmaM, resolutionSigmaM });
    const withFittedTilt = free && freeRefits.length === fixedRefits.length ? poseUncertainty({ pose: free, refits: freeRefits, tiltSigmaDeg: 0, mapSigmaM, resolutionSigmaM }) : undefined;
    const fitted =
      withFittedTilt !== undefined &&
      withFittedTilt.radiusM <= FITTED_TILT_ADVANTAGE * withTelemetryTilt.radiusM &&
      Math.abs(free!.tiltDeg - camera.pitchDeg) <= TILT_AGREEMENT_SIGMAS * tiltSigmaDeg;
    const chosen = fitted ? free! : pose;
    const uncertainty = fitted ? withFittedTilt : withTelemetryTilt;
    this.timing.estimationMs = performance.now() - t;
    const result: Fit = { homography: h, pose: chosen, tiltDeg: fitted ? free!.tiltDeg : camera.pitchDeg, tiltFrom: fitted ? 'fit' : 'telemetry', uncertainty, reprojectionPx, reprojectionM: reprojectionPx * window.metersPerPixel, inlierPairs, matches: m.count, inliers: this.inliers, timing: this.timing };
    if (this.inliers < minInliers) return { ok: false, reason: shortOfConsensus, matches: m.count, inliers: this.inliers, timing: this.timing, tentative: result };
    return { ok: true, ...result };
  }

  private done(started: number, result: Registration): Registration {
    this.timing.estimationMs = performance.now() - started;
    return result;
  }
}

/** Corners in image order (top-left, top-right, bottom-right, bottom-left) turn the same way as the image's own, and the quad is convex. */
function convexClockwise(q: { x: number; y: number }[]): boolean {
  for (let i = 0; i < q.length; i++) {
    const a = q[i]!;
    const b = q[(i + 1) % q.length]!;
    const c = q[(i + 2) % q.length]!;
    if ((b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x) <= 0) return false;
  }
  return true;
}

/** Ratio of the larger to the smaller singular value of the fit's Jacobian at the photo's centre. */
function stretch(h: number[], camera: Camera): number {
  const cx = camera.width / 2;
  const cy = camera.height / 2;
  const o = applyHomography(h, cx, cy);
  const dx = applyHomography(h, cx + 1, cy);
  const dy = applyHomography(h, cx, cy + 1);
  const a = dx.x - o.x;
  const b = dy.x - o.x;
  const c = dx.y - o.y;
  const d = dy.y - o.y;
  const s1 = Math.hypot(a + d, c - b) / 2;
  const s2 = Math.hypot(a - d, c + b) / 2;
  return (s1 + s2) / Math.max(1e-12, Math.abs(s1 - s2));
}
