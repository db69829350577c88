import { from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RecordingLogger } from '../pipeline/core/log';
import { simulateFlight } from '../tests/support/trackingSimulation';
import { TrackFilter } from '../pipeline/tracking/trackFilter';
import type { Measurement, TrackEstimate } from '../pipeline/tracking/types';
import { coded } from '../tests/support/coded';
import { smoothTrack, type Tracked } from './smoothTrack';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const measurements = simulateFlight({ seed: 6, durationS: 4 }).map((f) => f.measurement);
const a = measurements[0]!;
const b = measurements[1]!;
const c = measurements[2]!;
const d = measurements[3]!;
const values = { a, b, c, d };
const badLatitude: Measurement = { ...c, candidates: [{ ...c.candidates[0]!, lat: Number.NaN }] };
const estimates = map((tracked: Tracked<Measurement>) => tracked.estimate);
const frameOf = map((tracked: Tracked<Measurement>) => tracked.estimate.frame);

describe('smoothTrack', () => {
  test('one estimate per measurement, in order, identical to a TrackFilter fed the same', () => {
    const filter = new TrackFilter();
    const expected = [a, b, c, d].map((m) => filter.update(m));
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b-c-d|', values).pipe(smoothTrack(), estimates)).toBe('a-b-c-d|', {
        a: expected[0],
        b: expected[1],
        c: expected[2],
        d: expected[3],
      });
    });
  });

  test('empty source completes at once', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Measurement>('---|').pipe(smoothTrack())).toBe('---|');
    });
  });

  test('nothing is emitted before the first measurement with candidates', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const empty: Measurement = { frame: 0, t: 0, candidates: [] };
      expectObservable(cold('e-b|', { e: empty, b }).pipe(smoothTrack(), frameOf)).toBe('--x|', { x: b.frame });
    });
  });

  test('an error from the source is passed on', () => {
    const failure = new Error('search failed');
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b-#', values, failure).pipe(smoothTrack(), frameOf)).toBe('a-b-#', { a: a.frame, b: b.frame }, failure);
    });
  });

  test('early unsubscribe unsubscribes from the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|', values);
      expectObservable(source.pipe(smoothTrack(), frameOf), '^--!').toBe('a-b', { a: a.frame, b: b.frame });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  test('a throwing onEstimate callback errors the stream cleanly and unsubscribes from the source', () => {
    const failure = new Error('map client went away');
    let calls = 0;
    const onEstimate = () => {
      if (++calls === 2) throw failure;
    };
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|', values);
      expectObservable(source.pipe(smoothTrack({ onEstimate }), frameOf)).toBe('a-#', { a: a.frame }, failure);
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    expect(calls).toBe(2);
  });

  test('a malformed measurement is skipped with a coded warning by default', () => {
    const logger = new RecordingLogger();
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-b-x-d|', { ...values, x: badLatitude });
      expectObservable(source.pipe(smoothTrack({ logger }), frameOf)).toBe('a-b---d|', { a: a.frame, b: b.frame, d: d.frame });
    });
    const warnings = logger.withCode('GEOLOC_ERR_TRACK_INPUT');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', message: expect.stringContaining('candidates[0].lat') });
  });

  test("with invalidMeasurements: 'error', a malformed measurement ends the stream with the coded error", () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-x-d|', { ...values, x: { ...b, t: a.t - 1 } });
      const result = source.pipe(smoothTrack({ invalidMeasurements: 'error' }), frameOf);
      expectObservable(result).toBe('a-b-#', { a: a.frame, b: b.frame }, expect.objectContaining(coded('GEOLOC_ERR_TRACK_INPUT', 'before the previous measurement')));
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  test('each subscription has its own filter', () => {
    const once = from([a, b, c]).pipe(smoothTrack());
    const first: TrackEstimate[] = [];
    const second: TrackEstimate[] = [];
    once.subscribe(({ estimate }) => first.push(estimate));
    once.subscribe(({ estimate }) => second.push(estimate));
    expect(second).toEqual(first);
  });

  test('each estimate comes with the measurement it was made from, extra fields included', () => {
    const tagged = [a, b, c].map((m, i) => ({ ...m, tag: `frame ${i}` }));
    const out: Tracked<(typeof tagged)[number]>[] = [];
    from(tagged).pipe(smoothTrack()).subscribe((tracked) => out.push(tracked));
    expect(out.map(({ measurement }) => measurement)).toEqual(tagged);
    expect(out.map(({ estimate, measurement }) => estimate.frame - measurement.frame)).toEqual([0, 0, 0]);
  });

  test('bad options are refused when the operator is made', () => {
    expect(() => smoothTrack({ particles: -1 })).toThrow(expect.objectContaining(coded('GEOLOC_ERR_TRACK_OPTIONS', 'particles')));
    expect(() => smoothTrack({ invalidMeasurements: 'ignore' as 'skip' })).toThrow(expect.objectContaining(coded('GEOLOC_ERR_TRACK_OPTIONS', 'invalidMeasurements')));
  });
});
