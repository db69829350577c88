import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { GeolocError } from '../pipeline/core/errors';

/**
 * Groups values into arrays of at most `maxBatch`, emitted when full or `maxWaitMs` after the
 * first value of the batch arrived, whichever comes first; a partial batch is flushed when the
 * source completes. It never emits an empty batch. With `maxWaitMs` = Infinity only a full
 * batch or completion emits, so the batches do not depend on timing.
 */
export function batchFrames<T>(maxBatch: number, maxWaitMs: number, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<T, T[]> {
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || !(maxWaitMs >= 0)) {
    throw new GeolocError('GEOLOC_ERR_PIPELINE_CONFIG', `batchFrames: maxBatch must be a whole number ≥ 1 and maxWaitMs ≥ 0 (got ${maxBatch}, ${maxWaitMs})`);
  }
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let deadline: Subscription | undefined;

      const flush = () => {
        deadline?.unsubscribe();
        deadline = undefined;
        if (batch.length === 0) return;
        const full = batch;
        batch = [];
        subscriber.next(full);
      };

      const upstream = source.subscribe({
        next(value) {
          batch.push(value);
          if (batch.length >= maxBatch) flush();
          else if (batch.length === 1 && Number.isFinite(maxWaitMs)) deadline = scheduler.schedule(flush, maxWaitMs);
        },
        error: (err) => subscriber.error(err),
        complete() {
          flush();
          subscriber.complete();
        },
      });

      return () => {
        upstream.unsubscribe();
        deadline?.unsubscribe();
        batch = [];
      };
    });
}
