import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coded } from '../tests/support/coded';
import { WorkerClient } from './workerClient';

/** A worker script built on workerHost: echoes, throws coded errors, or dies on request. */
const SCRIPT = `
const { serveRequests } = require(${JSON.stringify(join(__dirname, 'workerHost.js'))});
const { GeolocError } = require(${JSON.stringify(join(__dirname, '..', 'pipeline', 'errors.js'))});
const { workerData } = require('node:worker_threads');
serveRequests(
  async () => {
    if (workerData === 'refuse') throw new GeolocError('GEOLOC_ERR_MODEL_UNREADABLE', 'refused at startup');
    return { hello: workerData };
  },
  async (body) => {
    if (body === 'die') process.exit(3);
    if (body === 'coded') throw new GeolocError('GEOLOC_ERR_INDEX_CORRUPT', 'coded failure');
    if (body === 'plain') throw new TypeError('plain failure');
    const data = new Float32Array([1, 2, 3]);
    return { result: { echo: body, data }, transfer: [data.buffer] };
  },
);
`;

describe('WorkerClient', () => {
  let tmp: string;
  let script: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-worker-'));
    script = join(tmp, 'worker.js');
    writeFileSync(script, SCRIPT);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('answers requests with what the worker reports, transferred buffers included', async () => {
    const client = await WorkerClient.start<{ hello: string }>(script, 'there', 'test');
    try {
      expect(client.ready).toEqual({ hello: 'there' });
      const [a, b] = await Promise.all([client.request<{ echo: number; data: Float32Array }>(1), client.request<{ echo: number }>(2)]);
      expect(a.echo).toBe(1);
      expect(b.echo).toBe(2);
      expect([...a.data]).toEqual([1, 2, 3]);
    } finally {
      await client.close();
    }
  });

  test('a coded error keeps its code across the thread; others stay plain errors', async () => {
    const client = await WorkerClient.start(script, 'x', 'test');
    try {
      await expect(client.request('coded')).rejects.toMatchObject(coded('GEOLOC_ERR_INDEX_CORRUPT', 'coded failure'));
      await expect(client.request('plain')).rejects.toThrow('plain failure');
      expect(await client.request<{ echo: string }>('still fine')).toMatchObject({ echo: 'still fine' });
    } finally {
      await client.close();
    }
  });

  test('a startup failure rejects start() with its code', async () => {
    await expect(WorkerClient.start(script, 'refuse', 'test')).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_UNREADABLE', 'refused at startup'));
  });

  test('a worker that dies fails its request and every later one with GEOLOC_ERR_WORKER_FAILED', async () => {
    const client = await WorkerClient.start(script, 'x', 'test');
    await expect(client.request('die')).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_FAILED', 'exited unexpectedly (code 3)'));
    await expect(client.request('after')).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_FAILED'));
    await client.close();
    await client.close();
  });
});
