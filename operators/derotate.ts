import { map, type OperatorFunction } from 'rxjs';
import { GeolocError } from '../pipeline/errors';
import type { Frame } from '../pipeline/types';

/** The colour outside the camera's view after rotating: the normalisation mean, which the model reads as 0. */
const FILL_RGB = [124, 116, 104] as const;
const RGB_CHANNELS = 3;
const DEG = Math.PI / 180;

export interface DerotateOptions<F extends Frame> {
  /** side of the square output (the model's input), pixels */
  size: number;
  /** source pixels per output pixel: the source frame is this much finer than the output */
  oversample: number;
  /** degrees clockwise from north that the top of the frame faces; undefined = leave as is */
  headingDeg: (frame: F) => number | undefined;
}

/**
 * Turns each frame north-up using the compass heading its camera faced, so it looks like the
 * north-up satellite tiles it is matched against. The output is the centre square of the
 * frame's shorter side (as a plain centre crop would be), sampled bilinearly from a source
 * `oversample` times finer; what falls outside the frame is filled with the mean colour.
 */
export function derotate<F extends Frame>(options: DerotateOptions<F>): OperatorFunction<F, F> {
  const { size, oversample } = options;
  if (!Number.isInteger(size) || size < 1 || !(oversample > 0)) {
    throw new GeolocError('GEOLOC_ERR_PIPELINE_CONFIG', `derotate: size must be a whole number ≥ 1 and oversample > 0 (got ${size}, ${oversample})`);
  }
  return map((frame) => {
    const heading = options.headingDeg(frame) ?? 0;
    return { ...frame, width: size, height: size, rgb: rotateCentre(frame, size, oversample, heading * DEG) };
  });
}

/**
 * Output pixel (x, y), taken as an offset (dx, dy) from the centre in a north-up frame, shows
 * the ground that the source (top facing `heading`) holds at offset
 * (dx·cos h + dy·sin h, −dx·sin h + dy·cos h), scaled by `oversample`. Along a row the source
 * position moves by a constant step, so it is advanced, not recomputed, per pixel.
 */
function rotateCentre(frame: Frame, size: number, oversample: number, heading: number): Buffer {
  const { width, height, rgb } = frame;
  const out = Buffer.allocUnsafe(size * size * RGB_CHANNELS);
  const cos = Math.cos(heading) * oversample;
  const sin = Math.sin(heading) * oversample;
  const half = size / 2;
  const stride = width * RGB_CHANNELS;
  // the last position with a right and a lower neighbour to blend with
  const maxX = width - 1;
  const maxY = height - 1;
  const [fillR, fillG, fillB] = FILL_RGB;
  let o = 0;
  for (let y = 0; y < size; y++) {
    const dy = y + 0.5 - half;
    const dx0 = 0.5 - half;
    // source coordinates of pixel centres: continuous position minus 0.5
    let sx = width / 2 - 0.5 + dx0 * cos + dy * sin;
    let sy = height / 2 - 0.5 - dx0 * sin + dy * cos;
    for (let x = 0; x < size; x++, o += RGB_CHANNELS, sx += cos, sy -= sin) {
      if (!(sx >= 0 && sy >= 0 && sx < maxX && sy < maxY)) {
        out[o] = fillR;
        out[o + 1] = fillG;
        out[o + 2] = fillB;
        continue;
      }
      // non-negative here, so truncation is floor
      const x0 = sx | 0;
      const y0 = sy | 0;
      const fx = sx - x0;
      const fy = sy - y0;
      const i00 = y0 * stride + x0 * RGB_CHANNELS;
      const i10 = i00 + RGB_CHANNELS;
      const i01 = i00 + stride;
      const i11 = i01 + RGB_CHANNELS;
      const r0 = rgb[i00]! + (rgb[i10]! - rgb[i00]!) * fx;
      const g0 = rgb[i00 + 1]! + (rgb[i10 + 1]! - rgb[i00 + 1]!) * fx;
      const b0 = rgb[i00 + 2]! + (rgb[i10 + 2]! - rgb[i00 + 2]!) * fx;
      const r1 = rgb[i01]! + (rgb[i11]! - rgb[i01]!) * fx;
      const g1 = rgb[i01 + 1]! + (rgb[i11 + 1]! - rgb[i01 + 1]!) * fx;
      const b1 = rgb[i01 + 2]! + (rgb[i11 + 2]! - rgb[i01 + 2]!) * fx;
      out[o] = r0 + (r1 - r0) * fy + 0.5;
      out[o + 1] = g0 + (g1 - g0) * fy + 0.5;
      out[o + 2] = b0 + (b1 - b0) * fy + 0.5;
    }
  }
  return out;
}
