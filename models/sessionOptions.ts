import type { InferenceSession } from 'onnxruntime-node';

/**
 * The ONNX Runtime session options of the embedder pool, shared with the throughput bench so
 * its raw baseline runs the same configuration. Intra-op threads do not spin while idle: on a
 * small machine a spinning pool takes the cores that ffmpeg's decoder needs between batches.
 */
export function embedderSessionOptions(provider: string, intraOpThreads?: number): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}
