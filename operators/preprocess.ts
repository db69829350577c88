import { map, type OperatorFunction } from 'rxjs';
import { imageTensorLength, meanColour, type TensorSpec } from '../models/tensor';
import { GeolocError } from '../pipeline/core/errors';
import type { Frame } from '../pipeline/core/types';
import { writeNorthUp } from '../pipeline/video/northUp';

const DEG = Math.PI / 180;

/** Frames and the model input made from them: their RGB bytes back to back. */
export interface TensorBatch<F extends Frame = Frame> {
  frames: F[];
  n: number;
  /** n packed RGB images at the model's input size; the embedder worker normalises them */
  input: Uint8Array;
}

export interface PreprocessOptions<F extends Frame> {
  /**
   * degrees clockwise from north that the top of a frame faces: the frame is turned north-up,
   * so that it looks like the north-up satellite tiles it is matched against. Undefined (for
   * a frame, or no function) leaves the frame as it faces.
   */
  headingDeg?: (frame: F) => number | undefined;
}

/**
 * Packs a batch of frames into one buffer for the embedder. An RGB frame at the model's input
 * size is copied as it is. Any other frame of a square model input (a finer one, YUV, one to
 * turn north-up) is sampled into it: the centre square of its shorter side, turned by its
 * heading, bilinearly (see writeNorthUp); so the pixels of a frame are converted only where the
 * model reads them. Normalising to floats happens in the embedder worker. A frame the model
 * cannot take fails with GEOLOC_ERR_TENSOR_SHAPE.
 */
export function preprocess<F extends Frame>(spec: TensorSpec, options: PreprocessOptions<F> = {}): OperatorFunction<F[], TensorBatch<F>> {
  const perImage = imageTensorLength(spec);
  const [height, width] = spec.inputSize;
  const fill = meanColour(spec);
  return map((frames) => {
    const input = new Uint8Array(frames.length * perImage);
    frames.forEach((frame, i) => {
      const heading = options.headingDeg?.(frame);
      if (heading === undefined && frame.format === 'rgb24' && frame.width === width && frame.height === height && frame.pixels.length === perImage) {
        input.set(frame.pixels, i * perImage);
      } else if (height === width) {
        writeNorthUp(frame, width, (heading ?? 0) * DEG, fill, input, i * perImage);
      } else {
        throw new GeolocError(
          'GEOLOC_ERR_TENSOR_SHAPE',
          `frame ${frame.index} is ${frame.width}×${frame.height} ${frame.format} (${frame.pixels.length} bytes) but the model takes ${width}×${height} RGB, and only a square input is sampled from other frames; resize it first`,
        );
      }
    });
    return { frames, n: frames.length, input };
  });
}
