/** Local features of one image, as the feature worker returns them (see featureWorker.ts). */

/** 'xfeat': the learned XFeat detector in ONNX Runtime; 'orb', 'akaze': OpenCV's classical ones. */
export type FeatureMethod = 'xfeat' | 'orb' | 'akaze';
export const FEATURE_METHODS: readonly FeatureMethod[] = ['xfeat', 'orb', 'akaze'];

/** Only the learned detector is not rotation invariant: a view must be turned near to the map's orientation. */
export function isRotationInvariant(method: FeatureMethod): boolean {
  return method !== 'xfeat';
}

export interface LocalFeatures {
  count: number;
  /** count·2: x, y in the image's pixels, (0, 0) its top-left corner (a pixel's centre at +0.5) */
  keypoints: Float32Array;
  /**
   * count·dim: unit float rows compared by inner product (XFeat), or binary descriptors of
   * dim bytes compared by Hamming distance (ORB, AKAZE)
   */
  descriptors: Float32Array | Uint8Array;
  dim: number;
  /** detector response per keypoint, larger is stronger */
  scores: Float32Array;
}

export function noFeatures(binary: boolean): LocalFeatures {
  return { count: 0, keypoints: new Float32Array(0), descriptors: binary ? new Uint8Array(0) : new Float32Array(0), dim: 0, scores: new Float32Array(0) };
}
