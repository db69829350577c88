/**
 * Imagery pixels read under a window (a patch), and sampling them into another grid through
 * an affine map, with supersampling where the grid is coarser than the patch. Map windows
 * for registration and the gateway's map tiles are cut this way.
 */
import type { Imagery } from './imagerySource';

/** Affine coefficients [a, b, c, d, e, f]: raster px = a·x + b·y + c, py = d·x + e·y + f. */
export type Affine = [number, number, number, number, number, number];

/** Pixels read from the imagery, `scaleX`/`scaleY` raster pixels each, from raster pixel (left, top). */
export interface Patch {
  left: number;
  top: number;
  scaleX: number;
  scaleY: number;
  width: number;
  height: number;
  rgb: Uint8Array;
  valid: Uint8Array;
}

const RGB = 3;

/**
 * The imagery pixels under an outline given by its corners in raster pixels (one pixel of
 * margin), read at `level` raster pixels to a patch pixel (GDAL averages, or takes the source's
 * overviews), so memory follows the outline, not the image. Undefined when less than `minSide`
 * pixels of it each way fall on the imagery.
 */
export async function readPatch(imagery: Imagery, xs: number[], ys: number[], level: number, minSide: number): Promise<Patch | undefined> {
  const left = Math.max(0, Math.floor(Math.min(...xs)) - 1);
  const top = Math.max(0, Math.floor(Math.min(...ys)) - 1);
  const right = Math.min(imagery.width, Math.ceil(Math.max(...xs)) + 1);
  const bottom = Math.min(imagery.height, Math.ceil(Math.max(...ys)) + 1);
  if (right - left < minSide || bottom - top < minSide) return undefined;
  const w = Math.max(minSide, Math.ceil((right - left) / level));
  const h = Math.max(minSide, Math.ceil((bottom - top) / level));
  const read = await imagery.read({ left, top, width: right - left, height: bottom - top }, w, h);
  return { left, top, scaleX: (right - left) / w, scaleY: (bottom - top) / h, width: w, height: h, rgb: read.rgb, valid: read.valid };
}

/** The coarsest power-of-two reading level still as fine as `metersPerPixel` wanted. */
export function readLevel(imagery: Pick<Imagery, 'metersPerPixel'>, metersPerPixel: number): number {
  return 2 ** Math.max(0, Math.floor(Math.log2(metersPerPixel / imagery.metersPerPixel)));
}

/**
 * Averages samples² bilinear samples per output pixel; returns how many output pixels fell
 * on valid imagery (the others stay black). Written flat: it runs for every pixel of a window.
 */
export function samplePatch(t: Affine, p: Patch, samples: number, out: Uint8Array, width: number, height: number): number {
  const [ta, tb, tc, td, te, tf] = t;
  const { rgb, valid, left, top, scaleX, scaleY } = p;
  const pw = p.width;
  const maxX = pw - 1;
  const maxY = p.height - 1;
  const stride = pw * RGB;
  let covered = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let hits = 0;
      for (let sy = 0; sy < samples; sy++) {
        const wy = y + (sy + 0.5) / samples;
        for (let sx = 0; sx < samples; sx++) {
          const wx = x + (sx + 0.5) / samples;
          // patch pixel centres sit at +0.5
          const fx = (ta * wx + tb * wy + tc - left) / scaleX - 0.5;
          const fy = (td * wx + te * wy + tf - top) / scaleY - 0.5;
          if (!(fx >= 0 && fy >= 0 && fx < maxX && fy < maxY)) continue;
          const x0 = fx | 0;
          const y0 = fy | 0;
          if (valid[y0 * pw + x0] === 0) continue;
          const ax = fx - x0;
          const ay = fy - y0;
          const i = y0 * stride + x0 * RGB;
          const j = i + stride;
          const w00 = (1 - ax) * (1 - ay);
          const w10 = ax * (1 - ay);
          const w01 = (1 - ax) * ay;
          const w11 = ax * ay;
          r += rgb[i]! * w00 + rgb[i + RGB]! * w10 + rgb[j]! * w01 + rgb[j + RGB]! * w11;
          g += rgb[i + 1]! * w00 + rgb[i + RGB + 1]! * w10 + rgb[j + 1]! * w01 + rgb[j + RGB + 1]! * w11;
          b += rgb[i + 2]! * w00 + rgb[i + RGB + 2]! * w10 + rgb[j + 2]! * w01 + rgb[j + RGB + 2]! * w11;
          hits++;
        }
      }
      if (hits === 0) continue;
      covered++;
      const o = (y * width + x) * RGB;
      out[o] = Math.round(r / hits);
      out[o + 1] = Math.round(g / hits);
      out[o + 2] = Math.round(b / hits);
    }
  }
  return covered;
}
