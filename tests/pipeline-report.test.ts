import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../pipeline/config';
import { configFromArgs } from '../pipeline/pipelineArgs';
import { toFixFeature } from '../pipeline/fixFeature';
import { destination, haversineMeters, type LatLon } from '../pipeline/geo/wgs84';
import { JsonlWriter } from '../pipeline/sinks/jsonl';
import { RecordingLogger } from '../pipeline/core/log';
import { formatReport, holdsTruth, type ReplayReport, ReplayScorer, truthRank } from '../pipeline/replayReport';
import { percentile, summarize } from '../pipeline/core/stats';
import type { TelemetryRecord } from '../pipeline/telemetry';
import type { TrackEstimate } from '../pipeline/tracking/types';
import type { Candidate } from '../pipeline/core/types';
import { testArtifactsDir } from './support/testVideos';

const START = { lat: 46.5, lon: 7.5 };
const SPEED_MPS = 10;

/** A track flying east at 10 m/s, one record a second for `seconds`. */
function eastbound(seconds: number): TelemetryRecord[] {
  return Array.from({ length: seconds + 1 }, (_, t) => ({ index: t + 1, line: 1, t, ...destination(START, 90, SPEED_MPS * t), alt: 100 }));
}

function estimateAt(t: number, offsetM: number, radiusM: number, top1OffsetM: number): TrackEstimate {
  const truth = destination(START, 90, SPEED_MPS * t);
  const p = destination(truth, 0, offsetM);
  const top1 = { tileId: 1, score: 0.9, footprintM: 100, ...destination(truth, 180, top1OffsetM) };
  return { frame: t * 5, t, ...p, radiusM, confidence: 0.5, lost: false, relocalizing: false, method: 'retrieval', candidates: [top1], top1 };
}

describe('replay scoring', () => {
  test('errors, raw top-1 errors and 95% coverage are measured against the interpolated telemetry', () => {
    const scorer = new ReplayScorer(eastbound(10), 'track.srt');
    // offsets 0..9 m north with radius 5.5 m: 6 of 10 inside; top-1 always 30 m south
    for (let i = 0; i < 10; i++) scorer.add(estimateAt(i + 0.5, i, 5.5, 30), 40 + i);
    const s = scorer.scores();
    expect(s.fixesWithTruth).toBe(10);
    expect(s.fixesWithoutTruth).toBe(0);
    expect(s.errorMeters.p50).toBeCloseTo(4.5, 1);
    expect(s.errorMeters.max).toBeCloseTo(9, 1);
    expect(s.rawTop1ErrorMeters.p50).toBeCloseTo(30, 1);
    expect(s.coverage95).toBeCloseTo(0.6, 9);
    expect(s.latencyMs).toMatchObject({ n: 10, max: 49 });
  });

  test('fixes after the telemetry ends have no truth, and the end is logged once as GEOLOC_ERR_TELEMETRY_ENDED', () => {
    const logger = new RecordingLogger();
    const scorer = new ReplayScorer(eastbound(3), 'short.srt', logger);
    for (let t = 0; t <= 8; t++) scorer.add(estimateAt(t, 1, 5, 10), 1);
    const s = scorer.scores();
    expect(s.fixesWithTruth).toBe(4);
    expect(s.fixesWithoutTruth).toBe(5);
    expect(logger.withCode('GEOLOC_ERR_TELEMETRY_ENDED')).toHaveLength(1);
    expect(logger.records[0]!.message).toContain('short.srt');
  });

  /** a 100 m tile whose centre lies `eastM`, `northM` from `truth` */
  const tileAt = (truth: LatLon, eastM: number, northM: number, footprintM = 100): Candidate => {
    const centre = destination(destination(truth, 90, eastM), 0, northM);
    return { tileId: 0, score: 0.5, footprintM, ...centre };
  };

  test('the true cell: a tile holds the truth when it lies in its north-up footprint square (hand-checked)', () => {
    expect(holdsTruth(tileAt(START, 40, 30), START)).toBe(true);
    expect(holdsTruth(tileAt(START, 60, 0), START)).toBe(false); // 60 m east of a 100 m tile's centre: outside
    expect(holdsTruth(tileAt(START, 0, -70, 150), START)).toBe(true); // a 150 m tile reaches 75 m
    expect(holdsTruth(tileAt(START, 45, 45), START)).toBe(true); // a corner: 64 m from the centre, still inside the square
    expect(truthRank([tileAt(START, 60, 0), tileAt(START, 40, 30)], START)).toBe(1);
    expect(truthRank([tileAt(START, 60, 0)], START)).toBeUndefined();
  });

  test('raw recall at 1, 5 and k over the fixes with truth (hand-checked)', () => {
    const K = 6;
    const scorer = new ReplayScorer(eastbound(10), 'track.srt');
    // four fixes whose global top-6 holds the truth at rank 0, 3, 5 and nowhere
    [0, 3, 5, undefined].forEach((rank, t) => {
      const truth = destination(START, 90, SPEED_MPS * t);
      const candidates = Array.from({ length: K }, (_, j) => (j === rank ? tileAt(truth, 10, -10) : tileAt(truth, 500 + 100 * j, 0)));
      scorer.add(estimateAt(t, 0, 10, 0), 1, candidates);
    });
    // a fix after the telemetry ends does not count
    scorer.add(estimateAt(20, 0, 10, 0), 1, [tileAt(START, 0, 0)]);
    expect(scorer.scores().rawRecall).toEqual({ at1: 1 / 4, at5: 2 / 4, atK: 3 / 4, k: K });
    expect(new ReplayScorer(eastbound(1), 'track.srt').scores().rawRecall.at1).toBeNaN();
  });

  test('formatReport shows the seed and the raw recall', () => {
    const scorer = new ReplayScorer(eastbound(10), 'track.srt');
    scorer.add(estimateAt(1, 0, 10, 0), 1);
    const report = { video: 'v.mp4', telemetry: { path: 't.srt', records: 11, endsAtS: 10, parseWarnings: 0 }, framesIn: 1, fixesOut: 1, fps: 1, wallSeconds: 1, scheduling: 'batch', droppedFrames: 0, ...scorer.scores(), model: { path: 'm', sha256: 'ab'.repeat(32), backbone: 'b', version: '1', dim: 64, inputSize: [64, 64], provider: 'cpu' }, index: { dir: 'i', tiles: 9, dim: 64, modelSha256: 'x', scales: [100] }, config: {}, warnings: [] } satisfies Omit<ReplayReport, 'seed'>;
    expect(formatReport({ ...report, seed: null })).toContain('seed    none');
    const seeded = formatReport({ ...report, seed: { lat: 46.5, lon: 7.5, radiusM: 150 } });
    expect(seeded).toContain('tracker started within 150 m of 46.5, 7.5');
    // k = 1: the top-5 and top-k shares would repeat the top-1
    expect(seeded).toMatch(/global top-1 100\.0%$/m);
  });

  test('percentiles interpolate between ranks; empty input gives NaN', () => {
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([0, 10], 95)).toBeCloseTo(9.5, 9);
    expect(summarize([]).p50).toBeNaN();
    expect(haversineMeters(START, destination(START, 45, 100))).toBeCloseTo(100, 3);
  });
});

describe('fixes and their file', () => {
  test('a fix is a GeoJSON Feature with [lon, lat] and the contract properties', () => {
    const feature = toFixFeature({ ...estimateAt(2, 0, 12.34567, 5), searchRegion: undefined }, 'f1', 87.6543);
    expect(feature.geometry.coordinates[0]).toBeCloseTo(destination(START, 90, 20).lon, 7);
    expect(feature.geometry.coordinates[1]).toBeCloseTo(START.lat, 6);
    expect(feature.properties).toMatchObject({ flight: 'f1', frame: 10, t: 2, radiusM: 12.346, confidence: 0.5, lost: false, relocalizing: false, latencyMs: 87.654 });
    expect(feature.properties.top1).toMatchObject({ tileId: 1, score: 0.9 });
  });

  test('the JSONL writer writes whole lines and refuses a folder it cannot write to', () => {
    const path = join(mkdtempSync(join(testArtifactsDir('jsonl'), 'w-')), 'fixes.jsonl');
    const writer = JsonlWriter.open(path);
    writer.write({ a: 1 });
    writer.write({ b: 'two\nlines' });
    writer.close();
    writer.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":"two\\nlines"}\n');
    expect(() => JsonlWriter.open(join(path, 'inside-a-file.jsonl'))).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_OUTPUT_WRITE' }));
  });
});

describe('pipeline settings', () => {
  test('defaults are valid and overrides are merged', () => {
    const config = resolveConfig({ fps: 2, reconnect: { maxAttempts: 3 } as never });
    expect(config).toMatchObject({ fps: 2, k: 10, workers: 'auto', reconnect: { maxAttempts: 3, initialDelayMs: 500 } });
    expect(resolveConfig({ workers: 3 }).workers).toBe(3);
    // registration is on unless turned off (--no-register)
    expect(resolveConfig().register).toBe(true);
    expect(configFromArgs({ register: false }).register).toBe(false);
    expect(resolveConfig().mapSigmaM).toBe(0);
  });

  test.each([
    [{ fps: 0 }, 'fps'],
    [{ maxBatch: 2.5 }, 'maxBatch'],
    [{ k: -1 }, 'k'],
    [{ workers: 0 }, 'workers'],
    [{ workers: 'many' as never }, 'workers'],
    [{ fit: 'zoom' as never }, 'fit'],
    [{ providers: ['tpu' as never] }, 'providers'],
    [{ framesInFlight: 2, maxBatch: 8 }, 'framesInFlight'],
    [{ colour: 'red' } as never, 'colour'],
    [{ register: 'yes' as never }, 'register'],
    [{ mapSigmaM: -1 }, 'mapSigmaM'],
    [{ register: true, fit: 'pad' as const }, 'fit'],
  ])('%j is refused with GEOLOC_ERR_PIPELINE_CONFIG naming %s', (overrides, field) => {
    expect(() => resolveConfig(overrides)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_PIPELINE_CONFIG', message: expect.stringContaining(field) }));
  });

  test('--near/--radius become the tracker prior, joining the --config file tracker settings', () => {
    expect(configFromArgs({ near: '46.5,7.5', radius: '300' }).tracker.prior).toEqual({ lat: 46.5, lon: 7.5, radiusM: 300 });
    const file = join(mkdtempSync(join(testArtifactsDir(), 'config-')), 'config.json');
    writeFileSync(file, JSON.stringify({ tracker: { particles: 500 } }));
    expect(configFromArgs({ config: file, near: '46.5,7.5' }).tracker).toEqual({ particles: 500, prior: { lat: 46.5, lon: 7.5, radiusM: 150 } });
    expect(configFromArgs({}).tracker.prior).toBeUndefined();
  });

  test('--hfov and --aspect describe the camera as render does: tracker.cameraFovDeg is the view across the shorter side', () => {
    // a 40° 4:3 camera sees 2·atan(tan 20° · 3/4) = 30.54° across its height
    expect(configFromArgs({ hfov: '40' }).tracker.cameraFovDeg).toBeCloseTo(30.54, 2);
    expect(configFromArgs({ hfov: '40', aspect: '1:1' }).tracker.cameraFovDeg).toBeCloseTo(40, 9);
    const file = join(mkdtempSync(join(testArtifactsDir(), 'config-')), 'config.json');
    writeFileSync(file, JSON.stringify({ tracker: { particles: 500, cameraFovDeg: 70 } }));
    expect(configFromArgs({ config: file, hfov: '60', aspect: '16:9' }).tracker).toMatchObject({ particles: 500, cameraFovDeg: expect.closeTo(35.98, 2) });
    expect(configFromArgs({ config: file }).tracker.cameraFovDeg).toBe(70);
    expect(() => configFromArgs({ hfov: 'wide' })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_USAGE', message: expect.stringContaining('hfov') }));
    expect(() => configFromArgs({ hfov: '40', aspect: '4:0' })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_USAGE', message: expect.stringContaining('--aspect') }));
  });

  test.each([
    [{ near: '46.5' }, '--near'],
    [{ near: '46.5,7.5,3' }, '--near'],
    [{ near: '91,7.5' }, '--near'],
    [{ near: ',7.5' }, '--near'],
    [{ near: '46.5,7.5', radius: '0' }, '--radius'],
    [{ near: '46.5,7.5', radius: '-20' }, '--radius'],
    [{ near: '46.5,7.5', radius: 'far' }, '--radius'],
    [{ radius: '100' }, '--radius'],
  ])('%j is refused with GEOLOC_ERR_USAGE naming %s', (values, flag) => {
    expect(() => configFromArgs(values)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_USAGE', message: expect.stringContaining(flag) }));
  });

  test('a malformed tracker.prior in a config is refused when the config is read, naming it', () => {
    expect(() => resolveConfig({ tracker: { prior: { lat: 46.5, lon: 7.5, radiusM: 0 } } })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_TRACK_OPTIONS', message: expect.stringContaining('prior') }));
  });
});
