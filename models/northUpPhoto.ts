/**
 * A photo's local features with north up, for matching against the north-up reference features
 * of an index: the centre square of its shorter side turned by its heading (writeNorthUp, as the
 * model's input is), XFeat run on it, and each keypoint taken back to the photo's own pixels,
 * where the homography to the map starts. Keypoints near the photo's edge are dropped: the black
 * fill beyond it makes an edge that would match the map's nowhere.
 */
import type { Frame } from '../pipeline/core/types';
import { writeNorthUp } from '../pipeline/video/northUp';
import type { FeatureWorker } from './featureWorkerClient';
import type { LocalFeatures } from './localFeatures';

export interface PhotoPixels {
  /** packed RGB */
  rgb: Uint8Array;
  width: number;
  height: number;
}

const RGB = 3;
const BLACK = [0, 0, 0] as const;
/** XFeat scores 8×8 cells: a keypoint this close to the fill may be the photo's edge itself */
const EDGE_PX = 8;
const DEG = Math.PI / 180;

export async function northUpFeatures(worker: FeatureWorker, photo: PhotoPixels, headingDeg: number): Promise<LocalFeatures> {
  const size = Math.min(photo.width, photo.height);
  const frame: Frame = { index: 0, t: 0, width: photo.width, height: photo.height, format: 'rgb24', pixels: Buffer.from(photo.rgb.buffer, photo.rgb.byteOffset, photo.rgb.byteLength) };
  const turned = new Uint8Array(size * size * RGB);
  writeNorthUp(frame, size, headingDeg * DEG, BLACK, turned, 0);
  const f = await worker.extract(turned, size, size);
  const cos = Math.cos(headingDeg * DEG);
  const sin = Math.sin(headingDeg * DEG);
  const keep: number[] = [];
  const keypoints: number[] = [];
  for (let k = 0; k < f.count; k++) {
    // output offset (dx, dy) from the square's centre shows the photo at (dx·cos + dy·sin, −dx·sin + dy·cos) from its centre
    const dx = f.keypoints[2 * k]! - size / 2;
    const dy = f.keypoints[2 * k + 1]! - size / 2;
    const x = photo.width / 2 + dx * cos + dy * sin;
    const y = photo.height / 2 - dx * sin + dy * cos;
    if (x < EDGE_PX || y < EDGE_PX || x > photo.width - EDGE_PX || y > photo.height - EDGE_PX) continue;
    keep.push(k);
    keypoints.push(x, y);
  }
  const descriptors = new Float32Array(keep.length * f.dim);
  keep.forEach((k, i) => descriptors.set((f.descriptors as Float32Array).subarray(k * f.dim, (k + 1) * f.dim), i * f.dim));
  return { count: keep.length, keypoints: Float32Array.from(keypoints), descriptors, dim: f.dim, scores: Float32Array.from(keep, (k) => f.scores[k]!) };
}
