/**
 * A pool of ONNX Runtime sessions, one per worker thread. Execution providers are tried in
 * order (default cuda, then cpu); a CUDA provider that cannot load is reported once per
 * process as a GEOLOC_ERR_CUDA_UNAVAILABLE warning and not tried again.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import './ortEnvironment';
import { GeolocError } from '../pipeline/core/errors';
import type { EmbedRequest, EmbedResult, EmbedWorkerData, EmbedWorkerReady, ProviderName } from './embedWorker';
import { loadModelInfo, type ModelInfo } from './modelInfo';
import { imageTensorLength } from './tensor';
import { hasWarned, warnOnce } from './warnOnce';
import { WorkerClient } from './workerClient';

export interface EmbedderPoolOptions {
  modelPath: string;
  /**
   * worker threads, each with its own session; default 1. 'per-core' is the throughput layout
   * for lossless work on the CPU: one single-threaded session per core, so that batches run side
   * by side and no core waits at another's synchronisation point (on CUDA it is one worker).
   */
  workers?: number | 'per-core';
  /** tried in order; default ['cuda', 'cpu'] */
  providers?: ProviderName[];
  /** ONNX Runtime intra-op threads per session; default: ONNX Runtime's (all cores) */
  intraOpThreads?: number;
}

export interface EmbeddingBatch {
  n: number;
  dim: number;
  /** n·dim, L2-normalised rows */
  descriptors: Float32Array;
  provider: ProviderName;
  inferenceMs: number;
}

const DEFAULT_PROVIDERS: ProviderName[] = ['cuda', 'cpu'];
const DEFAULT_WORKERS = 1;

export class EmbedderPool {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly info: ModelInfo,
    readonly provider: ProviderName,
    private readonly workers: WorkerClient<EmbedWorkerReady>[],
  ) {}

  static async create(opts: EmbedderPoolOptions): Promise<EmbedderPool> {
    const { workers = DEFAULT_WORKERS } = opts;
    const perCore = workers === 'per-core';
    const asked = perCore ? availableParallelism() : workers;
    if (!Number.isInteger(asked) || asked < 1) {
      throw new GeolocError('GEOLOC_ERR_USAGE', `workers must be a positive integer or 'per-core', got ${String(opts.workers)}`);
    }
    const intraOpThreads = perCore ? opts.intraOpThreads ?? 1 : opts.intraOpThreads;
    const info = await loadModelInfo(opts.modelPath);
    // Once CUDA has failed in this process, asking again would only fail again.
    const providers = (opts.providers ?? DEFAULT_PROVIDERS).filter((p) => p !== 'cuda' || !hasWarned('GEOLOC_ERR_CUDA_UNAVAILABLE'));
    if (providers.length === 0) {
      throw new GeolocError('GEOLOC_ERR_CUDA_UNAVAILABLE', `no execution provider left to try for ${opts.modelPath}: CUDA is unavailable in this process; allow 'cpu'`);
    }
    const start = (tryProviders: ProviderName[]) =>
      WorkerClient.start<EmbedWorkerReady>(
        join(__dirname, 'embedWorker.js'),
        { modelPath: info.path, providers: tryProviders, intraOpThreads, inputSize: info.inputSize, mean: info.mean, std: info.std, dim: info.dim } satisfies EmbedWorkerData,
        `embedder for ${info.path}`,
      );
    // The first worker finds the provider that works; the others go straight to it.
    const first = await start(providers);
    for (const failed of first.ready.fallbacks) {
      if (failed.provider === 'cuda') {
        warnOnce('GEOLOC_ERR_CUDA_UNAVAILABLE', `the CUDA execution provider could not be loaded (${failed.message}); running the model on ${first.ready.provider}`);
      }
    }
    const workerCount = perCore && first.ready.provider !== 'cpu' ? 1 : asked;
    const rest = await Promise.allSettled(Array.from({ length: workerCount - 1 }, () => start([first.ready.provider])));
    const started = [first, ...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
    const failure = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await Promise.all(started.map((w) => w.close()));
      throw failure.reason;
    }
    return new EmbedderPool(info, first.ready.provider, started);
  }

  /** Worker threads (sessions) in the pool. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Embeds n images laid out back to back: a normalised [n, 3, H, W] tensor (see rgbToTensor),
   * or packed RGB bytes at the model's input size, which the worker normalises. The input is
   * copied to the worker before this returns, so the caller may reuse it at once; or, with
   * `transfer`, its memory is handed to the worker (no copy) and the caller's input is left
   * empty. Only an input that spans its whole buffer can be handed over; another is copied.
   */
  async embed(input: Float32Array | Uint8Array, n: number, options: { transfer?: boolean } = {}): Promise<EmbeddingBatch> {
    if (this.closing) throw new GeolocError('GEOLOC_ERR_WORKER_CLOSED', `the embedder pool for ${this.info.path} was closed; create a new one`);
    const perImage = imageTensorLength(this.info);
    if (!Number.isInteger(n) || n < 1 || input.length !== n * perImage) {
      const [h, w] = this.info.inputSize;
      const unit = input instanceof Float32Array ? 'floats' : 'RGB bytes';
      throw new GeolocError('GEOLOC_ERR_TENSOR_SHAPE', `a batch of ${n} images needs ${n}×3×${h}×${w} = ${n * perImage} ${unit}, got ${input.length}`);
    }
    const worker = this.workers.reduce((idlest, w) => (w.inFlight < idlest.inFlight ? w : idlest));
    const handOver = options.transfer === true && input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer;
    const result = await worker.request<EmbedResult>({ input, n } satisfies EmbedRequest, handOver ? [input.buffer as ArrayBuffer] : []);
    return { n, dim: this.info.dim, provider: this.provider, ...result };
  }

  /** Terminates every worker; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= Promise.all(this.workers.map((w) => w.close())).then(() => undefined);
    return this.closing;
  }
}
