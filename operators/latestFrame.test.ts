import { timer, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { latestFrame } from './latestFrame';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('latestFrame', () => {
  test('while busy, the newest value waits and older ones are dropped and counted', () => {
    const drops: Array<[string, number]> = [];
    scheduler().run(({ cold, hot, expectObservable }) => {
      // each value takes 5 frames of work; b, c, d arrive while a is running: d wins
      const source = hot('a-bcd------e---|');
      const work = (v: string) => cold('----(x|)', { x: v.toUpperCase() });
      expectObservable(source.pipe(latestFrame(work, { onDrop: (v, n) => drops.push([v, n]) }))).toBe('----A---D------(E|)');
    });
    expect(drops).toEqual([
        ['b', 1],
      ['c', 2],
    ]);
  });

  test('runs values straight through when the work keeps up', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a---b---c|');
      expectObservable(source.pipe(latestFrame((v) => cold('-(x|)', { x: v + '!' })))).toBe('-x---y---(z|)', { x: 'a!', y: 'b!', z: 'c!' });
    });
  });

  test('waits for the running work and the waiting value before completing', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('ab|');
      expectObservable(source.pipe(latestFrame((v) => timer(3).pipe(map(() => v))))).toBe('---a--(b|)');
    });
  });

  test('empty source completes at once', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('--|').pipe(latestFrame((v) => cold('-(x|)', { x: v })))).toBe('--|');
    });
  });

  test('an error from the source or the work is passed on', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-#').pipe(latestFrame((v) => cold('-(x|)', { x: v })))).toBe('-x#', { x: 'a' });
      expectObservable(cold('a--').pipe(latestFrame(() => cold('-#')))).toBe('-#');
    });
  });

  test('early unsubscribe cancels the running work and the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|');
      const work = cold('---(x|)');
      expectObservable(source.pipe(latestFrame(() => work)), '^--!').toBe('');
      expectSubscriptions(source.subscriptions).toBe('^--!');
      expectSubscriptions(work.subscriptions).toBe('^--!');
    });
  });

  test('a throwing project or onDrop errors the stream', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const boom = new Error('project failed');
      expectObservable(
        cold('a|').pipe(
          latestFrame(() => {
            throw boom;
          }),
        ),
      ).toBe('#', undefined, boom);
      const dropFailed = new Error('onDrop failed');
      const onDrop = () => {
        throw dropFailed;
      };
      expectObservable(hot('abc---').pipe(latestFrame((v) => cold('-----(x|)', { x: v }), { onDrop }))).toBe('--#', undefined, dropFailed);
    });
  });
});
