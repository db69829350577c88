/**
 * A view of georeferenced imagery cut for registration: a rectangle of ground centred on a
 * point, its top facing a compass heading, at a chosen ground resolution. Over a window of a
 * few hundred metres the local tangent plane is flat to well under a map pixel, so window
 * pixels map to each raster's pixels through one affine transform fitted at three exact points.
 */
import { LocalFrame, type LatLon } from '../pipeline/geo/wgs84';
import type { GeoRaster, Imagery } from './imagerySource';

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

/** Affine coefficients [a, b, c, d, e, f]: raster px = a·x + b·y + c, py = d·x + e·y + f. */
type Affine = [number, number, number, number, number, number];

/** Cuts windows out of imagery, decoding each raster once, when a window first needs it. */
export class MapSampler {
  private readonly decoded = new Map<GeoRaster, Promise<Uint8Array>>();

  constructor(readonly imagery: Imagery) {}

  async window(spec: WindowSpec): Promise<MapWindow> {
    const { width, height } = spec;
    const frame = new LocalFrame(spec.centre);
    const rgb = new Uint8Array(width * height * RGB);
    const covered = new Uint8Array(width * height);
    for (const raster of this.imagery.rasters) {
      const t = this.affineTo(raster, spec, frame);
      if (!this.touches(t, raster, width, height)) continue;
      const pixels = await this.pixels(raster);
      const samples = Math.min(MAX_SUPERSAMPLE, Math.max(1, Math.ceil(spec.metersPerPixel / raster.metersPerPixel)));
      this.sample(t, raster, pixels, samples, rgb, covered, width, height);
    }
    const coverage = covered.reduce((a, v) => a + v, 0) / (width * height);
    return { ...spec, rgb, coverage };
  }

  private pixels(raster: GeoRaster): Promise<Uint8Array> {
    let p = this.decoded.get(raster);
    if (!p) {
      p = raster.rgb().then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
      this.decoded.set(raster, p);
    }
    return p;
  }

  private affineTo(raster: GeoRaster, spec: WindowSpec, frame: LocalFrame): Affine {
    const at = (x: number, y: number) => raster.georef.lonLatToPixel(windowToLatLon(spec, x, y, frame));
    const o = at(0, 0);
    const ex = at(spec.width, 0);
    const ey = at(0, spec.height);
    return [(ex.px - o.px) / spec.width, (ey.px - o.px) / spec.height, o.px, (ex.py - o.py) / spec.width, (ey.py - o.py) / spec.height, o.py];
  }

  /** Whether the window's outline, in raster pixels, overlaps the raster at all. */
  private touches(t: Affine, raster: GeoRaster, width: number, height: number): boolean {
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [x, y] of [[0, 0], [width, 0], [0, height], [width, height]] as const) {
      xs.push(t[0] * x + t[1] * y + t[2]);
      ys.push(t[3] * x + t[4] * y + t[5]);
    }
    return Math.max(...xs) > 0 && Math.min(...xs) < raster.width && Math.max(...ys) > 0 && Math.min(...ys) < raster.height;
  }

  /** Averages samples² bilinear samples per window pixel not yet covered by an earlier raster. */
  private sample(t: Affine, raster: GeoRaster, src: Uint8Array, samples: number, out: Uint8Array, covered: Uint8Array, width: number, height: number): void {
    const rw = raster.width;
    const rh = raster.height;
    const stride = rw * RGB;
    const acc = [0, 0, 0];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = y * width + x;
        if (covered[o]) continue;
        acc[0] = acc[1] = acc[2] = 0;
        let hits = 0;
        for (let sy = 0; sy < samples; sy++) {
          for (let sx = 0; sx < samples; sx++) {
            const wx = x + (sx + 0.5) / samples;
            const wy = y + (sy + 0.5) / samples;
            // raster pixel centres sit at +0.5
            const fx = t[0] * wx + t[1] * wy + t[2] - 0.5;
            const fy = t[3] * wx + t[4] * wy + t[5] - 0.5;
            if (!(fx >= 0 && fy >= 0 && fx < rw - 1 && fy < rh - 1)) continue;
            const x0 = fx | 0;
            const y0 = fy | 0;
            const ax = fx - x0;
            const ay = fy - y0;
            const i = y0 * stride + x0 * RGB;
            for (let c = 0; c < RGB; c++) {
              const top = src[i + c]! + (src[i + RGB + c]! - src[i + c]!) * ax;
              const bottom = src[i + stride + c]! + (src[i + stride + RGB + c]! - src[i + stride + c]!) * ax;
              acc[c]! += top + (bottom - top) * ay;
            }
            hits++;
          }
        }
        if (hits === 0) continue;
        covered[o] = 1;
        for (let c = 0; c < RGB; c++) out[o * RGB + c] = Math.round(acc[c]! / hits);
      }
    }
  }
}
