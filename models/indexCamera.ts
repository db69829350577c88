/**
 * The camera and altitude band an index is built for, and the tile scales they need. The model
 * sees a frame's centre square (the pipeline's default fit, 'crop'), so a tile is the ground
 * that square covers: the frame's shorter side, 2·alt·tan(hfov/2) / aspect for a landscape
 * frame. The scales run from the smallest footprint in the band (lowest altitude, narrowest
 * field of view) to the largest, no two neighbours further apart than `scaleStep`.
 */
import { GeolocError } from '../pipeline/core/errors';
import type { ScaleSpec } from './indexFiles';

export interface IndexCamera {
  /** horizontal field of view, degrees: [narrowest, widest] of the cameras the index serves */
  hfovDeg: [number, number];
  /** frame width ÷ height */
  aspect: number;
}

/** A typical survey drone: 4:3 photos, 70–84° across (24–35 mm equivalent lenses). */
export const DEFAULT_CAMERA: IndexCamera = { hfovDeg: [70, 84], aspect: 4 / 3 };
/** survey flights: 100 m up to the 120 m most rules allow and beyond, where allowed */
export const DEFAULT_ALTITUDES_M = [100, 300];
/**
 * Largest ratio between neighbouring tile footprints: a frame's footprint is then within about
 * 10% of some tile's, which the retrieval model tolerates.
 */
export const DEFAULT_SCALE_STEP = 1.2;
/** ratio tolerance when comparing footprints: float rounding must not add a scale */
const RATIO_TOLERANCE = 1e-9;
const MAX_HFOV_DEG = 180;
/** altitudes are recorded to the decimetre */
const ALTITUDE_DECIMALS = 1;

const DEG = Math.PI / 180;

/** Ground side of the frame's centre square from altitude `altitudeM`, metres. */
export function tileFootprintM(altitudeM: number, hfovDeg: number, aspect: number): number {
  return (2 * altitudeM * Math.tan((hfovDeg * DEG) / 2)) / Math.max(1, aspect);
}

/** Field of view across the frame's shorter side (what tracker.cameraFovDeg holds), degrees. */
export function shortSideFovDeg(hfovDeg: number, aspect: number): number {
  return (2 * Math.atan(Math.tan((hfovDeg * DEG) / 2) / Math.max(1, aspect))) / DEG;
}

/** "4:3", "16:9" or a plain ratio "1.333" → width ÷ height. */
export function parseAspect(text: string): number {
  const parts = text.split(':').map(Number);
  const ratio = parts.length === 2 ? parts[0]! / parts[1]! : parts.length === 1 ? parts[0]! : NaN;
  if (!(Number.isFinite(ratio) && ratio > 0)) throw new GeolocError('GEOLOC_ERR_USAGE', `--aspect must be width:height (e.g. 4:3) or a positive ratio, got ${JSON.stringify(text)}`);
  return ratio;
}

export function checkCamera(camera: IndexCamera, altitudesM: number[], scaleStep: number): void {
  const bad = (what: string, value: unknown) => new GeolocError('GEOLOC_ERR_USAGE', `${what}, got ${JSON.stringify(value)}`);
  const [lo, hi] = camera.hfovDeg;
  if (!(lo > 0 && hi < MAX_HFOV_DEG && lo <= hi)) throw bad(`hfov must be between 0 and ${MAX_HFOV_DEG} degrees (one value, or min,max)`, camera.hfovDeg);
  if (!(camera.aspect > 0 && Number.isFinite(camera.aspect))) throw bad('aspect must be a positive width:height', camera.aspect);
  if (altitudesM.length === 0 || !altitudesM.every((a) => Number.isFinite(a) && a > 0)) throw bad('altitudes must be positive metres', altitudesM);
  if (!(scaleStep > 1 && Number.isFinite(scaleStep))) throw bad('scale step must be a ratio above 1', scaleStep);
}

/**
 * The tile scales: each altitude given at the narrowest and widest field of view, and between
 * neighbours further apart than `scaleStep` as many evenly spaced (in ratio) as close the gap.
 * A scale's altitude is the one at which the band's middle field of view sees its footprint.
 */
export function scaleLadder(camera: IndexCamera, altitudesM: number[], scaleStep: number, overlap: number): ScaleSpec[] {
  const [lo, hi] = camera.hfovDeg;
  const anchors = [...new Set(altitudesM.flatMap((a) => [tileFootprintM(a, lo, camera.aspect), tileFootprintM(a, hi, camera.aspect)]))].sort((a, b) => a - b);
  const footprints = [anchors[0]!];
  for (const next of anchors.slice(1)) {
    const last = footprints[footprints.length - 1]!;
    if (next / last <= 1 + RATIO_TOLERANCE) continue;
    const steps = Math.max(1, Math.ceil(Math.log(next / last) / Math.log(scaleStep) - RATIO_TOLERANCE));
    for (let i = 1; i <= steps; i++) footprints.push(last * (next / last) ** (i / steps));
  }
  const perMetre = tileFootprintM(1, (lo + hi) / 2, camera.aspect);
  const round = 10 ** ALTITUDE_DECIMALS;
  return footprints.map((footprintM) => ({ altitudeM: Math.round((footprintM / perMetre) * round) / round, footprintM, strideM: footprintM * (1 - overlap) }));
}

/** What a running camera is, as far as the pipeline knows it. */
export interface ObservedCamera {
  /** field of view across the frame's shorter side (tracker.cameraFovDeg), degrees */
  shortSideFovDeg: number;
  /** the source's width ÷ height, when known */
  aspect?: number;
  /** altitudes above ground telemetry reports, metres */
  altitudesM?: number[];
}

/** how far a camera may be from the index's before it is worth a warning */
export const FIT_TOLERANCE = { fovDeg: 2, aspect: 0.02, altitude: 0.1 } as const;

/**
 * What differs between the index's camera and band and the running one, one phrase each
 * (empty when it fits): a field of view or altitude the tiles do not span, or another aspect.
 */
export function cameraMisfits(camera: IndexCamera, altitudesM: number[], observed: ObservedCamera): string[] {
  const misfits: string[] = [];
  const [lo, hi] = camera.hfovDeg.map((h) => shortSideFovDeg(h, camera.aspect)) as [number, number];
  const fov = observed.shortSideFovDeg;
  if (fov < lo - FIT_TOLERANCE.fovDeg || fov > hi + FIT_TOLERANCE.fovDeg) {
    misfits.push(`field of view across the frame's shorter side ${fov.toFixed(1)}°, the index's tiles span ${lo.toFixed(1)}–${hi.toFixed(1)}°`);
  }
  if (observed.aspect !== undefined && Math.abs(observed.aspect / camera.aspect - 1) > FIT_TOLERANCE.aspect) {
    misfits.push(`frame aspect ${observed.aspect.toFixed(3)}, the index's ${camera.aspect.toFixed(3)}`);
  }
  const flown = (observed.altitudesM ?? []).filter((a) => a > 0);
  if (flown.length > 0) {
    const low = Math.min(...flown);
    const high = Math.max(...flown);
    const bandLow = Math.min(...altitudesM);
    const bandHigh = Math.max(...altitudesM);
    if (low < bandLow * (1 - FIT_TOLERANCE.altitude) || high > bandHigh * (1 + FIT_TOLERANCE.altitude)) {
      misfits.push(`telemetry altitudes ${low.toFixed(0)}–${high.toFixed(0)} m, the index's band ${bandLow}–${bandHigh} m`);
    }
  }
  return misfits;
}

/** The `--hfov`, `--aspect` and `--altitudes` that would fit the running camera. */
export function rebuildFlags(camera: IndexCamera, altitudesM: number[], observed: ObservedCamera): string {
  const aspect = observed.aspect ?? camera.aspect;
  const half = Math.tan((observed.shortSideFovDeg * DEG) / 2) * Math.max(1, aspect);
  const hfov = (2 * Math.atan(half)) / DEG;
  const flown = (observed.altitudesM ?? []).filter((a) => a > 0);
  const band = [...altitudesM, ...flown];
  return `--hfov ${hfov.toFixed(1)} --aspect ${aspect.toFixed(3)} --altitudes ${Math.floor(Math.min(...band))},${Math.ceil(Math.max(...band))}`;
}
