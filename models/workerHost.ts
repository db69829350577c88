/** Worker-thread side of the request/response protocol (see workerProtocol.ts). */
import { parentPort } from 'node:worker_threads';
import { toWireError, type RequestMessage, type ResponseMessage, type StartupMessage } from './workerProtocol';

export interface Reply {
  result: unknown;
  /** buffers handed to the main thread instead of copied */
  transfer?: ArrayBuffer[];
}

function port() {
  if (!parentPort) throw new Error('this module runs only inside a worker thread');
  return parentPort;
}

/**
 * Runs `startup`, reports it, then answers requests one at a time: the native calls a
 * worker wraps (ONNX Runtime, FAISS) are synchronous, so a queue costs nothing.
 */
export function serveRequests<Ready>(startup: () => Promise<Ready>, handle: (body: unknown) => Promise<Reply>): void {
  const parent = port();
  let queue = Promise.resolve();
  startup().then(
    (ready) => {
      parent.postMessage({ type: 'ready', ready } satisfies StartupMessage<Ready>);
      parent.on('message', ({ id, body }: RequestMessage) => {
        queue = queue.then(async () => {
          let response: ResponseMessage;
          let transfer: ArrayBuffer[] = [];
          try {
            const reply = await handle(body);
            response = { id, ok: true, result: reply.result };
            transfer = reply.transfer ?? [];
          } catch (err) {
            response = { id, ok: false, error: toWireError(err) };
          }
          parent.postMessage(response, transfer);
        });
      });
    },
    (err: unknown) => parent.postMessage({ type: 'startup-error', error: toWireError(err) } satisfies StartupMessage<Ready>),
  );
}

/** A typed array's own buffer when it spans all of it, else a copy: safe to transfer. */
export function ownBuffer<T extends Float32Array | Int32Array | Float64Array>(array: T): T {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer ? array : (array.slice() as T);
}
