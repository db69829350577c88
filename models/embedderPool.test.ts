import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { coded } from '../tests/support/coded';
import { tinyModelPath, withoutOnnxMetadata } from '../tests/support/tinyModel';
import { EmbedderPool } from './embedderPool';
import { loadModelInfo, siblingJsonPath, type ModelInfo } from './modelInfo';
import { protobufFields } from './onnxMetadata';
import { imageTensorLength, rgbToTensor } from './tensor';

const ONNX_GRAPH_FIELD = 7;

/** n packed RGB images of the model's input size, from a seeded generator. */
function randomRgb(info: ModelInfo, n: number, seed: number): Uint8Array {
  const rgb = new Uint8Array(n * imageTensorLength(info));
  let state = seed;
  for (let j = 0; j < rgb.length; j++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    rgb[j] = state % 256;
  }
  return rgb;
}

/** The same images as randomRgb, normalised into one float tensor. */
function randomBatch(info: ModelInfo, n: number, seed: number): Float32Array {
  const [h, w] = info.inputSize;
  const perImage = imageTensorLength(info);
  const rgb = randomRgb(info, n, seed);
  const batch = new Float32Array(n * perImage);
  for (let i = 0; i < n; i++) rgbToTensor(rgb.subarray(i * perImage, (i + 1) * perImage), w, h, info, batch, i * perImage);
  return batch;
}

describe('EmbedderPool', () => {
  let modelPath: string;
  let info: ModelInfo;
  let pool: EmbedderPool;
  let tmp: string;
  let warnings: jest.SpyInstance;

  beforeAll(async () => {
    warnings = jest.spyOn(process, 'emitWarning');
    modelPath = await tinyModelPath();
    info = await loadModelInfo(modelPath);
    pool = await EmbedderPool.create({ modelPath, workers: 2, providers: ['cuda', 'cpu'] });
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-pool-'));
  });
  afterAll(async () => {
    await pool.close();
    warnings.mockRestore();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a cuda request falls back to cpu with one GEOLOC_ERR_CUDA_UNAVAILABLE warning per process', async () => {
    expect(pool.provider).toBe('cpu');
    const again = await EmbedderPool.create({ modelPath, workers: 2 });
    await again.close();
    const cudaWarnings = warnings.mock.calls.filter(([, options]) => (options as { code?: string } | undefined)?.code === 'GEOLOC_ERR_CUDA_UNAVAILABLE');
    expect(cudaWarnings).toHaveLength(1);
    expect(String(cudaWarnings[0]![0])).toContain('cpu');
  });

  test('packed RGB bytes, normalised in the worker, embed as their float tensor does, also with several in flight on one worker', async () => {
    const single = await EmbedderPool.create({ modelPath, workers: 1, providers: ['cpu'] });
    try {
      const seeds = [21, 22, 23];
      const fromRgb = await Promise.all(seeds.map((seed) => single.embed(randomRgb(info, 2, seed), 2)));
      const fromFloats = await Promise.all(seeds.map((seed) => single.embed(randomBatch(info, 2, seed), 2)));
      fromRgb.forEach((out, b) => out.descriptors.forEach((v, i) => expect(v).toBeCloseTo(fromFloats[b]!.descriptors[i]!, 6)));
      await expect(single.embed(new Uint8Array(imageTensorLength(info) - 1), 1)).rejects.toMatchObject({ code: 'GEOLOC_ERR_TENSOR_SHAPE', message: expect.stringContaining('RGB bytes') });
    } finally {
      await single.close();
    }
  });

  test('a transferred input is handed to the worker and left empty, with the result a copied one gives; a view into a larger buffer is copied', async () => {
    const copied = await pool.embed(randomRgb(info, 2, 31), 2);
    const handedOver = randomRgb(info, 2, 31);
    const transferred = await pool.embed(handedOver, 2, { transfer: true });
    expect(handedOver).toHaveLength(0);
    expect(transferred.descriptors).toEqual(copied.descriptors);
    const larger = new Uint8Array(3 * imageTensorLength(info));
    larger.set(randomRgb(info, 2, 31), imageTensorLength(info));
    const view = larger.subarray(imageTensorLength(info));
    const fromView = await pool.embed(view, 2, { transfer: true });
    expect(view).toHaveLength(2 * imageTensorLength(info));
    expect(fromView.descriptors).toEqual(copied.descriptors);
  });

  test("'per-core' on the CPU starts one worker per core, and they give the same embeddings as one worker", async () => {
    const perCore = await EmbedderPool.create({ modelPath, workers: 'per-core', providers: ['cpu'] });
    try {
      expect(perCore.size).toBe(availableParallelism());
      const batch = randomBatch(info, 2, 5);
      const [a, b] = await Promise.all([perCore.embed(batch, 2), perCore.embed(batch, 2)]);
      const single = await pool.embed(batch, 2);
      for (const out of [a, b]) for (let i = 0; i < single.descriptors.length; i++) expect(out.descriptors[i]).toBeCloseTo(single.descriptors[i]!, 5);
    } finally {
      await perCore.close();
    }
    await expect(EmbedderPool.create({ modelPath, workers: 0 })).rejects.toMatchObject(coded('GEOLOC_ERR_USAGE'));
  });

  test('only cuda allowed, and it is unavailable: GEOLOC_ERR_CUDA_UNAVAILABLE', async () => {
    // Known unavailable in this process: refused before any worker starts.
    await expect(EmbedderPool.create({ modelPath, providers: ['cuda'] })).rejects.toMatchObject(coded('GEOLOC_ERR_CUDA_UNAVAILABLE'));
    // Not known yet (fresh module state): the worker tries it and reports the failure.
    let fresh!: typeof EmbedderPool;
    jest.isolateModules(() => {
      fresh = (require('./embedderPool') as typeof import('./embedderPool')).EmbedderPool;
    });
    await expect(fresh.create({ modelPath, providers: ['cuda'] })).rejects.toMatchObject(coded('GEOLOC_ERR_CUDA_UNAVAILABLE', 'Failed to load'));
  });

  test('embeds a batch into unit-norm descriptors', async () => {
    const n = 3;
    const out = await pool.embed(randomBatch(info, n, 1), n);
    expect(out).toMatchObject({ n, dim: info.dim, provider: 'cpu' });
    expect(out.descriptors).toHaveLength(n * info.dim);
    expect(Object.keys(out)).not.toContain('foreground');
    expect(out.inferenceMs).toBeGreaterThan(0);
    const rows = Array.from({ length: n }, (_, i) => out.descriptors.subarray(i * info.dim, (i + 1) * info.dim));
    for (const row of rows) expect(Math.hypot(...row)).toBeCloseTo(1, 4);
    // Different images, different descriptors: the output is not a constant.
    expect(rows[0]).not.toEqual(rows[1]);
  });

  test('the same input gives the same output on every worker', async () => {
    const batch = randomBatch(info, 2, 7);
    // Two requests at once go to the two idle workers.
    const [a, b] = await Promise.all([pool.embed(batch, 2), pool.embed(batch, 2)]);
    const maxDiff = a.descriptors.reduce((m, v, i) => Math.max(m, Math.abs(v - b.descriptors[i]!)), 0);
    expect(maxDiff).toBeLessThan(1e-6);
  });

  test('a batch of the wrong size: GEOLOC_ERR_TENSOR_SHAPE', async () => {
    await expect(pool.embed(new Float32Array(imageTensorLength(info) + 1), 1)).rejects.toMatchObject(coded('GEOLOC_ERR_TENSOR_SHAPE'));
    await expect(pool.embed(new Float32Array(0), 0)).rejects.toMatchObject(coded('GEOLOC_ERR_TENSOR_SHAPE'));
  });

  test('close() is safe twice; requests in flight and after it fail with GEOLOC_ERR_WORKER_CLOSED', async () => {
    const own = await EmbedderPool.create({ modelPath, providers: ['cpu'] });
    const inFlight = expect(own.embed(randomBatch(info, 1, 3), 1)).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_CLOSED'));
    await Promise.all([own.close(), own.close()]);
    await own.close();
    await inFlight;
    await expect(own.embed(randomBatch(info, 1, 3), 1)).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_CLOSED'));
  });

  test('a model ONNX Runtime cannot load: GEOLOC_ERR_MODEL_UNREADABLE', async () => {
    const broken = join(tmp, 'broken.onnx');
    const bytes = readFileSync(modelPath);
    // Metadata intact (so loadModelInfo accepts it), graph replaced by junk.
    const kept = [...protobufFields(bytes)].filter((f) => f.number !== ONNX_GRAPH_FIELD).map((f) => bytes.subarray(f.start, f.end));
    writeFileSync(broken, Buffer.concat([...kept, Buffer.from([ONNX_GRAPH_FIELD * 8 + 2, 3, 0xff, 0xff, 0xff])]));
    await expect(EmbedderPool.create({ modelPath: broken, providers: ['cpu'] })).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_UNREADABLE', broken));
  });

  test('a model whose outputs are not the contract: GEOLOC_ERR_MODEL_METADATA', async () => {
    const renamed = join(tmp, 'renamed.onnx');
    // Same length, so every protobuf length stays valid; node and graph outputs both change.
    writeFileSync(renamed, Buffer.from(readFileSync(modelPath).toString('latin1').replaceAll('descriptor', 'descripTOR'), 'latin1'));
    copyFileSync(siblingJsonPath(modelPath), siblingJsonPath(renamed));
    await expect(EmbedderPool.create({ modelPath: renamed, providers: ['cpu'] })).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_METADATA', "outputs 'descriptor'"));
  });

  test('metadata whose dimension the network does not produce: GEOLOC_ERR_MODEL_METADATA', async () => {
    const lying = join(tmp, 'lying.onnx');
    writeFileSync(lying, withoutOnnxMetadata(readFileSync(modelPath)));
    const json = JSON.parse(readFileSync(siblingJsonPath(modelPath), 'utf8'));
    writeFileSync(siblingJsonPath(lying), JSON.stringify({ ...json, dim: json.dim + 1 }));
    await expect(EmbedderPool.create({ modelPath: lying, providers: ['cpu'] })).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_METADATA', `dim ${json.dim + 1}`));
  });
});
