import { startIndexWorker } from './startIndexWorker';

describe('startIndexWorker', () => {
  const saved = process.env.OMP_WAIT_POLICY;
  afterEach(() => {
    if (saved === undefined) delete process.env.OMP_WAIT_POLICY;
    else process.env.OMP_WAIT_POLICY = saved;
  });

  test('asks OpenMP to let idle FAISS threads sleep before faiss-node loads, and answers requests', async () => {
    delete process.env.OMP_WAIT_POLICY;
    const worker = await startIndexWorker('test index worker');
    try {
      expect(process.env.OMP_WAIT_POLICY).toBe('passive');
      // a search before any load is refused by the worker itself: it is up and serving
      await expect(worker.request({ type: 'search', queries: new Float32Array(4), n: 1, k: 1 })).rejects.toThrow(/search before load/);
    } finally {
      await worker.close();
    }
  });

  test('keeps a wait policy the user set', async () => {
    process.env.OMP_WAIT_POLICY = 'active';
    const worker = await startIndexWorker('test index worker');
    await worker.close();
    expect(process.env.OMP_WAIT_POLICY).toBe('active');
  });
});
