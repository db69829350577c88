import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FIXTURE_CAMERA, demoPaths } from '../../fixtures/defaults';
import { fixtureCacheDir } from '../core/paths';
import { haversineMeters } from '../geo/wgs84';
import { readTelemetry, telemetryAt } from '../telemetry';
import { runCli } from '../../tests/support/cli';
import { makeTestVideo, runArtifactsDir } from '../../tests/support/testVideos';

const INDEX = join(fixtureCacheDir(), 'index');
const FRAME = 30;
const FPS = 30;
const FEW_METRES = 5;

describe('geoloc explain', () => {
  const { video, telemetry } = demoPaths();
  let out: string;
  beforeAll(() => {
    out = runArtifactsDir('explain');
  });

  test("a fixture frame: the picture of its match, the estimate within a few metres of the telemetry's truth", async () => {
    const truth = telemetryAt(readTelemetry(telemetry).records, FRAME / FPS)!;
    const png = join(out, 'match.png');
    const r = await runCli(['explain', video, '--index', INDEX, '--frame', String(FRAME), '--telemetry', telemetry, '--hfov', String(FIXTURE_CAMERA.hfovDeg), '--near', `${truth.lat},${truth.lon}`, '--radius', '120', '--out', png]);
    expect(r.code).toBe(0);
    const said = /frame 30 \(t 1\.00 s\): (-?[\d.]+), (-?[\d.]+) ±([\d.]+) m, (\d+) inliers/.exec(r.stderr);
    expect(said).not.toBeNull();
    const [lat, lon] = [Number(said![1]), Number(said![2])];
    // a few metres: the stored reference features sample the map at 0.65–0.91 m/px
    const error = haversineMeters({ lat, lon }, truth);
    expect(error).toBeLessThan(FEW_METRES);
    // two 480-px panels side by side, the caption under them; the map panel holds imagery, not black
    const meta = await sharp(png).metadata();
    expect(meta.width).toBe(480 + 12 + 480);
    expect(meta.height).toBeGreaterThan(480);
    const map = await sharp(png).extract({ left: 492, top: 0, width: 480, height: 480 }).stats();
    expect(map.channels[1]!.mean).toBeGreaterThan(20);
  });

  test('a frame that registers nowhere still gets its picture, saying why, and exit status 2', async () => {
    const flat = join(out, 'flat.png');
    await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 110, b: 70 } } }).png().toFile(flat);
    const png = join(out, 'flat-match.png');
    const r = await runCli(['explain', flat, '--index', INDEX, '--hfov', '60', '--near', '48.5905,12.2545', '--radius', '50', '--altitude', '200', '--heading', '0', '--out', png]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GEOLOC_ERR_NOT_LOCATED: flat\.png registered nowhere: .*0 local features/);
    expect(existsSync(png)).toBe(true);
    expect((await sharp(png).metadata()).width).toBe(972);
  });

  test('a frame number past the end or below 0, a budget of 0, an unreadable input, a video without --hfov and a missing file: one coded error each', async () => {
    const short = makeTestVideo({ seconds: 1, rate: 5 });
    const past = await runCli(['explain', short, '--index', INDEX, '--frame', '9', '--hfov', '60', '--out', join(out, 'x.png')]);
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(/GEOLOC_ERR_FRAME_NOT_FOUND: .* has 5 frames \(0 to 4\); there is no frame 9/);

    const garbage = join(out, 'garbage.mp4');
    writeFileSync(garbage, 'not a video at all\n');
    const unreadable = await runCli(['explain', garbage, '--index', INDEX, '--hfov', '60', '--out', join(out, 'x.png')]);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toMatch(/GEOLOC_ERR_SOURCE_UNREADABLE: .*garbage\.mp4 is neither an image nor a video/);

    const noFov = await runCli(['explain', short, '--index', INDEX, '--out', join(out, 'x.png')]);
    expect(noFov.stderr).toMatch(/GEOLOC_ERR_HFOV_UNKNOWN: .*add --hfov/);

    for (const [flag, value, least] of [['--frame', '-1', 0], ['--budget', '0', 1]] as const) {
      const refused = await runCli(['explain', short, '--index', INDEX, '--hfov', '60', '--out', join(out, 'x.png'), `${flag}=${value}`]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`GEOLOC_ERR_USAGE: ${flag} must be a whole number ≥ ${least}, got "${value}"`);
    }

    const missing = await runCli(['explain', join(out, 'nowhere.mp4'), '--index', INDEX, '--hfov', '60', '--out', join(out, 'x.png')]);
    expect(missing.stderr).toMatch(/GEOLOC_ERR_FILE_NOT_FOUND: .*nowhere\.mp4 does not exist/);
    expect(existsSync(join(out, 'x.png'))).toBe(false);
  });
});
