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
/** pivots smaller than this leave the four-point system singular (three points in a line) */
const SINGULAR = 1e-12;

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

/**
 * The drone's pose from the same ground map with the camera's tilt left free: the map is a
 * plane-to-image homography, which with the known focal length fixes the camera's rotation and
 * position (Zhang's planar pose). The tilt then comes from the perspective the matches show
 * instead of the gimbal's report, so its error is in the fit's spread, which the bootstrap sees.
 * `tiltDeg` is the optical axis's angle from straight down. Undefined for a degenerate map.
 */
export function poseFromPlane(ground: GroundMap, camera: Camera): (Pose & { tiltDeg: number }) | undefined {
  const { width, height } = camera;
  const corners = [[0, 0], [width, 0], [width, height], [0, height]] as const;
  const footprint = corners.map(([x, y]) => ground(x, y));
  // ground (e, n, 1) → photo pixels: the inverse of the photo → ground map, fitted at its corners
  const toPhoto = homographyFrom(footprint.map((g) => [g.e, g.n] as const), corners);
  if (!toPhoto) return undefined;
  const f = focalPx(camera);
  const cx = width / 2;
  const cy = height / 2;
  // K⁻¹·H = λ[r1 r2 t]: columns of the homography in camera rays (x right, y down, z forward)
  const col = (j: number) => {
    const hx = toPhoto[j]!;
    const hy = toPhoto[3 + j]!;
    const hz = toPhoto[6 + j]!;
    return [(hx - cx * hz) / f, (hy - cy * hz) / f, hz];
  };
  const b1 = col(0);
  const b2 = col(1);
  const b3 = col(2);
  const n1 = Math.hypot(...b1);
  const n2 = Math.hypot(...b2);
  if (!(n1 > 0 && n2 > 0)) return undefined;
  // the photo's own ground points lie in front of the camera: their homogeneous w is positive
  const g = footprint[0]!;
  const lambda = Math.sign(toPhoto[6]! * g.e + toPhoto[7]! * g.n + toPhoto[8]!) / Math.sqrt(n1 * n2);
  const r1 = normalize(b1.map((v) => v * lambda));
  const r2raw = b2.map((v) => v * lambda);
  const along = dot(r1, r2raw);
  const r2 = normalize(r2raw.map((v, i) => v - along * r1[i]!));
  const r3 = cross(r1, r2);
  const t = b3.map((v) => v * lambda);
  // world axes (east, north, up) in camera coordinates are r1, r2, r3: the centre is −Rᵀt
  const centre = [-dot(r1, t), -dot(r2, t), -dot(r3, t)];
  const heightM = centre[2]!;
  if (!(heightM > 0)) return undefined;
  // the image's up (−y) and the optical axis (z) in world coordinates: rows of R
  const upE = -r1[1]!;
  const upN = -r2[1]!;
  const axisUp = r3[2]!;
  const headingDeg = (Math.atan2(upE, upN) / DEG + FULL_TURN_DEG) % FULL_TURN_DEG;
  const tiltDeg = Math.acos(Math.max(-1, Math.min(1, -axisUp))) / DEG;
  return { e: centre[0]!, n: centre[1]!, headingDeg, heightM, footprint, tiltDeg };
}

/** The homography taking four points exactly onto four others (h33 = 1), or undefined when three are collinear. */
function homographyFrom(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): number[] | undefined {
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = src[i]!;
    const [u, v] = dst[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  const h = solveAugmented(a);
  return h ? [...h, 1] : undefined;
}

/** Gauss–Jordan elimination with partial pivoting on an n × (n + 1) augmented matrix. */
function solveAugmented(a: number[][]): number[] | undefined {
  const n = a.length;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    if (Math.abs(a[pivot]![c]!) < SINGULAR) return undefined;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    const row = a[c]!;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const k = a[r]![c]! / row[c]!;
      if (k !== 0) for (let j = c; j <= n; j++) a[r]![j]! -= k * row[j]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}

const dot = (a: number[], b: number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
const cross = (a: number[], b: number[]) => [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
function normalize(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
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
  /**
   * 1-σ of where matched points sit on the ground beyond what the bootstrap sees, metres: a
   * detector places keypoints to a fraction of its map window's pixel, and neighbouring
   * matches share that error, which resampling them cannot reveal
   */
  resolutionSigmaM: number;
}

/**
 * The position's 95% circle: the bootstrap's covariance of the position (how far the fit moves
 * with the evidence it rests on: inlier count, residuals and their layout), plus the tilt, map
 * and resolution terms, isotropic; the circle's radius is that of the ellipse's long axis, so it holds
 * 95% or more in every direction.
 */
export function poseUncertainty({ pose, refits, tiltSigmaDeg, mapSigmaM, resolutionSigmaM }: UncertaintyInputs): PoseUncertainty {
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
  const iso = (pose.heightM * Math.tan(tiltSigmaDeg * DEG)) ** 2 + mapSigmaM ** 2 + resolutionSigmaM ** 2;
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
