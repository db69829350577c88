import { Observable, type OperatorFunction } from 'rxjs';
import type { EmbedderPool, EmbeddingBatch } from '../models/embedderPool';
import { GeolocError } from '../pipeline/core/errors';

export type Embedder = Pick<EmbedderPool, 'embed'>;

export interface EmbeddedBatch {
  embedding: EmbeddingBatch;
}

/**
 * Runs each batch through the embedder pool (ONNX Runtime in worker threads), keeping up to
 * `concurrency` batches in flight (one per worker keeps every worker busy while the next batch
 * is decoded) and emitting results in input order. Batches that arrive while all slots are busy
 * wait here. A batch's input is handed to its worker rather than copied (see EmbedderPool.embed),
 * so it is empty from then on: the batch emitted carries its embedding instead.
 */
export function embedFrames<B extends { input: Float32Array | Uint8Array; n: number }>(pool: Embedder, concurrency = 1): OperatorFunction<B, B & EmbeddedBatch> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new GeolocError('GEOLOC_ERR_PIPELINE_CONFIG', `embedFrames: concurrency must be a whole number ≥ 1, got ${concurrency}`);
  }
  return (source) =>
    new Observable<B & EmbeddedBatch>((subscriber) => {
      const waiting: B[] = [];
      // in input order; a slot leaves only when it and every slot before it are done
      const slots: Array<{ batch: B; embedding?: EmbeddingBatch }> = [];
      let sourceDone = false;

      const start = (batch: B) => {
        const slot: { batch: B; embedding?: EmbeddingBatch } = { batch };
        slots.push(slot);
        pool.embed(batch.input, batch.n, { transfer: true }).then(
          (embedding) => {
            slot.embedding = embedding;
            pump();
          },
          (err: unknown) => subscriber.error(err),
        );
      };

      const pump = () => {
        if (subscriber.closed) return;
        while (slots[0]?.embedding) {
          const { batch, embedding } = slots.shift()!;
          subscriber.next({ ...batch, embedding: embedding! });
        }
        while (slots.length < concurrency && waiting.length > 0) start(waiting.shift()!);
        if (sourceDone && slots.length === 0 && waiting.length === 0) subscriber.complete();
      };

      const upstream = source.subscribe({
        next(batch) {
          waiting.push(batch);
          pump();
        },
        error: (err) => subscriber.error(err),
        complete() {
          sourceDone = true;
          pump();
        },
      });
      return () => {
        upstream.unsubscribe();
        waiting.length = 0;
        slots.length = 0;
      };
    });
}
