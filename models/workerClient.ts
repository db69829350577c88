/** Main-thread side of a request/response worker thread (see workerProtocol.ts). */
import { Worker } from 'node:worker_threads';
import { GeolocError } from '../pipeline/core/errors';
import { type CloseMessage, fromWireError, type ResponseMessage, type StartupMessage } from './workerProtocol';

/**
 * How long close() waits for the worker to leave the call it is in before terminating it:
 * longer than any one model batch or index search takes.
 */
export const WORKER_CLOSE_GRACE_MS = 60_000;

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

export class WorkerClient<Ready> {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** set once the worker died: every later request fails with it */
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly exited: Promise<void>;
  private markExited!: () => void;

  private constructor(
    private readonly worker: Worker,
    readonly ready: Ready,
    private readonly label: string,
  ) {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    worker.on('message', (message: ResponseMessage) => this.settle(message));
    worker.on('error', (err) => this.fail(new GeolocError('GEOLOC_ERR_WORKER_FAILED', `${label} worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      this.markExited();
      if (!this.closed) this.fail(new GeolocError('GEOLOC_ERR_WORKER_FAILED', `${label} worker exited unexpectedly (code ${code})`));
    });
  }

  /** Starts the worker script and waits for its startup message. */
  static start<Ready>(script: string, workerData: unknown, label: string): Promise<WorkerClient<Ready>> {
    const worker = new Worker(script, { workerData });
    return new Promise((resolve, reject) => {
      const onFailure = (err: Error): void => {
        cleanup();
        void worker.terminate();
        reject(err);
      };
      const onError = (err: Error) => onFailure(new GeolocError('GEOLOC_ERR_WORKER_FAILED', `${label} worker failed to start: ${err.message}`, { cause: err }));
      const onExit = (code: number) => onFailure(new GeolocError('GEOLOC_ERR_WORKER_FAILED', `${label} worker exited while starting (code ${code})`));
      const onMessage = (message: StartupMessage<Ready>) => {
        if (message.type === 'startup-error') return onFailure(fromWireError(message.error));
        cleanup();
        resolve(new WorkerClient(worker, message.ready, label));
      };
      const cleanup = () => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.off('message', onMessage);
      };
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.once('message', onMessage);
    });
  }

  /** Requests not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  request<Result>(body: unknown, transfer: ArrayBuffer[] = []): Promise<Result> {
    if (this.closed) return Promise.reject(new GeolocError('GEOLOC_ERR_WORKER_CLOSED', `${this.label} was closed; create a new one`));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      this.worker.postMessage({ id, body }, transfer);
    });
  }

  /**
   * Ends the worker; pending requests reject with GEOLOC_ERR_WORKER_CLOSED at once. The worker
   * exits when the call it is in returns: terminating a thread inside a native call (an ONNX
   * Runtime run) can abort the whole process. One that has not exited after
   * WORKER_CLOSE_GRACE_MS is terminated. Safe to call twice.
   */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.failAll(new GeolocError('GEOLOC_ERR_WORKER_CLOSED', `${this.label} was closed while a request was in flight`));
      this.worker.postMessage({ close: true } satisfies CloseMessage);
      const overdue = setTimeout(() => void this.worker.terminate(), WORKER_CLOSE_GRACE_MS);
      this.closing = this.exited.finally(() => clearTimeout(overdue));
    }
    return this.closing;
  }

  private settle(message: ResponseMessage): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(fromWireError(message.error));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.failAll(err);
  }

  private failAll(err: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(err);
  }
}

/** Workers started side by side; when one fails to start, the others are closed (their threads would keep the process alive) and its error thrown. */
export async function startTogether<T extends readonly (Promise<{ close(): Promise<void> } | undefined> | undefined)[]>(starting: T): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starting);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value?.close() : undefined)));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { [K in keyof T]: Awaited<T[K]> };
}
