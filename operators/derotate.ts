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
 * (dx·cos h + dy·sin h, −dx·sin h + dy·cos h), scaled by `oversample`.
 */
function rotateCentre(frame: Frame, size: number, oversample: number, heading: number): Buffer {
  const { width, height, rgb } = frame;
  const out = Buffer.allocUnsafe(size * size * RGB_CHANNELS);
  const cos = Math.cos(heading) * oversample;
  const sin = Math.sin(heading) * oversample;
  const half = size / 2;
  // source coordinates of pixel centres: continuous position minus 0.5
  const cx = width / 2 - 0.5;
  const cy = height / 2 - 0.5;
  let o = 0;
  for (let y = 0; y < size; y++) {
    const dy = y + 0.5 - half;
    for (let x = 0; x < size; x++, o += RGB_CHANNELS) {
      const dx = x + 0.5 - half;
      const sx = cx + dx * cos + dy * sin;
      const sy = cy - dx * sin + dy * cos;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < 0 || y0 < 0 || x0 + 1 >= width || y0 + 1 >= height) {
        out[o] = FILL_RGB[0];
        out[o + 1] = FILL_RGB[1];
        out[o + 2] = FILL_RGB[2];
        continue;
      }
      const fx = sx - x0;
      const fy = sy - y0;
      const i00 = (y0 * width + x0) * RGB_CHANNELS;
      const i10 = i00 + RGB_CHANNELS;
      const i01 = i00 + width * RGB_CHANNELS;
      const i11 = i01 + RGB_CHANNELS;
      for (let c = 0; c < RGB_CHANNELS; c++) {
        const top = rgb[i00 + c]! + (rgb[i10 + c]! - rgb[i00 + c]!) * fx;
        const bottom = rgb[i01 + c]! + (rgb[i11 + c]! - rgb[i01 + c]!) * fx;
        out[o + c] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
  return out;
}
