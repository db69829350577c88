import { map, type OperatorFunction } from 'rxjs';
import { imageTensorLength, rgbToTensor, type TensorSpec } from '../models/tensor';
import type { Frame } from '../pipeline/types';

/** Frames and the model input made from them, [n, 3, H, W] back to back. */
export interface TensorBatch<F extends Frame = Frame> {
  frames: F[];
  n: number;
  input: Float32Array;
}

/**
 * Normalises a batch of frames into one CHW float32 tensor, each frame written straight to its
 * place in the batch (no per-frame tensor, no copy). ffmpeg already scaled the frames to the
 * model's input size, so this is the fast path without an image library; a frame of another
 * size fails with GEOLOC_ERR_TENSOR_SHAPE.
 */
export function preprocess<F extends Frame>(spec: TensorSpec): OperatorFunction<F[], TensorBatch<F>> {
  const perImage = imageTensorLength(spec);
  return map((frames) => {
    const input = new Float32Array(frames.length * perImage);
    frames.forEach((frame, i) => rgbToTensor(frame.rgb, frame.width, frame.height, spec, input, i * perImage));
    return { frames, n: frames.length, input };
  });
}
