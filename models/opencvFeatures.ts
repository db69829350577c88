/** OpenCV's classical detectors (ORB, AKAZE) on packed RGB, inside a worker (see opencv.ts). */
import { noFeatures, type LocalFeatures } from './localFeatures';
import type { CvDetector, OpenCv } from './opencv';

/** The same keypoint budget XFeat's graph keeps, so that the methods compare at equal effort. */
export const MAX_KEYPOINTS = 2048;
const RGB = 3;
const RGBA = 4;
const OPAQUE = 255;

export function opencvFeatures(cv: OpenCv, method: 'orb' | 'akaze', rgb: Uint8Array, width: number, height: number): LocalFeatures {
  const rgba = new Uint8ClampedArray(width * height * RGBA);
  for (let i = 0, j = 0; i < rgb.length; i += RGB, j += RGBA) {
    rgba[j] = rgb[i]!;
    rgba[j + 1] = rgb[i + 1]!;
    rgba[j + 2] = rgb[i + 2]!;
    rgba[j + 3] = OPAQUE;
  }
  const colour = cv.matFromImageData({ data: rgba, width, height });
  const grey = new cv.Mat();
  const mask = new cv.Mat();
  const found = new cv.KeyPointVector();
  const desc = new cv.Mat();
  const detector: CvDetector = method === 'orb' ? new cv.ORB(MAX_KEYPOINTS) : new cv.AKAZE();
  try {
    cv.cvtColor(colour, grey, cv.COLOR_RGBA2GRAY);
    detector.detectAndCompute(grey, mask, found, desc);
    const total = found.size();
    if (total === 0 || desc.empty()) return noFeatures(true);
    const dim = desc.cols;
    // strongest first, within the budget (AKAZE has no budget of its own)
    const order = Array.from({ length: total }, (_, i) => i)
      .sort((a, b) => found.get(b).response - found.get(a).response)
      .slice(0, MAX_KEYPOINTS);
    const keypoints = new Float32Array(order.length * 2);
    const descriptors = new Uint8Array(order.length * dim);
    const scores = new Float32Array(order.length);
    order.forEach((i, j) => {
      const k = found.get(i);
      // OpenCV puts a pixel's centre at its index; geoloc at index + 0.5
      keypoints[2 * j] = k.pt.x + 0.5;
      keypoints[2 * j + 1] = k.pt.y + 0.5;
      descriptors.set(desc.data.subarray(i * dim, (i + 1) * dim), j * dim);
      scores[j] = k.response;
    });
    return { count: order.length, keypoints, descriptors, dim, scores };
  } finally {
    for (const m of [colour, grey, mask, found, desc, detector]) m.delete();
  }
}
