import { TestScheduler } from 'rxjs/testing';
import { GeolocError } from '../pipeline/core/errors';
import { RecordingLogger } from '../pipeline/core/log';
import { reconnectWithBackoff } from './reconnectWithBackoff';

const lost = new GeolocError('GEOLOC_ERR_STREAM_LOST', 'sender went away');

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('reconnectWithBackoff', () => {
  test('resubscribes after a doubling, capped delay and logs each attempt', () => {
    const testScheduler = scheduler();
    const logger = new RecordingLogger();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('#', undefined, lost);
      const reconnecting = source.pipe(reconnectWithBackoff({ initialDelayMs: 2, maxDelayMs: 5, maxAttempts: 3, scheduler: testScheduler, logger }));
      // attempts at 0, then after 2, 4, 5 (capped) ms; the fourth failure gives up at 11
      expectObservable(reconnectingErrorCode(reconnecting)).toBe('11ms (e|)', { e: 'GEOLOC_ERR_STREAM_LOST' });
      expectSubscriptions(source.subscriptions).toBe(['(^!)', '2ms (^!)', '6ms (^!)', '11ms (^!)']);
    });
    expect(logger.withCode('GEOLOC_ERR_STREAM_LOST').map((r) => r.delayMs)).toEqual([2, 4, 5]);
  });

  test('a delivered value resets the attempt count', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const source = cold('a#', { a: 1 }, lost);
      const reconnecting = source.pipe(reconnectWithBackoff({ initialDelayMs: 3, maxAttempts: 1, scheduler: testScheduler }));
      // every attempt delivers a value before failing, so it never gives up
      expectObservable(reconnecting, '^ 12ms !').toBe('a---a---a---a', { a: 1 });
    });
  });

  test('errors that are not retriable pass straight through', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fatal = new Error('not a stream loss');
      expectObservable(cold('a#', undefined, fatal).pipe(reconnectWithBackoff({ maxAttempts: 5 }))).toBe('a#', undefined, fatal);
    });
  });

  test('completion and empty sources complete', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('|').pipe(reconnectWithBackoff())).toBe('|');
      expectObservable(cold('ab|').pipe(reconnectWithBackoff())).toBe('ab|');
    });
  });

  test('early unsubscribe cancels a pending reconnect', () => {
    const testScheduler = scheduler();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a#', undefined, lost);
      expectObservable(source.pipe(reconnectWithBackoff({ initialDelayMs: 10, scheduler: testScheduler })), '^ 4ms !').toBe('a');
      expectSubscriptions(source.subscriptions).toBe('^!');
    });
  });

  test('a throwing isRetriable callback errors the stream', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const broken = new Error('classifier failed');
      const isRetriable = () => {
        throw broken;
      };
      expectObservable(cold('-#', undefined, lost).pipe(reconnectWithBackoff({ isRetriable }))).toBe('-#', undefined, broken);
    });
  });
});

/** The error's code as a value, so marbles can compare it. */
function reconnectingErrorCode<T>(source: import('rxjs').Observable<T>) {
  return new (require('rxjs').Observable)((subscriber: import('rxjs').Subscriber<string>) =>
    source.subscribe({
      error: (err: GeolocError) => {
        subscriber.next(err.code);
        subscriber.complete();
      },
    }),
  );
}
