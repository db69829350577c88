import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataPath } from '../pipeline/core/paths';
import type { ReplayReport } from '../pipeline/replayReport';
import { runCli } from './support/cli';
import { describeIfSharedData } from './support/sharedData';
import { scratchDir } from './support/scratch';

/**
 * The real Mandi satellite map flown along the real DJI track: a nadir camera with a 40°
 * field of view, 75 s from 125 s in, where the map surrounds the camera's view. The index
 * is built from the map given only that camera and the track's altitude band, as a user
 * would build it, and the replay starts from the take-off circle a user would know.
 */
const CAMERA = { hfovDeg: 40, pitchDeg: 0, aspect: '4:3' };
const STRETCH = { startS: 125, durationS: 75, fps: 5 };
const SEED_RADIUS_M = 150;

/** What localization on real imagery must reach (smoothed error, and an honest 95% radius). */
const TARGET = { p50M: 5, p95M: 15, coverage: { min: 0.9, max: 0.99 } };
/** render, index build and replay on 2 cores take about 90 s */
const TIMEOUT_MS = 10 * 60_000;

interface RenderPlan {
  trajectory: { altitudeM: { min: number; max: number }; start: { lat: number; lon: number } };
}

describeIfSharedData(['mandi-flight', 'satellite_map.png'], 'localization on the real Mandi map', () => {
  const map = sharedDataPath('mandi-flight', 'satellite_map.png');
  const srt = sharedDataPath('mandi-flight', 'DJI_0995.SRT');
  const scratch = scratchDir('real-imagery');
  afterAll(() => scratch.remove());

  test('a rendered flight replayed against an index built from the camera alone: metres, with a 95% radius that holds', async () => {
    const render = ['render', '--map', map, '--trajectory', srt, '--pitch', String(CAMERA.pitchDeg), '--hfov', String(CAMERA.hfovDeg)];
    const stretch = ['--start', String(STRETCH.startS), '--duration', String(STRETCH.durationS), '--fps', String(STRETCH.fps)];
    const flight = join(scratch.dir, 'flight');

    const dry = await runCli([...render, ...stretch, '--out', flight, '--dry-run']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as RenderPlan;
    const rendered = await runCli([...render, ...stretch, '--out', flight]);
    expect(rendered.code).toBe(0);

    const index = join(scratch.dir, 'index');
    const band = `${plan.trajectory.altitudeM.min},${plan.trajectory.altitudeM.max}`;
    const built = await runCli(['index', 'build', '--imagery', map, '--out', index, '--hfov', String(CAMERA.hfovDeg), '--aspect', CAMERA.aspect, '--altitudes', band]);
    expect(built.code).toBe(0);

    const reportPath = join(scratch.dir, 'report.json');
    const { lat, lon } = plan.trajectory.start;
    const replay = await runCli(['replay', join(flight, 'flight.mp4'), '--telemetry', join(flight, 'flight.srt'), '--index', index, '--report', reportPath, '--hfov', String(CAMERA.hfovDeg), '--aspect', CAMERA.aspect, '--near', `${lat},${lon}`, '--radius', String(SEED_RADIUS_M)]);
    expect(replay.code).toBe(0);

    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ReplayReport;
    expect(report.seed).not.toBeNull();
    expect(report.fixesWithTruth).toBeGreaterThan(0.9 * STRETCH.durationS * STRETCH.fps);
    expect(report.methods.registered).toBeGreaterThan(report.fixesWithTruth / 2);
    expect(report.errorMeters.p50).toBeLessThanOrEqual(TARGET.p50M);
    expect(report.errorMeters.p95).toBeLessThanOrEqual(TARGET.p95M);
    expect(report.coverage95).toBeGreaterThanOrEqual(TARGET.coverage.min);
    expect(report.coverage95).toBeLessThanOrEqual(TARGET.coverage.max);
  }, TIMEOUT_MS);
});
