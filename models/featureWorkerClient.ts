/** The main-thread handle on a feature worker (featureWorker.ts): features, matches and homographies, off the event loop. */
import { join } from 'node:path';
import type { Matches, MatchOptions } from './featureMatching';
import type { FeatureRequest, FeatureWorkerData } from './featureWorker';
import type { RobustFit, RobustOptions } from './homographyFit';
import type { FeatureMethod, LocalFeatures } from './localFeatures';
import './ortEnvironment';
import { WorkerClient } from './workerClient';

export interface FeatureWorkerOptions {
  method: FeatureMethod;
  /** ONNX Runtime intra-op threads for XFeat; default: ONNX Runtime's (all cores) */
  intraOpThreads?: number;
}

export class FeatureWorker {
  private constructor(
    readonly method: FeatureMethod,
    private readonly worker: WorkerClient<{ method: FeatureMethod }>,
  ) {}

  static async start(options: FeatureWorkerOptions): Promise<FeatureWorker> {
    const data: FeatureWorkerData = { method: options.method, ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}) };
    const worker = await WorkerClient.start<{ method: FeatureMethod }>(join(__dirname, 'featureWorker.js'), data, `${options.method} feature worker`);
    return new FeatureWorker(options.method, worker);
  }

  /** Packed RGB, width × height; for XFeat at a size xfeatFit gives. The pixels are copied to the worker. */
  extract(rgb: Uint8Array, width: number, height: number): Promise<LocalFeatures> {
    return this.worker.request<LocalFeatures>({ type: 'extract', rgb, width, height } satisfies FeatureRequest);
  }

  /** Mutual nearest neighbours through the ratio test (see featureMatching.ts); only the descriptors are copied to the worker. */
  match(a: LocalFeatures, b: LocalFeatures, options: MatchOptions): Promise<Matches> {
    const descriptors = ({ count, dim, descriptors }: LocalFeatures) => ({ count, dim, descriptors });
    return this.worker.request<Matches>({ type: 'match', a: descriptors(a), b: descriptors(b), options } satisfies FeatureRequest);
  }

  homography(src: Float64Array, dst: Float64Array, options: RobustOptions): Promise<RobustFit> {
    return this.worker.request<RobustFit>({ type: 'homography', src, dst, options } satisfies FeatureRequest);
  }

  /** 9 numbers per least-squares refit of inliers drawn with replacement (see bootstrapHomographies). */
  bootstrap(src: Float64Array, dst: Float64Array, samples: number, seed: number): Promise<Float64Array> {
    return this.worker.request<Float64Array>({ type: 'bootstrap', src, dst, samples, seed } satisfies FeatureRequest);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
