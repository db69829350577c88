import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coded } from '../tests/support/coded';
import { waitFor } from '../tests/support/processes';
import { startTogether, WorkerClient } from './workerClient';

/**
 * A worker script built on workerHost: echoes, throws coded errors, dies on request, or holds
 * its thread in a long synchronous call (as a native ONNX Runtime run does), leaving a file
 * when it starts and when it ends.
 */
const SCRIPT = `
const { serveRequests } = require(${JSON.stringify(join(__dirname, 'workerHost.js'))});
const { GeolocError } = require(${JSON.stringify(join(__dirname, '..', 'pipeline', 'core', 'errors.js'))});
const { workerData } = require('node:worker_threads');
const { writeFileSync } = require('node:fs');
serveRequests(
  async () => {
    if (workerData === 'refuse') throw new GeolocError('GEOLOC_ERR_MODEL_UNREADABLE', 'refused at startup');
    return { hello: workerData };
  },
  async (body) => {
    if (body === 'die') process.exit(3);
    if (body && body.busy) {
      writeFileSync(body.busy + '.started', '');
      for (const until = Date.now() + 300; Date.now() < until; );
      writeFileSync(body.busy + '.finished', '');
      return { result: 'done' };
    }
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

  test('startTogether closes the workers that started when another fails to, and throws its error', async () => {
    let started: WorkerClient<{ hello: string }> | undefined;
    const first = WorkerClient.start<{ hello: string }>(script, 'first', 'test').then((c) => (started = c));
    await expect(startTogether([first, WorkerClient.start(script, 'refuse', 'test')] as const)).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_UNREADABLE', 'refused at startup'));
    await expect(started!.request('after')).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_CLOSED', 'was closed'));
  });

  test('startTogether gives every worker, in order, when all start', async () => {
    const [a, none, b] = await startTogether([WorkerClient.start<{ hello: string }>(script, 'a', 'test'), undefined, WorkerClient.start<{ hello: string }>(script, 'b', 'test')] as const);
    try {
      expect([a.ready.hello, none, b.ready.hello]).toEqual(['a', undefined, 'b']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('close() lets the call in progress return before the worker exits, and starts none of those queued', async () => {
    const client = await WorkerClient.start(script, 'x', 'test');
    const running = join(tmp, 'running');
    const queued = join(tmp, 'queued');
    const first = expect(client.request({ busy: running })).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_CLOSED'));
    const second = expect(client.request({ busy: queued })).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_CLOSED'));
    await waitFor(() => existsSync(`${running}.started`), 5000, 'the worker to start its call');
    await client.close();
    await Promise.all([first, second]);
    // terminating the thread would have cut the call short
    expect(existsSync(`${running}.finished`)).toBe(true);
    expect(existsSync(`${queued}.started`)).toBe(false);
  });

  test('a worker that dies fails its request and every later one with GEOLOC_ERR_WORKER_FAILED', async () => {
    const client = await WorkerClient.start(script, 'x', 'test');
    await expect(client.request('die')).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_FAILED', 'exited unexpectedly (code 3)'));
    await expect(client.request('after')).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_FAILED'));
    await client.close();
    await client.close();
  });
});
