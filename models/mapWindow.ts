/**
 * A view of georeferenced imagery cut for registration: a rectangle of ground centred on a
 * point, its top facing a compass heading, at a chosen ground resolution. Over a window of a
 * few hundred metres the local tangent plane is flat to well under a map pixel, so window
 * pixels map to the imagery's pixels through one affine transform fitted at three exact points.
 */
import { LocalFrame, type LatLon } from '../pipeline/geo/wgs84';
import type { Imagery } from './imagerySource';
import { readLevel, readPatch, samplePatch, type Affine, type Patch } from './patch';

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
    const { width, height } = spec;
    const rgb = new Uint8Array(width * height * RGB);
    const t = this.affineTo(spec, new LocalFrame(spec.centre));
    const patch = await this.patch(t, spec);
    let covered = 0;
    if (patch) {
      const samples = Math.min(MAX_SUPERSAMPLE, Math.max(1, Math.ceil(spec.metersPerPixel / (this.imagery.metersPerPixel * patch.scaleX))));
      covered = samplePatch(t, patch, samples, rgb, width, height);
    }
    return { ...spec, rgb, coverage: covered / (width * height) };
  }

  private affineTo(spec: WindowSpec, frame: LocalFrame): Affine {
    const at = (x: number, y: number) => this.imagery.georef.lonLatToPixel(windowToLatLon(spec, x, y, frame));
    const o = at(0, 0);
    const ex = at(spec.width, 0);
    const ey = at(0, spec.height);
    return [(ex.px - o.px) / spec.width, (ey.px - o.px) / spec.height, o.px, (ex.py - o.py) / spec.width, (ey.py - o.py) / spec.height, o.py];
  }

  /** The raster pixels under the window's outline, or undefined off the imagery. */
  private patch(t: Affine, spec: WindowSpec): Promise<Patch | undefined> {
    const corners = [[0, 0], [spec.width, 0], [0, spec.height], [spec.width, spec.height]] as const;
    const xs = corners.map(([x, y]) => t[0] * x + t[1] * y + t[2]);
    const ys = corners.map(([x, y]) => t[3] * x + t[4] * y + t[5]);
    return readPatch(this.imagery, xs, ys, readLevel(this.imagery, spec.metersPerPixel), MIN_PATCH_SIDE_PX);
  }

}
