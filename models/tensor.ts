/** Packed RGB bytes → the model's normalised CHW float32 input. */
import { GeolocError } from '../pipeline/core/errors';
import type { Rgb } from '../pipeline/core/types';
import type { ModelInfo } from './modelInfo';

export type TensorSpec = Pick<ModelInfo, 'inputSize' | 'mean' | 'std'>;

const RGB_CHANNELS = 3;
const BYTE_MAX = 255;


/** The RGB bytes nearest to what the model reads as 0 in every channel: its normalisation mean. */
export function meanColour(spec: Pick<TensorSpec, 'mean'>): Rgb {
  const [r, g, b] = spec.mean.map((m) => Math.round(m * BYTE_MAX));
  return [r!, g!, b!];
}

/** Floats in one image of the model's input (3·H·W). */
export function imageTensorLength(spec: Pick<ModelInfo, 'inputSize'>): number {
  return RGB_CHANNELS * spec.inputSize[0] * spec.inputSize[1];
}

/**
 * Writes (x/255 − mean)/std per channel, planar (CHW), into `out` at `offset` (a batch
 * buffer holds N images back to back). The image must already be the model's input size.
 */
export function rgbToTensor(rgb: Uint8Array | Buffer, width: number, height: number, spec: TensorSpec, out?: Float32Array, offset = 0): Float32Array {
  const [inputH, inputW] = spec.inputSize;
  if (width !== inputW || height !== inputH) {
    throw new GeolocError('GEOLOC_ERR_TENSOR_SHAPE', `image is ${width}×${height} but the model takes ${inputW}×${inputH}; resize it first`);
  }
  const pixels = width * height;
  if (rgb.length !== pixels * RGB_CHANNELS) {
    throw new GeolocError('GEOLOC_ERR_TENSOR_SHAPE', `RGB buffer holds ${rgb.length} bytes, a ${width}×${height} RGB image needs ${pixels * RGB_CHANNELS}`);
  }
  const target = out ?? new Float32Array(pixels * RGB_CHANNELS);
  if (!Number.isInteger(offset) || offset < 0 || offset + pixels * RGB_CHANNELS > target.length) {
    throw new GeolocError('GEOLOC_ERR_TENSOR_SHAPE', `output tensor of length ${target.length} has no room for an image of ${pixels * RGB_CHANNELS} floats at offset ${offset}`);
  }
  const [meanR, meanG, meanB] = spec.mean;
  const [stdR, stdG, stdB] = spec.std;
  const scaleR = 1 / (BYTE_MAX * stdR);
  const scaleG = 1 / (BYTE_MAX * stdG);
  const scaleB = 1 / (BYTE_MAX * stdB);
  const biasR = -meanR / stdR;
  const biasG = -meanG / stdG;
  const biasB = -meanB / stdB;
  const green = offset + pixels;
  const blue = green + pixels;
  // one pass over the pixels, reading each byte once (a pass per channel reads the image thrice)
  for (let i = 0, src = 0; i < pixels; i++, src += RGB_CHANNELS) {
    target[offset + i] = rgb[src]! * scaleR + biasR;
    target[green + i] = rgb[src + 1]! * scaleG + biasG;
    target[blue + i] = rgb[src + 2]! * scaleB + biasB;
  }
  return target;
}
