/**
 * XFeat (models/xfeat/, see PROVENANCE.md) in ONNX Runtime: keypoints, 64-d descriptors and
 * scores. The graph's input is fixed at 640 high × 360 wide. A landscape image is turned a
 * quarter turn clockwise to fill it (scaled into a portrait input it would use barely a third
 * of it) and its keypoints are turned back; a smaller image sits in the top-left corner and the
 * rest stays black, with the keypoints along that seam dropped (the seam is an edge in both
 * images of a pair, which would match itself at the same place and fake a consensus).
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GeolocError } from '../pipeline/core/errors';
import { repoRoot } from '../pipeline/core/paths';
import { noFeatures, type LocalFeatures } from './localFeatures';

export const XFEAT_INPUT_HEIGHT = 640;
export const XFEAT_INPUT_WIDTH = 360;
export const XFEAT_DIM = 64;
const INPUT_NAME = 'images';
const RGB = 3;
const BYTE_MAX = 255;
/** XFeat scores 8×8 cells: a keypoint this close to the black padding may be the seam itself */
const SEAM_MARGIN_PX = 8;
/** the graph's reshape of an empty keypoint set fails with this broadcast error: no features, not a fault */
const NO_KEYPOINTS_ERROR = /broadcast/i;

export function xfeatModelPath(): string {
  return join(repoRoot(), 'models', 'xfeat', 'xfeat_2048_640x360.onnx');
}

/** The largest size of the image's aspect that fits the input, turned or not: what to scale an image to. */
export function xfeatFit(width: number, height: number): { width: number; height: number } {
  const [long, short] = width > height ? [XFEAT_INPUT_HEIGHT, XFEAT_INPUT_WIDTH] : [XFEAT_INPUT_WIDTH, XFEAT_INPUT_HEIGHT];
  const scale = Math.min(long / width, short / height);
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

export class XFeat {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(intraOpThreads?: number): Promise<XFeat> {
    const path = xfeatModelPath();
    try {
      // fatal only: the no-keypoint broadcast error is expected and handled, not worth a log line
      const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', logSeverityLevel: 4, ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}) });
      return new XFeat(session);
    } catch (cause) {
      throw new GeolocError('GEOLOC_ERR_MODEL_UNREADABLE', `ONNX Runtime could not load the XFeat model ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Features of packed RGB whose size fits the input as it is or turned (see xfeatFit). */
  async extract(rgb: Uint8Array, width: number, height: number): Promise<LocalFeatures> {
    const turn = width > height;
    const [inW, inH] = turn ? [height, width] : [width, height];
    if (inW > XFEAT_INPUT_WIDTH || inH > XFEAT_INPUT_HEIGHT || rgb.length !== width * height * RGB) {
      throw new GeolocError('GEOLOC_ERR_TENSOR_SHAPE', `XFeat takes RGB up to ${XFEAT_INPUT_WIDTH}×${XFEAT_INPUT_HEIGHT} (or turned), got ${width}×${height} in ${rgb.length} bytes; scale it with xfeatFit first`);
    }
    const plane = XFEAT_INPUT_HEIGHT * XFEAT_INPUT_WIDTH;
    const tensor = new Float32Array(RGB * plane);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // a clockwise quarter turn puts source (x, y) at input (height − 1 − y, x)
        const ix = turn ? height - 1 - y : x;
        const iy = turn ? x : y;
        const s = (y * width + x) * RGB;
        const d = iy * XFEAT_INPUT_WIDTH + ix;
        tensor[d] = rgb[s]! / BYTE_MAX;
        tensor[plane + d] = rgb[s + 1]! / BYTE_MAX;
        tensor[2 * plane + d] = rgb[s + 2]! / BYTE_MAX;
      }
    }
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run({ [INPUT_NAME]: new ort.Tensor('float32', tensor, [1, RGB, XFEAT_INPUT_HEIGHT, XFEAT_INPUT_WIDTH]) });
    } catch (err) {
      if (NO_KEYPOINTS_ERROR.test((err as Error).message)) return noFeatures(false);
      throw err;
    }
    const kp = out['keypoints']!.data as Float32Array;
    const desc = out['descriptors']!.data as Float32Array;
    const sc = out['scores']!.data as Float32Array;
    const total = sc.length;
    const keep: number[] = [];
    for (let i = 0; i < total; i++) {
      const ix = kp[2 * i]!;
      const iy = kp[2 * i + 1]!;
      const nearSeam = (inW < XFEAT_INPUT_WIDTH && ix > inW - SEAM_MARGIN_PX) || (inH < XFEAT_INPUT_HEIGHT && iy > inH - SEAM_MARGIN_PX);
      if (!nearSeam) keep.push(i);
    }
    const keypoints = new Float32Array(keep.length * 2);
    const descriptors = new Float32Array(keep.length * XFEAT_DIM);
    const scores = new Float32Array(keep.length);
    keep.forEach((i, j) => {
      const ix = kp[2 * i]!;
      const iy = kp[2 * i + 1]!;
      // back from the input's pixel indices to the image's, and to corner-based coordinates (+0.5)
      keypoints[2 * j] = (turn ? iy : ix) + 0.5;
      keypoints[2 * j + 1] = (turn ? height - 1 - ix : iy) + 0.5;
      descriptors.set(desc.subarray(i * XFEAT_DIM, (i + 1) * XFEAT_DIM), j * XFEAT_DIM);
      scores[j] = sc[i]!;
    });
    return { count: keep.length, keypoints, descriptors, dim: XFEAT_DIM, scores };
  }
}
