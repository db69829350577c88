/**
 * One ONNX Runtime session in a worker thread: session.run() blocks its thread, so the
 * pipeline's event loop stays free. Tries the execution providers in order and reports
 * which one it got and why the others failed.
 */
import { workerData } from 'node:worker_threads';
import './ortEnvironment';
import * as ort from 'onnxruntime-node';
import { embedderSessionOptions } from './sessionOptions';
import { GeolocError } from '../pipeline/core/errors';
import { imageTensorLength, rgbToTensor } from './tensor';
import { ownBuffer, serveRequests } from './workerHost';

export type ProviderName = 'cuda' | 'cpu';

export interface EmbedWorkerData {
  modelPath: string;
  providers: ProviderName[];
  intraOpThreads?: number;
  inputSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  dim: number;
}

export interface EmbedWorkerReady {
  provider: ProviderName;
  /** providers tried before `provider`, with ONNX Runtime's reason */
  fallbacks: { provider: ProviderName; message: string }[];
}

export interface EmbedRequest {
  /**
   * n images: a normalised [n, 3, H, W] float tensor, or n packed RGB images of H × W (3 bytes
   * a pixel) that the worker normalises itself, a quarter of the bytes to copy across
   */
  input: Float32Array | Uint8Array;
  n: number;
}

export interface EmbedResult {
  descriptors: Float32Array;
  inferenceMs: number;
}

export const INPUT_NAME = 'image';
export const DESCRIPTOR_OUTPUT = 'descriptor';
export const FOREGROUND_OUTPUT = 'foreground';
const RGB_CHANNELS = 3;

const data = workerData as EmbedWorkerData;
let session: ort.InferenceSession;

async function createSession(): Promise<EmbedWorkerReady> {
  // ONNX Runtime prints its own error line when the CUDA library is absent; the pool
  // turns the failure into one coded warning per process instead.
  if (data.providers.includes('cuda')) ort.env.logLevel = 'fatal';
  const fallbacks: EmbedWorkerReady['fallbacks'] = [];
  for (const provider of data.providers) {
    try {
      session = await ort.InferenceSession.create(data.modelPath, embedderSessionOptions(provider, data.intraOpThreads));
      await checkContract();
      return { provider, fallbacks };
    } catch (err) {
      if (err instanceof GeolocError) throw err;
      fallbacks.push({ provider, message: (err as Error).message });
    }
  }
  const reasons = fallbacks.map((f) => `${f.provider}: ${f.message}`).join('; ');
  if (!data.providers.includes('cpu')) {
    throw new GeolocError('GEOLOC_ERR_CUDA_UNAVAILABLE', `the CUDA execution provider could not run ${data.modelPath} (${reasons}); allow the 'cpu' provider`);
  }
  throw new GeolocError(
    'GEOLOC_ERR_MODEL_UNREADABLE',
    `ONNX Runtime could not load ${data.modelPath} (${reasons}); export the model again`,
  );
}

/** The names the contract fixes, and one warm-up run that proves the metadata's dimension. */
async function checkContract(): Promise<void> {
  const missing = [INPUT_NAME].filter((n) => !session.inputNames.includes(n)).concat([DESCRIPTOR_OUTPUT, FOREGROUND_OUTPUT].filter((n) => !session.outputNames.includes(n)));
  if (missing.length > 0) {
    throw new GeolocError(
      'GEOLOC_ERR_MODEL_METADATA',
      `${data.modelPath} has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; ` +
        `geoloc needs input '${INPUT_NAME}' and outputs '${DESCRIPTOR_OUTPUT}', '${FOREGROUND_OUTPUT}' (missing: ${missing.join(', ')})`,
    );
  }
  const [h, w] = data.inputSize;
  let descriptorDims: readonly number[];
  try {
    const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', new Float32Array(RGB_CHANNELS * h * w), [1, RGB_CHANNELS, h, w]) });
    descriptorDims = out[DESCRIPTOR_OUTPUT]!.dims;
  } catch (err) {
    throw new GeolocError('GEOLOC_ERR_MODEL_METADATA', `${data.modelPath} rejects a 1×3×${h}×${w} input, the size its metadata states: ${(err as Error).message}`);
  }
  if (descriptorDims.length !== 2 || descriptorDims[1] !== data.dim) {
    throw new GeolocError('GEOLOC_ERR_MODEL_METADATA', `${data.modelPath} outputs descriptors of shape [${descriptorDims.join(', ')}] but its metadata says dim ${data.dim}`);
  }
}

/**
 * Float tensors that RGB requests were normalised into, kept for the next request of the same
 * size instead of allocating several megabytes a batch. A tensor is taken for the whole run:
 * run() starts later (setImmediate), so two requests in flight need two tensors.
 */
const spareTensors: Float32Array[] = [];

function normalised(rgb: Uint8Array, n: number): Float32Array {
  const perImage = imageTensorLength(data);
  const index = spareTensors.findIndex((t) => t.length === n * perImage);
  const tensor = index >= 0 ? spareTensors.splice(index, 1)[0]! : new Float32Array(n * perImage);
  for (let i = 0; i < n; i++) rgbToTensor(rgb.subarray(i * perImage, (i + 1) * perImage), data.inputSize[1], data.inputSize[0], data, tensor, i * perImage);
  return tensor;
}

async function embed({ input, n }: EmbedRequest): Promise<{ result: EmbedResult; transfer: ArrayBuffer[] }> {
  const [h, w] = data.inputSize;
  const tensor = input instanceof Float32Array ? input : normalised(input, n);
  const started = performance.now();
  let out: ort.InferenceSession.ReturnType;
  try {
    // only the descriptor is fetched: the foreground map is part of the model's contract, but nothing downstream reads it
    out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', tensor, [n, RGB_CHANNELS, h, w]) }, [DESCRIPTOR_OUTPUT]);
  } finally {
    if (tensor !== input) spareTensors.push(tensor);
  }
  const inferenceMs = performance.now() - started;
  const descriptors = ownBuffer(out[DESCRIPTOR_OUTPUT]!.data as Float32Array);
  return { result: { descriptors, inferenceMs }, transfer: [descriptors.buffer as ArrayBuffer] };
}

serveRequests(createSession, (body) => embed(body as EmbedRequest));
