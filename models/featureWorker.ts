/**
 * One worker thread for registration's blocking calls: local features (XFeat in ONNX Runtime,
 * or OpenCV's ORB/AKAZE), their matches (a GEMM in ONNX Runtime) and OpenCV's robust homography. OpenCV's WASM build is loaded here
 * whatever the method, since every registration ends in findHomography.
 */
import { workerData } from 'node:worker_threads';
import './ortEnvironment';
import { FeatureMatcher, type Descriptors, type MatchOptions } from './featureMatching';
import { bootstrapHomographies, robustHomography, type RobustOptions } from './homographyFit';
import type { FeatureMethod, LocalFeatures } from './localFeatures';
import { loadOpenCv, type OpenCv } from './opencv';
import { opencvFeatures } from './opencvFeatures';
import { serveRequests, type Reply } from './workerHost';
import { XFeat } from './xfeat';

export interface FeatureWorkerData {
  method: FeatureMethod;
  intraOpThreads?: number;
}

export type FeatureRequest =
  | { type: 'extract'; rgb: Uint8Array; width: number; height: number }
  | { type: 'match'; a: Descriptors; b: Descriptors; options: MatchOptions }
  | { type: 'homography'; src: Float64Array; dst: Float64Array; options: RobustOptions }
  | { type: 'bootstrap'; src: Float64Array; dst: Float64Array; samples: number; seed: number };

const data = workerData as FeatureWorkerData;
let cv: OpenCv;
let xfeat: XFeat | undefined;
let matcher: FeatureMatcher;

async function startup(): Promise<{ method: FeatureMethod }> {
  cv = await loadOpenCv();
  if (data.method === 'xfeat') xfeat = await XFeat.load(data.intraOpThreads);
  matcher = await FeatureMatcher.load();
  return { method: data.method };
}

function transferOf(f: LocalFeatures): ArrayBuffer[] {
  return [f.keypoints.buffer, f.descriptors.buffer, f.scores.buffer] as ArrayBuffer[];
}

async function handle(body: unknown): Promise<Reply> {
  const request = body as FeatureRequest;
  switch (request.type) {
    case 'extract': {
      const { rgb, width, height } = request;
      const features = xfeat ? await xfeat.extract(rgb, width, height) : opencvFeatures(cv, data.method as 'orb' | 'akaze', rgb, width, height);
      return { result: features, transfer: transferOf(features) };
    }
    case 'match': {
      const m = await matcher.match(request.a, request.b, request.options);
      return { result: m, transfer: [m.a.buffer, m.b.buffer] as ArrayBuffer[] };
    }
    case 'homography':
      return { result: robustHomography(cv, request.src, request.dst, request.options) };
    case 'bootstrap':
      return { result: bootstrapHomographies(cv, request.src, request.dst, request.samples, request.seed) };
  }
}

serveRequests(startup, handle);
