import { map, type OperatorFunction } from 'rxjs';
import { imageTensorLength, type TensorSpec } from '../models/tensor';
import { GeolocError } from '../pipeline/errors';
import type { Frame } from '../pipeline/types';

/** Frames and the model input made from them: their RGB bytes back to back. */
export interface TensorBatch<F extends Frame = Frame> {
  frames: F[];
  n: number;
  /** n packed RGB images at the model's input size; the embedder worker normalises them */
  input: Uint8Array;
}

/**
 * Packs a batch of frames into one buffer for the embedder. ffmpeg already scaled the frames to
 * the model's input size, so no image library is needed; normalising to floats happens in the
 * embedder worker, into a tensor it reuses, so this thread neither computes nor copies a float
 * tensor four times the size. A frame of another size fails with GEOLOC_ERR_TENSOR_SHAPE.
 */
export function preprocess<F extends Frame>(spec: TensorSpec): OperatorFunction<F[], TensorBatch<F>> {
  const perImage = imageTensorLength(spec);
  const [height, width] = spec.inputSize;
  return map((frames) => {
    const input = new Uint8Array(frames.length * perImage);
    frames.forEach((frame, i) => {
      if (frame.width !== width || frame.height !== height || frame.rgb.length !== perImage) {
        throw new GeolocError('GEOLOC_ERR_TENSOR_SHAPE', `frame ${frame.index} is ${frame.width}×${frame.height} (${frame.rgb.length} bytes) but the model takes ${width}×${height} RGB; resize it first`);
      }
      input.set(frame.rgb, i * perImage);
    });
    return { frames, n: frames.length, input };
  });
}
