import type { IndexManifest } from '../models/indexFiles';
import { makeTestVideo } from '../tests/support/testVideos';
import { warnIfCameraMisfits } from './cameraFit';
import type { LogRecord } from './core/log';

/** The part of a manifest the check reads: a 4:3 camera of 70°, flown 170–240 m. */
const manifest = { settings: { camera: { hfovDeg: [70, 70], aspect: 4 / 3 }, altitudesM: [170, 200, 240], scaleStep: 1.2, overlap: 0.85, cellSizeM: 1000 } } as unknown as IndexManifest;
/** field of view across the shorter side of a 70° 4:3 frame */
const FITTING_FOV_DEG = 55.41;

function collect(): { records: LogRecord[]; log: (r: LogRecord) => void } {
  const records: LogRecord[] = [];
  return { records, log: (r) => void records.push(r) };
}

describe('camera fit at run/replay', () => {
  test('a camera of the index\'s field of view, aspect and band passes silently', async () => {
    const logger = collect();
    const source = makeTestVideo({ seconds: 1, width: 320, height: 240 });
    await warnIfCameraMisfits({ indexDir: 'idx', manifest, source, shortSideFovDeg: FITTING_FOV_DEG, altitudesM: [175, 230] }, logger);
    expect(logger.records).toEqual([]);
  });

  test('a 16:9 video flown higher with a narrower lens: one warning naming each difference and the flags to rebuild with', async () => {
    const logger = collect();
    const source = makeTestVideo({ seconds: 1, width: 320, height: 180 });
    await warnIfCameraMisfits({ indexDir: 'idx', manifest, source, shortSideFovDeg: 40, altitudesM: [300, 420] }, logger);
    expect(logger.records).toHaveLength(1);
    const [warning] = logger.records;
    expect(warning).toMatchObject({ level: 'warn', code: 'GEOLOC_ERR_CAMERA_MISMATCH' });
    expect(warning!.message).toContain('40.0°');
    expect(warning!.message).toContain('frame aspect 1.778');
    expect(warning!.message).toContain('telemetry altitudes 300–420 m');
    expect(warning!.message).toMatch(/geoloc index build --imagery <map> --out idx --hfov [\d.]+ --aspect 1\.778 --altitudes 170,420/);
  });

  test('an index from before cameras were recorded is not judged', async () => {
    const logger = collect();
    const old = { settings: { altitudesM: [170], hfovDeg: 55.41, overlap: 0.85, cellSizeM: 1000 } } as unknown as IndexManifest;
    await warnIfCameraMisfits({ indexDir: 'idx', manifest: old, source: makeTestVideo({ seconds: 1, width: 320, height: 180 }), shortSideFovDeg: 20 }, logger);
    expect(logger.records).toEqual([]);
  });
});
