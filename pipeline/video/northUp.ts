/**
 * Samples a frame into the model's square RGB input, turned north-up by the compass heading its
 * camera faced, so that it looks like the north-up satellite tiles it is matched against.
 */
import { GeolocError } from '../core/errors';
import type { Frame } from '../core/types';
import { frameBytes, yuvToRgbFactors } from './pixelFormat';
import type { Rgb, YuvMatrix } from '../core/types';

const RGB_CHANNELS = 3;
const CHROMA_MID = 128;
const LUMA_BLACK = 16;
/** Stands in for an RGB frame's (unused) matrix. */
const NO_MATRIX: YuvMatrix = { name: 'none', kr: 0, kb: 0 };

/**
 * Writes `frame` as size × size packed RGB into `out` at `offset`: the centre square of the
 * frame's shorter side, turned so that north is up, sampled bilinearly (colour too, from
 * 4:2:0 planes). What falls outside the frame is `fill` (for a model, its mean colour, which
 * it reads as 0: see meanColour). A frame whose pixels do not
 * fill its size fails with GEOLOC_ERR_TENSOR_SHAPE.
 *
 * Output pixel (x, y), taken as an offset (dx, dy) from the centre of a north-up output, shows
 * the ground that the source (top facing `heading`) holds at offset
 * (dx·cos h + dy·sin h, −dx·sin h + dy·cos h), scaled by the source pixels per output pixel.
 * Along a row the source position moves by a constant step, so it is advanced, not recomputed.
 */
export function writeNorthUp(frame: Frame, size: number, headingRad: number, fill: Rgb, out: Uint8Array, offset: number): void {
  const { width, height, pixels: px } = frame;
  const expected = frameBytes(frame.format, width, height);
  if (px.length !== expected) {
    throw new GeolocError('GEOLOC_ERR_TENSOR_SHAPE', `frame ${frame.index} is ${width}×${height} ${frame.format}, which takes ${expected} bytes, but holds ${px.length}`);
  }
  // a clamped view rounds and clips each value on assignment
  const target = new Uint8ClampedArray(out.buffer, out.byteOffset + offset, size * size * RGB_CHANNELS);
  const scale = Math.min(width, height) / size;
  const cos = Math.cos(headingRad) * scale;
  const sin = Math.sin(headingRad) * scale;
  const half = size / 2;
  const dx0 = 0.5 - half;
  // the last position with a right and a lower neighbour to blend with
  const maxX = width - 1;
  const maxY = height - 1;
  const [fillR, fillG, fillB] = fill;
  const rgbStride = width * RGB_CHANNELS;
  // 4:2:0 planes and conversion (unused for RGB): both are sampled inline, as calls per pixel cost twice the time
  const yuv = frame.format === 'yuv420p';
  const { y: lumaScale, rv, gu, gv, bu } = yuvToRgbFactors(yuv ? frame.matrix : NO_MATRIX);
  const chromaW = width >> 1;
  const lastChromaX = chromaW - 1;
  const lastChromaY = (height >> 1) - 1;
  const uPlane = width * height;
  const vPlane = uPlane + chromaW * (height >> 1);
  let o = 0;
  for (let y = 0; y < size; y++) {
    const dy = y + 0.5 - half;
    // source coordinates of pixel centres: continuous position minus 0.5
    let sx = width / 2 - 0.5 + dx0 * cos + dy * sin;
    let sy = height / 2 - 0.5 - dx0 * sin + dy * cos;
    for (let x = 0; x < size; x++, o += RGB_CHANNELS, sx += cos, sy -= sin) {
      if (!(sx >= 0 && sy >= 0 && sx < maxX && sy < maxY)) {
        target[o] = fillR;
        target[o + 1] = fillG;
        target[o + 2] = fillB;
        continue;
      }
      // non-negative here, so truncation is floor
      const x0 = sx | 0;
      const y0 = sy | 0;
      const fx = sx - x0;
      const fy = sy - y0;
      if (!yuv) {
        const i00 = y0 * rgbStride + x0 * RGB_CHANNELS;
        const i10 = i00 + RGB_CHANNELS;
        const i01 = i00 + rgbStride;
        const i11 = i01 + RGB_CHANNELS;
        const r0 = px[i00]! + (px[i10]! - px[i00]!) * fx;
        const g0 = px[i00 + 1]! + (px[i10 + 1]! - px[i00 + 1]!) * fx;
        const b0 = px[i00 + 2]! + (px[i10 + 2]! - px[i00 + 2]!) * fx;
        const r1 = px[i01]! + (px[i11]! - px[i01]!) * fx;
        const g1 = px[i01 + 1]! + (px[i11 + 1]! - px[i01 + 1]!) * fx;
        const b1 = px[i01 + 2]! + (px[i11 + 2]! - px[i01 + 2]!) * fx;
        target[o] = r0 + (r1 - r0) * fy;
        target[o + 1] = g0 + (g1 - g0) * fy;
        target[o + 2] = b0 + (b1 - b0) * fy;
        continue;
      }
      const i00 = y0 * width + x0;
      const i01 = i00 + width;
      const l0 = px[i00]! + (px[i00 + 1]! - px[i00]!) * fx;
      const l1 = px[i01]! + (px[i01 + 1]! - px[i01]!) * fx;
      const luma = (l0 + (l1 - l0) * fy - LUMA_BLACK) * lumaScale;
      // chroma sits where ffmpeg's scale filter, which wrote these planes, puts it: centred on
      // each 2×2 block of luma (ffmpeg 5 does so whatever chroma location the stream declares),
      // so luma position (sx, sy) is chroma position (sx/2 − 1/4, sy/2 − 1/4)
      const cx = sx > 0.5 ? sx * 0.5 - 0.25 : 0;
      const cy = sy > 0.5 ? sy * 0.5 - 0.25 : 0;
      const cx0 = cx | 0;
      const cy0 = cy | 0;
      const gx = cx - cx0;
      const gy = cy - cy0;
      const c00 = cy0 * chromaW + cx0;
      const c10 = c00 + (cx0 < lastChromaX ? 1 : 0);
      const c01 = c00 + (cy0 < lastChromaY ? chromaW : 0);
      const c11 = c01 + (c10 - c00);
      const u0 = px[uPlane + c00]! + (px[uPlane + c10]! - px[uPlane + c00]!) * gx;
      const u1 = px[uPlane + c01]! + (px[uPlane + c11]! - px[uPlane + c01]!) * gx;
      const v0 = px[vPlane + c00]! + (px[vPlane + c10]! - px[vPlane + c00]!) * gx;
      const v1 = px[vPlane + c01]! + (px[vPlane + c11]! - px[vPlane + c01]!) * gx;
      const u = u0 + (u1 - u0) * gy - CHROMA_MID;
      const v = v0 + (v1 - v0) * gy - CHROMA_MID;
      target[o] = luma + rv * v;
      target[o + 1] = luma - gu * u - gv * v;
      target[o + 2] = luma + bu * u;
    }
  }
}
