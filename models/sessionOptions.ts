import type { InferenceSession } from 'onnxruntime-node';

/**
 * The ONNX Runtime session options of the embedder pool, shared with the throughput bench so
 * its raw baseline runs the same configuration. Intra-op threads do not spin while idle: on a
 * small machine a spinning pool takes the cores that ffmpeg's decoder needs between batches.
 * No memory pattern: ONNX Runtime would keep a block sized for each input shape's peak beside
 * its arena; without it a worker reuses the arena's freed blocks, at the same speed. For a
 * ViT-S/14 at 224 px, batch 16, two workers: ~890 → ~730 MB.
 */
export function embedderSessionOptions(provider: string, intraOpThreads?: number): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    enableMemPattern: false,
    graphOptimizationLevel: 'all',
    ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}
