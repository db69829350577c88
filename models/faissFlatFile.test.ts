import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaissFormatError, parseFlatIndex } from './faissFlatFile';
import type { IndexRequest } from './indexWorker';
import { startIndexWorker } from './startIndexWorker';
import { mulberry32 } from '../pipeline/core/random';

const DIM = 12;
const COUNT = 37;

describe('parseFlatIndex', () => {
  let tmp: string;
  let file: string;
  let vectors: Float32Array;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-faiss-'));
    file = join(tmp, 'flat.faiss');
    const random = mulberry32(9);
    vectors = Float32Array.from({ length: COUNT * DIM }, () => random() * 2 - 1);
    // faiss-node itself writes the file (IndexFlatIP.write), in the index worker.
    const worker = await startIndexWorker('test index writer');
    try {
      await worker.request({ type: 'write', file, dim: DIM, vectors: vectors.slice() } satisfies IndexRequest);
    } finally {
      await worker.close();
    }
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('reads back what FAISS wrote: metric, dimension, count and every float', () => {
    const parsed = parseFlatIndex(readFileSync(file));
    expect(parsed).toMatchObject({ metric: 'inner_product', dim: DIM, ntotal: COUNT });
    expect(parsed.vectors).toEqual(vectors);
  });

  test('refuses another format, a truncated file and trailing bytes', () => {
    const bytes = readFileSync(file);
    expect(() => parseFlatIndex(Buffer.from('IxHN' + 'x'.repeat(60)))).toThrow(FaissFormatError);
    expect(() => parseFlatIndex(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
    expect(() => parseFlatIndex(bytes.subarray(0, 20))).toThrow(/truncated/);
    expect(() => parseFlatIndex(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/unexpected bytes/);
  });
});
