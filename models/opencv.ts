/**
 * OpenCV through `@techstark/opencv-js`: the WASM build, so nothing is compiled natively. It
 * is single-threaded and its calls block, so it is loaded only inside worker threads. The
 * module's export is a promise in some builds and an object that fires onRuntimeInitialized
 * in others (4.5.x): both are awaited here.
 */
import { GeolocError } from '../pipeline/core/errors';

/** The parts of OpenCV's JavaScript API geoloc calls; the package's own typings load the whole DOM. */
export interface OpenCv {
  Mat: new () => CvMat;
  KeyPointVector: new () => CvKeyPointVector;
  ORB: new (nfeatures: number) => CvDetector;
  AKAZE: new () => CvDetector;
  matFromArray(rows: number, cols: number, type: number, data: ArrayLike<number>): CvMat;
  matFromImageData(data: { data: Uint8ClampedArray; width: number; height: number }): CvMat;
  cvtColor(src: CvMat, dst: CvMat, code: number): void;
  findHomography(src: CvMat, dst: CvMat, method: number, threshold: number, mask: CvMat, maxIters: number, confidence: number): CvMat;
  CV_64FC2: number;
  COLOR_RGBA2GRAY: number;
  RANSAC: number;
  USAC_MAGSAC: number;
  onRuntimeInitialized?: () => void;
}

export interface CvMat {
  rows: number;
  cols: number;
  data: Uint8Array;
  data64F: Float64Array;
  empty(): boolean;
  delete(): void;
}

export interface CvKeyPointVector {
  size(): number;
  get(i: number): { pt: { x: number; y: number }; response: number };
  delete(): void;
}

export interface CvDetector {
  detectAndCompute(image: CvMat, mask: CvMat, keypoints: CvKeyPointVector, descriptors: CvMat): void;
  delete(): void;
}

let loading: Promise<OpenCv> | undefined;

export function loadOpenCv(): Promise<OpenCv> {
  loading ??= (async () => {
    let cv: OpenCv | Promise<OpenCv>;
    try {
      cv = require('@techstark/opencv-js') as OpenCv | Promise<OpenCv>;
    } catch (cause) {
      throw new GeolocError('GEOLOC_ERR_OPENCV_UNAVAILABLE', `@techstark/opencv-js could not be loaded (${(cause as Error).message}); run npm ci`, { cause });
    }
    if (cv instanceof Promise) return cv;
    const module = cv;
    if (typeof module.Mat !== 'function') await new Promise<void>((resolve) => (module.onRuntimeInitialized = resolve));
    // Emscripten's module object has a then() that passes itself on: a promise resolved with it
    // would adopt it again and again and never settle
    delete (module as { then?: unknown }).then;
    return module;
  })();
  return loading;
}
