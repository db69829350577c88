import { asyncScheduler, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { backoffDelayMs, type BackoffPolicy, DEFAULT_BACKOFF } from '../pipeline/core/backoff';
import { GeolocError, isGeolocError } from '../pipeline/core/errors';
import { type Logger, silentLogger } from '../pipeline/core/log';

export interface ReconnectOptions extends BackoffPolicy {
  /** consecutive failed attempts before giving up (a delivered value resets the count) */
  maxAttempts: number;
  /** which errors mean "the stream went away" rather than "this will never work" */
  isRetriable: (err: unknown) => boolean;
  /** names the stream in log lines and the final error */
  describe: string;
  logger: Logger;
  scheduler: SchedulerLike;
}

export const DEFAULT_RECONNECT_OPTIONS: ReconnectOptions = {
  ...DEFAULT_BACKOFF,
  maxAttempts: 8,
  isRetriable: (err) => isGeolocError(err, 'GEOLOC_ERR_STREAM_LOST'),
  describe: 'live stream',
  logger: silentLogger,
  scheduler: asyncScheduler,
};

/**
 * Resubscribes to a live source that errors with a retriable error, after an exponential,
 * capped backoff, logging each attempt as GEOLOC_ERR_STREAM_LOST. After `maxAttempts`
 * consecutive failures it errors with GEOLOC_ERR_STREAM_LOST; a value in between resets the count.
 */
export function reconnectWithBackoff<T>(options: Partial<ReconnectOptions> = {}): MonoTypeOperatorFunction<T> {
  const { initialDelayMs, maxDelayMs, maxAttempts, isRetriable, describe, logger, scheduler } = { ...DEFAULT_RECONNECT_OPTIONS, ...options };
  return (source) =>
    new Observable<T>((subscriber) => {
      let failures = 0;
      let attempt: Subscription | undefined;
      let wait: Subscription | undefined;

      const retryOrFail = (err: unknown) => {
        let retriable: boolean;
        try {
          retriable = isRetriable(err);
        } catch (callbackError) {
          subscriber.error(callbackError);
          return;
        }
        if (!retriable) {
          subscriber.error(err);
          return;
        }
        failures += 1;
        const reason = err instanceof Error ? err.message : String(err);
        if (failures > maxAttempts) {
          subscriber.error(
            new GeolocError('GEOLOC_ERR_STREAM_LOST', `${describe}: gave up after ${maxAttempts} reconnect attempts (last: ${reason}); check that the sender is running`, { cause: err }),
          );
          return;
        }
        const delayMs = backoffDelayMs({ initialDelayMs, maxDelayMs }, failures);
        logger.log({ level: 'warn', code: 'GEOLOC_ERR_STREAM_LOST', message: `${describe} lost (${reason}); reconnecting in ${delayMs} ms, attempt ${failures} of ${maxAttempts}`, attempt: failures, delayMs });
        wait = scheduler.schedule(connect, delayMs);
      };

      function connect(): void {
        attempt = source.subscribe({
          next(value) {
            failures = 0;
            subscriber.next(value);
          },
          error: retryOrFail,
          complete: () => subscriber.complete(),
        });
      }

      connect();
      return () => {
        attempt?.unsubscribe();
        wait?.unsubscribe();
      };
    });
}
