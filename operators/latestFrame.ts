import { from, Observable, type ObservableInput, type OperatorFunction, type Subscription } from 'rxjs';

export interface LatestFrameOptions<T> {
  /** told each value that was replaced by a newer one before `project` could take it, with the running count */
  onDrop?: (dropped: T, droppedSoFar: number) => void;
}

/**
 * Live-stream flow control: runs `project` on one value at a time; values that arrive while
 * it is busy wait in a single slot where the newest replaces the older (a drop, counted).
 * When the running inner completes, the waiting value starts. Output order follows input order.
 * It completes when the source has completed and nothing is running or waiting.
 */
export function latestFrame<T, R>(project: (value: T, index: number) => ObservableInput<R>, options: LatestFrameOptions<T> = {}): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let running: Subscription | undefined;
      let waiting: { value: T } | undefined;
      let dropped = 0;
      let index = 0;
      let sourceDone = false;

      const start = (value: T) => {
        let inner: ObservableInput<R>;
        try {
          inner = project(value, index++);
        } catch (err) {
          subscriber.error(err);
          return;
        }
        let innerDone = false;
        const subscription = from(inner).subscribe({
          next: (result) => subscriber.next(result),
          error: (err) => subscriber.error(err),
          complete: () => {
            innerDone = true;
            running = undefined;
            startNext();
          },
        });
        if (!innerDone) running = subscription;
      };

      const startNext = () => {
        if (waiting) {
          const { value } = waiting;
          waiting = undefined;
          start(value);
        } else if (sourceDone) {
          subscriber.complete();
        }
      };

      const upstream = source.subscribe({
        next(value) {
          if (!running) {
            start(value);
            return;
          }
          if (waiting) {
            dropped += 1;
            try {
              options.onDrop?.(waiting.value, dropped);
            } catch (err) {
              subscriber.error(err);
              return;
            }
          }
          waiting = { value };
        },
        error: (err) => subscriber.error(err),
        complete() {
          sourceDone = true;
          if (!running) startNext();
        },
      });

      return () => {
        upstream.unsubscribe();
        running?.unsubscribe();
        waiting = undefined;
      };
    });
}
