/**
 * Registration of one photo against one map window: the window's local features, mutual
 * nearest-neighbour matches with the photo's, OpenCV's robust homography, and the checks that
 * a fit has geometric consensus. A fit that passes becomes a pose with its uncertainty; one
 * that does not says why.
 */
import { performance } from 'node:perf_hooks';
import { applyHomography, poseFrom, poseUncertainty, type Camera, type Pose, type PoseUncertainty } from './cameraPose';
import type { FeatureWorker } from './featureWorkerClient';
import type { MatchOptions } from './featureMatching';
import type { RobustOptions } from './homographyFit';
import type { LocalFeatures } from './localFeatures';
import { windowToEnu, type MapWindow } from './mapWindow';

export interface ConsensusOptions {
  /** fewest RANSAC inliers of a fit that counts: chance matches of an unrelated view reach a handful */
  minInliers: number;
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
}

export interface RegistrationOptions {
  match: MatchOptions;
  robust: RobustOptions;
  consensus: ConsensusOptions;
  uncertainty: UncertaintyOptions;
}

export const DEFAULT_CONSENSUS: ConsensusOptions = { minInliers: 15, maxScaleFactor: 2, maxAnisotropy: 1.5 };
/** OpenCV's defaults for findHomography, with a threshold of a few pixels of a 640-px window */
export const DEFAULT_ROBUST: RobustOptions = { method: 'magsac', thresholdPx: 4, maxIters: 2000, confidence: 0.999 };
/**
 * 200 refits give the 95% radius to within about 10%; a stabilised gimbal points within about
 * 1° (the wildnav photos report −90.3° for nadir); the orthophotos geoloc is meant for are
 * georeferenced to about a metre
 */
export const DEFAULT_UNCERTAINTY: UncertaintyOptions = { bootstrapSamples: 200, seed: 14, tiltSigmaDeg: 1, mapSigmaM: 1 };

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

export type Registration =
  | (Evidence & {
      ok: true;
      /** photo pixels → window pixels */
      homography: number[];
      /** metres east and north of the window's centre */
      pose: Pose;
      uncertainty: PoseUncertainty;
      reprojectionPx: number;
      reprojectionM: number;
    })
  | (Evidence & { ok: false; reason: string });

export interface Photo {
  features: LocalFeatures;
  camera: Camera;
}

/** The height the window's scale was cut for: what a fit's own height is checked against. */
export function registerPhoto(
  worker: FeatureWorker,
  photo: Photo,
  window: MapWindow,
  expectedHeightM: number,
  options: RegistrationOptions,
): Promise<Registration> {
  return new WindowRegistration(worker, photo, window, expectedHeightM, options).run();
}

class WindowRegistration {
  private readonly timing: Timing = { featuresMs: 0, matchingMs: 0, estimationMs: 0 };
  private matches = 0;
  private inliers = 0;

  constructor(
    private readonly worker: FeatureWorker,
    private readonly photo: Photo,
    private readonly window: MapWindow,
    private readonly expectedHeightM: number,
    private readonly options: RegistrationOptions,
  ) {}

  private fail(reason: string): Registration {
    return { ok: false, reason, matches: this.matches, inliers: this.inliers, timing: this.timing };
  }

  async run(): Promise<Registration> {
    const { photo, window, options } = this;
    const { minInliers, maxScaleFactor, maxAnisotropy } = options.consensus;
    let t = performance.now();
    const mapFeatures = await this.worker.extract(window.rgb, window.width, window.height);
    this.timing.featuresMs = performance.now() - t;
    if (photo.features.count < minInliers) return this.fail(`the photo has ${photo.features.count} local features, fewer than the ${minInliers} a fit needs (featureless: flat, blurred or dark)`);
    if (mapFeatures.count < minInliers) return this.fail(`the map window has ${mapFeatures.count} local features, fewer than the ${minInliers} a fit needs`);
    t = performance.now();
    const m = await this.worker.match(photo.features, mapFeatures, options.match);
    this.timing.matchingMs = performance.now() - t;
    this.matches = m.count;
    if (m.count < minInliers) return this.fail(`${m.count} mutual matches, fewer than the ${minInliers} inliers a fit needs`);
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
    if (this.inliers < minInliers) return this.done(t, this.fail(`${this.inliers} inliers of ${m.count} matches, fewer than the ${minInliers} that make a consensus`));
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
    for (let i = 0, k = 0; i < m.count; i++) {
      if (!fit.inliers[i]) continue;
      inSrc.set(src.subarray(2 * i, 2 * i + 2), 2 * k);
      inDst.set(dst.subarray(2 * i, 2 * i + 2), 2 * k++);
    }
    const { bootstrapSamples, seed, tiltSigmaDeg, mapSigmaM } = options.uncertainty;
    const refits = await this.worker.bootstrap(inSrc, inDst, bootstrapSamples, seed);
    const poses: Pose[] = [];
    for (let r = 0; r < refits.length; r += 9) {
      const hr = refits.subarray(r, r + 9);
      poses.push(poseFrom((x, y) => {
        const p = applyHomography(hr, x, y);
        return windowToEnu(window, p.x, p.y);
      }, camera));
    }
    const uncertainty = poseUncertainty({ pose, refits: poses, tiltSigmaDeg, mapSigmaM });
    this.timing.estimationMs = performance.now() - t;
    return { ok: true, homography: h, pose, uncertainty, reprojectionPx, reprojectionM: reprojectionPx * window.metersPerPixel, matches: m.count, inliers: this.inliers, timing: this.timing };
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
