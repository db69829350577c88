/** Worker-thread side of the request/response protocol (see workerProtocol.ts). */
import { parentPort } from 'node:worker_threads';
import { type CloseMessage, isCloseMessage, toWireError, type RequestMessage, type ResponseMessage, type StartupMessage } from './workerProtocol';

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
 * worker wraps (ONNX Runtime, FAISS) are synchronous, so a queue costs nothing. Asked to
 * close, it exits between calls, never inside one (see WorkerClient.close).
 */
export function serveRequests<Ready>(startup: () => Promise<Ready>, handle: (body: unknown) => Promise<Reply>): void {
  const parent = port();
  let queue = Promise.resolve();
  let closing = false;
  startup().then(
    (ready) => {
      parent.postMessage({ type: 'ready', ready } satisfies StartupMessage<Ready>);
      parent.on('message', (message: RequestMessage | CloseMessage) => {
        if (isCloseMessage(message)) {
          closing = true;
          void queue.then(() => process.exit(0));
          return;
        }
        const { id, body } = message;
        queue = queue.then(async () => {
          // a turn of the event loop first, so that a close that arrived during the call before runs first
          await new Promise(setImmediate);
          // the client already failed what was queued when it asked to close
          if (closing) return;
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
