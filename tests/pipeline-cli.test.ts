/**
 * `geoloc run` and `geoloc replay` end to end, as a user runs them: the compiled CLI in its own
 * process, real ffmpeg, the tiny model in ONNX Runtime workers, a real FAISS index, the tracker.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DEFAULT_PIPELINE_CONFIG } from '../pipeline/config';
import { haversineMeters } from '../pipeline/geo/wgs84';
import { readTelemetry } from '../pipeline/telemetry';
import { readJsonl, expectFix, parseJsonl, runCli, startCli } from './support/cli';
import { waitFor } from './support/processes';
import { syntheticFlight, type SyntheticFlight } from './support/syntheticFlight';
import { runArtifactsDir } from './support/testVideos';

const FPS = 5;
const REGISTER_FPS = 1;

describe('geoloc run and replay on a synthetic flight', () => {
  let flight: SyntheticFlight;
  let out: string;

  beforeAll(async () => {
    flight = await syntheticFlight();
    out = runArtifactsDir('pipeline-cli');
  });

  const common = () => ['--index', flight.index, '--model', flight.model, '--fps', String(FPS), '--cpu'];
  /** the video's frame numbers of the first n frames localized at FPS */
  const sourceFrames = (n: number) => Array.from({ length: n }, (_, k) => (k * flight.fps) / FPS);

  test('run writes one GeoJSON fix per localized frame to --out, frames in order', async () => {
    const path = join(out, 'run.jsonl');
    // providers cuda then cpu (no --cpu): without CUDA's files, one warning and the CPU takes over
    const result = await runCli(['run', '--source', flight.video, '--out', path, '--flight', 'synthetic', '--batch', '4', '--index', flight.index, '--model', flight.model, '--fps', String(FPS)]);
    expect(result.stderr.replace(/^.*GEOLOC_ERR_CUDA_UNAVAILABLE.*$/m, '')).not.toMatch(/Unhandled|GEOLOC_ERR/);
    expect(result.stderr.split('GEOLOC_ERR_CUDA_UNAVAILABLE').length - 1).toBeLessThanOrEqual(1);
    expect(result.code).toBe(0);
    const fixes = readJsonl(path);
    expect(fixes).toHaveLength(flight.seconds * FPS);
    fixes.forEach(expectFix);
    // each fix names its frame in the video: the one on screen at its t
    expect(fixes.map((f) => f.properties.frame)).toEqual(sourceFrames(fixes.length));
    expect(fixes[3]!.properties).toMatchObject({ flight: 'synthetic', t: 3 / FPS, lost: expect.any(Boolean), relocalizing: expect.any(Boolean), latencyMs: expect.any(Number) });
  });

  test('run reads "-" (MPEG-TS) from stdin and writes JSONL to stdout without --out', async () => {
    const ts = join(out, 'flight.ts');
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', flight.video, '-c', 'copy', '-f', 'mpegts', ts]);
    const result = await runCli(['run', '--source', '-', ...common()], { stdin: readFileSync(ts) });
    expect(result.code).toBe(0);
    const fixes = parseJsonl(result.stdout);
    expect(fixes).toHaveLength(flight.seconds * FPS);
    fixes.forEach(expectFix);
  });

  test('replay writes the report: counts, smoothed and raw error percentiles, coverage, latency, identities', async () => {
    const report = join(out, 'report.json');
    const fixes = join(out, 'replay.jsonl');
    const result = await runCli(['replay', flight.video, '--telemetry', flight.telemetry, '--report', report, '--out', fixes, '--no-register', ...common()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('smoothed p50');
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r).toMatchObject({
      framesIn: flight.seconds * FPS,
      fixesOut: flight.seconds * FPS,
      fps: expect.any(Number),
      scheduling: 'batch',
      errorMeters: { p50: expect.any(Number), p95: expect.any(Number), max: expect.any(Number) },
      rawTop1ErrorMeters: { p50: expect.any(Number), p95: expect.any(Number), max: expect.any(Number) },
      coverage95: expect.any(Number),
      fixesWithTruth: flight.seconds * FPS,
      fixesWithoutTruth: 0,
      droppedFrames: 0,
      latencyMs: { p50: expect.any(Number), p95: expect.any(Number) },
      model: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), dim: 64, provider: 'cpu' },
      index: { dir: flight.index, tiles: expect.any(Number) },
      seed: null,
    });
    // with --no-register every fix comes from retrieval (or the lost track), and nothing is registered
    expect(r.methods.registered).toBe(0);
    expect(r.methods.retrieval + r.methods.lost).toBe(r.fixesOut);
    expect(r.registration).toBeUndefined();
    expect(r.errorMeters.p50).toBeGreaterThanOrEqual(0);
    expect(r.coverage95).toBeGreaterThanOrEqual(0);
    expect(r.coverage95).toBeLessThanOrEqual(1);
    // raw recall of the global top-k: shares, each rank's at least the one before
    expect(r.rawRecall.k).toBe(Number(DEFAULT_PIPELINE_CONFIG.k));
    for (const share of [r.rawRecall.at1, r.rawRecall.at5, r.rawRecall.atK]) {
      expect(share).toBeGreaterThanOrEqual(0);
      expect(share).toBeLessThanOrEqual(1);
    }
    expect(r.rawRecall.at1).toBeLessThanOrEqual(r.rawRecall.at5);
    expect(r.rawRecall.at5).toBeLessThanOrEqual(r.rawRecall.atK);
    expect(result.stderr).toMatch(/recall .* top-1 [\d.]+%, top-5 [\d.]+%, top-\d+ [\d.]+%/);
    // the report's numbers are the fixes' numbers
    expect(readJsonl(fixes)).toHaveLength(r.fixesOut);
    expect(readJsonl(fixes).map((f) => f.properties.frame)).toEqual(sourceFrames(r.fixesOut));
  });

  test('replay --register registers every frame in the feature worker and reports fixes by method, with registration ms per frame', async () => {
    const report = join(out, 'register.json');
    const fixes = join(out, 'register.jsonl');
    // one frame a second: registration costs up to DEFAULT_MAX_ATTEMPTS registrations per frame
    const result = await runCli(['replay', flight.video, '--telemetry', flight.telemetry, '--report', report, '--out', fixes, '--register', ...common(), '--fps', String(REGISTER_FPS)]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/method +registered \d+, retrieval \d+, lost \d+/);
    expect(result.stderr).toMatch(/register \d+ frames registered, \d+ not; ms per frame p50/);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    const n = flight.seconds * REGISTER_FPS;
    expect(r.fixesOut).toBe(n);
    expect(r.config.register).toBe(true);
    expect(r.methods.registered + r.methods.retrieval + r.methods.lost).toBe(n);
    expect(r.registration.registered + r.registration.failed).toBe(n);
    expect(r.registration.totalMs.p50).toBeGreaterThan(0);
    for (const fix of readJsonl(fixes)) {
      expect(['registered', 'retrieval', 'lost']).toContain(fix.properties.method);
      // the evidence: a registered frame's footprint through its fit, with matched points kept; else the camera model's
      const evidence = fix.properties.evidence as { footprint?: { coordinates: number[][][] }; footprintFrom?: string; matches: number; proposedBy?: string };
      expect(evidence.footprint!.coordinates[0]).toHaveLength(5);
      if (evidence.proposedBy) expect(evidence).toMatchObject({ footprintFrom: 'registration', matches: expect.any(Number) });
      else expect(evidence).toMatchObject({ footprintFrom: 'camera', matches: 0 });
    }
    expect(readJsonl(fixes).filter((f) => (f.properties.evidence as { matches: number }).matches > 0).length).toBe(r.registration.registered);
  });

  test('replay --near at the true start seeds the tracker: the report says so, and the first fix lies within the radius', async () => {
    const RADIUS_M = 150;
    const start = readTelemetry(flight.telemetry).records[0]!;
    const report = join(out, 'seeded-report.json');
    const fixes = join(out, 'seeded.jsonl');
    const result = await runCli(['replay', flight.video, '--telemetry', flight.telemetry, '--report', report, '--out', fixes, '--near', `${start.lat},${start.lon}`, '--radius', String(RADIUS_M), ...common()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`tracker started within ${RADIUS_M} m`);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r.seed).toEqual({ lat: start.lat, lon: start.lon, radiusM: RADIUS_M });
    const [lon, lat] = readJsonl(fixes)[0]!.geometry.coordinates;
    expect(haversineMeters({ lat: lat!, lon: lon! }, start)).toBeLessThanOrEqual(RADIUS_M);
  });

  test('telemetry that ends before the video: a logged GEOLOC_ERR_TELEMETRY_ENDED, and the report is still written', async () => {
    const cues = readFileSync(flight.telemetry, 'utf8').split('\n\n');
    const short = join(out, 'short.srt');
    writeFileSync(short, cues.slice(0, Math.floor(cues.length / 2)).join('\n\n') + '\n');
    const report = join(out, 'short-report.json');
    const result = await runCli(['replay', flight.video, '--telemetry', short, '--report', report, ...common()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('GEOLOC_ERR_TELEMETRY_ENDED');
    expect(result.stderr).not.toMatch(/Unhandled/);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r.fixesOut).toBe(flight.seconds * FPS);
    expect(r.fixesWithoutTruth).toBeGreaterThan(0);
    expect(r.fixesWithTruth + r.fixesWithoutTruth).toBe(r.fixesOut);
    expect(r.warnings.join('\n')).toContain('GEOLOC_ERR_TELEMETRY_ENDED');
  });

  test('run --serve publishes the fixes on a real WebSocket gateway, which keeps serving until SIGINT', async () => {
    const cli = startCli(['run', '--source', flight.video, '--flight', 'served', '--out', join(out, 'served.jsonl'), '--serve', '0', ...common()]);
    await waitFor(() => /still serving http:\/\/127\.0\.0\.1:\d+/.test(cli.stderr()), 30_000, 'the run to finish and keep serving');
    const port = Number(/map at http:\/\/127\.0\.0\.1:(\d+)\//.exec(cli.stderr())![1]);
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const snapshot = await new Promise<{ features: Array<Record<string, any>> }>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', flight: 'served' })));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'snapshot') resolve(message);
      });
      socket.on('error', reject);
    });
    socket.close();
    expect(snapshot.features).toHaveLength(flight.seconds * FPS);
    snapshot.features.forEach(expectFix);
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(0);
  });
});
