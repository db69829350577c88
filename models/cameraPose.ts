/**
 * The drone's pose from a homography that takes photo pixels to ground metres (east, north of
 * a reference point), for a pinhole camera of known horizontal field of view, tilted `pitchDeg`
 * forward from straight down (0: nadir), with the conventions of fixtures/render/camera.ts:
 *   - the optical axis meets the ground at the image centre's ground point; the camera stands
 *     back from it, against the heading, by height·tan(pitch) (at nadir: right above it);
 *   - heading: the compass direction of the image's up at its centre;
 *   - height: the image's horizontal scale at its centre is (distance along the axis) / focal,
 *     the focal length in pixels being (width / 2) / tan(hfov / 2); height = distance·cos(pitch).
 */

export type GroundMap = (x: number, y: number) => { e: number; n: number };

export interface Camera {
  width: number;
  height: number;
  hfovDeg: number;
  pitchDeg: number;
}

export interface Pose {
  /** east, north metres of the camera's ground position */
  e: number;
  n: number;
  headingDeg: number;
  heightM: number;
  /** ground points of the image corners: top-left, top-right, bottom-right, bottom-left */
  footprint: { e: number; n: number }[];
}

const DEG = Math.PI / 180;
const FULL_TURN_DEG = 360;
/** step of the numerical derivatives at the centre, photo pixels: small against the image, large against rounding */
const STEP_PX = 1;

export function focalPx(camera: Pick<Camera, 'width' | 'hfovDeg'>): number {
  return camera.width / 2 / Math.tan((camera.hfovDeg * DEG) / 2);
}

export function poseFrom(ground: GroundMap, camera: Camera): Pose {
  const cx = camera.width / 2;
  const cy = camera.height / 2;
  const axis = ground(cx, cy);
  const up = ground(cx, cy - STEP_PX);
  const right = ground(cx + STEP_PX, cy);
  const headingDeg = (Math.atan2(up.e - axis.e, up.n - axis.n) / DEG + FULL_TURN_DEG) % FULL_TURN_DEG;
  const metersPerPx = Math.hypot(right.e - axis.e, right.n - axis.n) / STEP_PX;
  const pitch = camera.pitchDeg * DEG;
  const heightM = metersPerPx * focalPx(camera) * Math.cos(pitch);
  const back = heightM * Math.tan(pitch);
  const h = headingDeg * DEG;
  const footprint = [ground(0, 0), ground(camera.width, 0), ground(camera.width, camera.height), ground(0, camera.height)];
  return { e: axis.e - back * Math.sin(h), n: axis.n - back * Math.cos(h), headingDeg, heightM, footprint };
}

export function applyHomography(h: ArrayLike<number>, x: number, y: number): { x: number; y: number } {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return { x: (h[0]! * x + h[1]! * y + h[2]!) / w, y: (h[3]! * x + h[4]! * y + h[5]!) / w };
}

/** χ² with 2 degrees of freedom at 95%: a 2-D Gaussian's 95% ellipse is Σ scaled by it */
const CHI2_2D_95 = 5.991;
/** two-sided 95% of a 1-D Gaussian */
const Z_95 = 1.96;

export interface PoseUncertainty {
  /** radius of a circle round the position that holds it with 95% probability (metres) */
  radiusM: number;
  /** the position's covariance the radius is drawn from, m²: [north·north, north·east, east·east] */
  covarianceM2: [nn: number, ne: number, ee: number];
  headingDeg95: number;
  heightM95: number;
  /** refits the spread was measured over */
  samples: number;
}

export interface UncertaintyInputs {
  pose: Pose;
  /** the pose from each bootstrap refit of the inliers */
  refits: Pose[];
  /**
   * 1-σ of the camera's tilt from the pitch assumed (gimbal error, a frame off nadir): it moves
   * the ground point under the camera by height·tan(σ) in any direction, which no fit sees
   */
  tiltSigmaDeg: number;
  /** 1-σ of the map's own georeferencing, metres: the registration cannot be better than its map */
  mapSigmaM: number;
}

/**
 * The position's 95% circle: the bootstrap's covariance of the position (how far the fit moves
 * with the evidence it rests on: inlier count, residuals and their layout), plus the tilt and
 * map terms, isotropic; the circle's radius is that of the ellipse's long axis, so it holds
 * 95% or more in every direction.
 */
export function poseUncertainty({ pose, refits, tiltSigmaDeg, mapSigmaM }: UncertaintyInputs): PoseUncertainty {
  const n = refits.length;
  let see = 0;
  let snn = 0;
  let sen = 0;
  let sh = 0;
  let sz = 0;
  for (const r of refits) {
    const de = r.e - pose.e;
    const dn = r.n - pose.n;
    see += de * de;
    snn += dn * dn;
    sen += de * dn;
    const dh = ((r.headingDeg - pose.headingDeg + 540) % 360) - 180;
    sh += dh * dh;
    sz += (r.heightM - pose.heightM) ** 2;
  }
  const div = Math.max(1, n - 1);
  const iso = (pose.heightM * Math.tan(tiltSigmaDeg * DEG)) ** 2 + mapSigmaM ** 2;
  const a = see / div + iso;
  const d = snn / div + iso;
  const b = sen / div;
  const largest = (a + d) / 2 + Math.sqrt(((a - d) / 2) ** 2 + b * b);
  return {
    radiusM: Math.sqrt(CHI2_2D_95 * largest),
    covarianceM2: [d, b, a],
    headingDeg95: Z_95 * Math.sqrt(sh / div),
    heightM95: Z_95 * Math.sqrt(sz / div),
    samples: n,
  };
}
