import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { EmbedderPool, type EmbeddingBatch } from '../models/embedderPool';
import { imageTensorLength } from '../models/tensor';
import { tinyModelPath } from '../tests/support/tinyModel';
import { embedFrames } from './embedFrames';

const WORKERS = 2;

describe('embedFrames with the real tiny model in ONNX Runtime workers', () => {
  let pool: EmbedderPool;

  beforeAll(async () => {
    pool = await EmbedderPool.create({ modelPath: await tinyModelPath(), workers: WORKERS, providers: ['cpu'], intraOpThreads: 1 });
  });
  afterAll(() => pool.close());

  function batch(id: number, n: number) {
    const input = new Float32Array(n * imageTensorLength(pool.info));
    for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 0.01 + id);
    return { id, n, input };
  }

  test('keeps input order with batches in flight on every worker, and matches embedding each batch alone', async () => {
    const batches = [batch(0, 3), batch(1, 1), batch(2, 4), batch(3, 2), batch(4, 1)];
    const alone: EmbeddingBatch[] = [];
    for (const b of batches) alone.push(await pool.embed(b.input.slice(), b.n));
    let inFlight = 0;
    let mostInFlight = 0;
    const counting = {
      embed: async (input: Float32Array, n: number) => {
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          return await pool.embed(input, n);
        } finally {
          inFlight -= 1;
        }
      },
    };
    const out = await lastValueFrom(from(batches).pipe(embedFrames(counting, WORKERS), toArray()));
    expect(out.map((b) => b.id)).toEqual([0, 1, 2, 3, 4]);
    expect(mostInFlight).toBe(WORKERS);
    out.forEach((b, i) => {
      expect(b.embedding.n).toBe(batches[i]!.n);
      expect(b.embedding.dim).toBe(pool.info.dim);
      const expected = alone[i]!.descriptors;
      b.embedding.descriptors.forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 5));
    });
  });

  test('an embedding failure errors the stream with its code', async () => {
    const wrongSize = { id: 9, n: 2, input: new Float32Array(5) };
    await expect(lastValueFrom(from([wrongSize]).pipe(embedFrames(pool, WORKERS)))).rejects.toMatchObject({ code: 'GEOLOC_ERR_TENSOR_SHAPE' });
  });

  test('empty input completes; unsubscribing drops results still in flight', async () => {
    await expect(lastValueFrom(from([] as Array<ReturnType<typeof batch>>).pipe(embedFrames(pool), toArray()))).resolves.toEqual([]);
    const input = new Subject<ReturnType<typeof batch>>();
    const received: number[] = [];
    let started = 0;
    const tracking = { embed: (x: Float32Array, n: number) => (started++, pool.embed(x, n)) };
    const subscription = input.pipe(embedFrames(tracking, 1)).subscribe((b) => received.push(b.id));
    input.next(batch(0, 1));
    input.next(batch(1, 1));
    subscription.unsubscribe();
    input.next(batch(2, 1));
    await pool.embed(batch(7, 1).input, 1);
    expect(started).toBe(1);
    expect(received).toEqual([]);
  });

  test('rejects a concurrency below one', () => {
    expect(() => embedFrames(pool, 0)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_PIPELINE_CONFIG' }));
  });
});
