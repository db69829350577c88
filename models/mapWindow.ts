/**
 * A view of georeferenced imagery cut for registration: a rectangle of ground centred on a
 * point, its top facing a compass heading, at a chosen ground resolution. Over a window of a
 * few hundred metres the local tangent plane is flat to well under a map pixel, so window
 * pixels map to the imagery's pixels through one affine transform fitted at three exact points.
 */
import { LocalFrame, type LatLon } from '../pipeline/geo/wgs84';
import type { Imagery } from './imagerySource';
import { readLevel, readPatch, samplePatch, type Affine } from './patch';

export interface WindowSpec {
  centre: LatLon;
  /** compass degrees the window's top faces */
  headingDeg: number;
  metersPerPixel: number;
  width: number;
  height: number;
}

export interface MapWindow extends WindowSpec {
  /** packed RGB; ground no raster covers is black, where no detector finds anything */
  rgb: Uint8Array;
  /** share of the window's pixels that some raster covers */
  coverage: number;
}

const RGB = 3;
/** samples per side averaged into a window pixel at most, when the window is coarser than the imagery */
const MAX_SUPERSAMPLE = 4;
const DEG = Math.PI / 180;

/** East/north metres from the window's centre of window point (x, y) (corner-based pixels). */
export function windowToEnu(w: WindowSpec, x: number, y: number): { e: number; n: number } {
  const right = (x - w.width / 2) * w.metersPerPixel;
  const up = (w.height / 2 - y) * w.metersPerPixel;
  const s = Math.sin(w.headingDeg * DEG);
  const c = Math.cos(w.headingDeg * DEG);
  // the window's up is the heading's direction, its right 90° clockwise from it
  return { e: up * s + right * c, n: up * c - right * s };
}

export function windowToLatLon(w: WindowSpec, x: number, y: number, frame = new LocalFrame(w.centre)): LatLon {
  const { e, n } = windowToEnu(w, x, y);
  const p = frame.fromEnu({ e, n, u: 0 });
  return { lat: p.lat, lon: p.lon };
}

/** Bilinear sampling needs two pixels each way */
const MIN_PATCH_SIDE_PX = 2;

/**
 * Cuts windows out of imagery. Each window reads only the raster pixels under it, at the
 * coarsest power-of-two level still as fine as the window (GDAL averages, or takes the
 * source's overviews), so memory follows the window, not the image.
 */
export class MapSampler {
  constructor(readonly imagery: Imagery) {}

  async window(spec: WindowSpec): Promise<MapWindow> {
    return (await this.windows([spec]))[0]!;
  }

  /**
   * Windows of one ground resolution cut from a single read of the raster pixels under all of
   * them: neighbouring windows share their edges, and one read decodes and warps each source
   * block once instead of once per window. Memory follows the windows' union, so callers pass
   * windows that lie together (one partition cell's, say).
   */
  async windows(specs: WindowSpec[]): Promise<MapWindow[]> {
    if (specs.length === 0) return [];
    const metersPerPixel = specs[0]!.metersPerPixel;
    if (specs.some((s) => s.metersPerPixel !== metersPerPixel)) throw new Error('MapSampler.windows takes windows of one ground resolution');
    const transforms = specs.map((spec) => this.affineTo(spec, new LocalFrame(spec.centre)));
    const xs: number[] = [];
    const ys: number[] = [];
    specs.forEach((spec, i) => {
      const t = transforms[i]!;
      for (const [x, y] of [[0, 0], [spec.width, 0], [0, spec.height], [spec.width, spec.height]] as const) {
        xs.push(t[0] * x + t[1] * y + t[2]);
        ys.push(t[3] * x + t[4] * y + t[5]);
      }
    });
    const patch = await readPatch(this.imagery, xs, ys, readLevel(this.imagery, metersPerPixel), MIN_PATCH_SIDE_PX);
    return specs.map((spec, i) => {
      const rgb = new Uint8Array(spec.width * spec.height * RGB);
      let covered = 0;
      if (patch) {
        const samples = Math.min(MAX_SUPERSAMPLE, Math.max(1, Math.ceil(spec.metersPerPixel / (this.imagery.metersPerPixel * patch.scaleX))));
        covered = samplePatch(transforms[i]!, patch, samples, rgb, spec.width, spec.height);
      }
      return { ...spec, rgb, coverage: covered / (spec.width * spec.height) };
    });
  }

  private affineTo(spec: WindowSpec, frame: LocalFrame): Affine {
    const at = (x: number, y: number) => this.imagery.georef.lonLatToPixel(windowToLatLon(spec, x, y, frame));
    const o = at(0, 0);
    const ex = at(spec.width, 0);
    const ey = at(0, spec.height);
    return [(ex.px - o.px) / spec.width, (ey.px - o.px) / spec.height, o.px, (ex.py - o.py) / spec.width, (ey.py - o.py) / spec.height, o.py];
  }
}
