/**
 * What a photo is registered against at one place: map features with the window their
 * keypoints are pixels of. Either cut from the imagery and extracted at each attempt, the
 * window turned to the photo's heading (RuntimeWindows), or taken from the features stored
 * with the index, north-up (ReferenceStore, referenceStore.ts): the photo is then turned
 * north-up instead.
 */
import type { FeatureWorker } from './featureWorkerClient';
import type { LocalFeatures } from './localFeatures';
import type { MapSampler, WindowSpec } from './mapWindow';

export interface ReferenceView {
  /** the window the features' keypoints are pixels of: windowToEnu takes them to the ground */
  window: WindowSpec;
  features: LocalFeatures;
}

export interface MapReference {
  /** 'north-up': the view is north-up whatever the spec's heading, and the photo must be turned to match */
  readonly orientation: 'north-up' | 'as-asked';
  /** The map's features over the ground `spec` covers. */
  view(spec: WindowSpec, worker: FeatureWorker): Promise<ReferenceView>;
}

/** Windows cut from the imagery at run time, turned to the heading asked, and their features extracted. */
export class RuntimeWindows implements MapReference {
  readonly orientation = 'as-asked';

  constructor(readonly sampler: MapSampler) {}

  async view(spec: WindowSpec, worker: FeatureWorker): Promise<ReferenceView> {
    const window = await this.sampler.window(spec);
    return { window, features: await worker.extract(window.rgb, window.width, window.height) };
  }
}
