import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { batchFrames } from './batchFrames';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('batchFrames', () => {
  test('emits a batch as soon as it is full', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('abcdef|');
      expectObservable(source.pipe(batchFrames(3, 100))).toBe('--x--y|', { x: ['a', 'b', 'c'], y: ['d', 'e', 'f'] });
    });
  });

  test('emits a partial batch maxWaitMs after its first value', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 1ms b 20ms c 50ms |');
      // a at 0, b at 2: deadline at 10; c at 23 opens a new batch: deadline at 33; completion at 74
      expectObservable(source.pipe(batchFrames(4, 10))).toBe('10ms x 22ms y 40ms |', { x: ['a', 'b'], y: ['c'] });
    });
  });

  test('with maxWaitMs = Infinity only full batches and completion emit', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 100ms b 1000ms c 5000ms |');
      expectObservable(source.pipe(batchFrames(2, Infinity))).toBe('101ms x 6001ms (y|)', { x: ['a', 'b'], y: ['c'] });
    });
  });

  test('empty source completes without a batch', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('---|').pipe(batchFrames(2, 5))).toBe('---|');
    });
  });

  test('an error is passed on and the pending batch is not emitted', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-#', undefined, new Error('boom')).pipe(batchFrames(2, 50))).toBe('--#', undefined, new Error('boom'));
    });
  });

  test('early unsubscribe cancels the deadline and the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a 30ms b|');
      expectObservable(source.pipe(batchFrames(5, 20)), '^ 10ms !').toBe('');
      expectSubscriptions(source.subscriptions).toBe('^ 10ms !');
    });
  });

  test('a throwing callback upstream errors the stream', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const failing = cold('ab|').pipe(
        map((v) => {
          if (v === 'b') throw new Error('callback failed');
          return v;
        }),
      );
      expectObservable(failing.pipe(batchFrames(3, 10))).toBe('-#', undefined, new Error('callback failed'));
    });
  });

  test('rejects a batch size below one with a coded error', () => {
    expect(() => batchFrames(0, 10)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_PIPELINE_CONFIG' }));
    expect(() => batchFrames(2.5, 10)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_PIPELINE_CONFIG' }));
  });
});
