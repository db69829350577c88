import { join } from 'node:path';
import { FIXTURE_CAMERA } from '../fixtures/defaults';
import { frameGeometry, PinholeCamera, type Pose } from '../fixtures/render/camera';
import { MapPyramid } from '../fixtures/render/mapPyramid';
import { NEUTRAL_LOOK, renderView } from '../fixtures/render/renderView';
import { fixtureCacheDir } from '../pipeline/core/paths';
import { destination, haversineMeters } from '../pipeline/geo/wgs84';
import { DEFAULT_FLOAT_RATIO } from './featureMatching';
import { FeatureWorker } from './featureWorkerClient';
import { openImagery, readGeoImage } from './imagerySource';
import { DEFAULT_CORROBORATION, DEFAULT_WINDOW_MARGIN, DEFAULT_ROTATION_STEP_DEG, locatePhoto, type LocateOptions, type LocatePhoto } from './locate';
import { RuntimeWindows } from './mapReference';
import { MapSampler } from './mapWindow';
import { DEFAULT_CONSENSUS, DEFAULT_ROBUST, DEFAULT_UNCERTAINTY } from './registration';
import { xfeatFit } from './xfeat';

/*
 * Corroboration on frames rendered from the fixture world. The consensus is set out of reach,
 * so that every fit, however true, is only tentative: what registers then registers because a
 * second window agreed with the first.
 */
const WORLD = join(fixtureCacheDir(), 'world', 'world.png');
const ALTITUDE_M = 200;
const SIZE = xfeatFit(FIXTURE_CAMERA.width, FIXTURE_CAMERA.height);
const TRUTH: Pose = { lat: 48.5905, lon: 12.2545, altM: ALTITUDE_M, headingDeg: 30 };
/** the place tried: off the truth as a prior grid's nearest point may be */
const PLACE = { ...destination(TRUTH, 135, 25), source: 'grid' };
const UNREACHABLE_CONSENSUS = 100_000;
const FAR_M = 700;
const NEIGHBOUR_M = 60;

describe('locatePhoto: corroboration of fits short of the consensus', () => {
  let worker: FeatureWorker;
  let reference: RuntimeWindows;
  let photo: LocatePhoto;

  beforeAll(async () => {
    const world = await readGeoImage(WORLD);
    const camera = new PinholeCamera({ ...FIXTURE_CAMERA, ...SIZE });
    const { homography } = frameGeometry(camera, TRUTH, world.georef);
    photo = { rgb: renderView(MapPyramid.fromRgb(world.width, world.height, world.rgb), { homography, ...SIZE }, NEUTRAL_LOOK), ...SIZE };
    reference = new RuntimeWindows(new MapSampler(await openImagery(WORLD, () => undefined)));
    worker = await FeatureWorker.start({ method: 'xfeat' });
  });
  afterAll(() => worker.close());

  const options = (budget: number, corroborate: boolean): LocateOptions => ({
    hfovDeg: FIXTURE_CAMERA.hfovDeg,
    pitchDeg: FIXTURE_CAMERA.pitchDeg,
    headingDeg: TRUTH.headingDeg,
    heightsM: [ALTITUDE_M],
    rotationStepDeg: DEFAULT_ROTATION_STEP_DEG,
    headingToleranceDeg: 0,
    windowMargin: DEFAULT_WINDOW_MARGIN,
    budget,
    registration: { match: { maxRatio: DEFAULT_FLOAT_RATIO }, robust: DEFAULT_ROBUST, consensus: { ...DEFAULT_CONSENSUS, minInliers: UNREACHABLE_CONSENSUS }, uncertainty: DEFAULT_UNCERTAINTY },
    ...(corroborate ? { corroboration: DEFAULT_CORROBORATION } : {}),
  });

  test('without corroboration a fit short of the consensus is refused', async () => {
    const r = await locatePhoto(worker, reference, photo, [PLACE], options(2, false));
    expect(r.ok).toBe(false);
  });

  test('a tentative fit that no other window confirms is refused', async () => {
    const r = await locatePhoto(worker, reference, photo, [PLACE], options(1, true));
    expect(r).toMatchObject({ ok: false, attempts: 1 });
  });

  test('a second window, cut round the first fit, that agrees with it makes a fix whose radius holds both fits and the truth', async () => {
    const r = await locatePhoto(worker, reference, photo, [PLACE], options(2, true));
    if (!r.ok) throw new Error(r.reason);
    expect(r.attempts).toBe(2);
    expect(r.corroboratedBy!.inliers).toBeGreaterThanOrEqual(DEFAULT_CORROBORATION.minInliers);
    expect(r.corroboratedBy!.apartM).toBeLessThanOrEqual(DEFAULT_CORROBORATION.agreeM);
    expect(r.uncertainty.radiusM).toBeGreaterThanOrEqual(r.corroboratedBy!.apartM);
    const error = haversineMeters(r, TRUTH);
    expect(error).toBeLessThan(3);
    expect(error).toBeLessThanOrEqual(r.uncertainty.radiusM);
  });

  test('at a place the photo does not show, nothing is corroborated', async () => {
    const far = destination(TRUTH, 90, FAR_M);
    const places = [0, 120, 240].map((bearing) => ({ ...destination(far, bearing, NEIGHBOUR_M), source: 'elsewhere' }));
    const r = await locatePhoto(worker, reference, photo, places, options(places.length * 2, true));
    expect(r.ok).toBe(false);
  });
});
