import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FIXTURE_CAMERA } from '../fixtures/defaults';
import { frameGeometry, PinholeCamera, type Pose } from '../fixtures/render/camera';
import { MapPyramid } from '../fixtures/render/mapPyramid';
import { NEUTRAL_LOOK, renderView } from '../fixtures/render/renderView';
import { fixtureCacheDir } from '../pipeline/core/paths';
import { destination, haversineMeters } from '../pipeline/geo/wgs84';
import { coded } from '../tests/support/coded';
import { projectionModelPath } from '../tests/support/tinyModel';
import { buildIndex } from './buildIndex';
import { DEFAULT_FLOAT_RATIO } from './featureMatching';
import { FeatureWorker } from './featureWorkerClient';
import { openImagery, readGeoImage } from './imagerySource';
import { readManifest, type IndexManifest } from './indexFiles';
import { DEFAULT_ROTATION_STEP_DEG, DEFAULT_WINDOW_MARGIN, locatePhoto, type LocateOptions } from './locate';
import { RuntimeWindows } from './mapReference';
import { MapSampler } from './mapWindow';
import { openMapReference } from './openReference';
import { currentExtractor, featureResolutions, sha256Of } from './referenceFeatures';
import { ReferenceStore } from './referenceStore';
import { DEFAULT_CONSENSUS, DEFAULT_ROBUST, DEFAULT_UNCERTAINTY } from './registration';
import { xfeatFit } from './xfeat';

/*
 * An index of a part of the fixture world for one altitude (one feature resolution, to keep the
 * build to seconds), and frames rendered from the whole world as the fixture camera sees it.
 */
const FULL_WORLD = join(fixtureCacheDir(), 'world', 'world.png');
/** the crop's centre and side: room round the poses for their views and for one 380 m away */
const CROP_CENTRE = { lat: 48.5906, lon: 12.2545 };
const CROP_PX = 1100;
const FAR_M = 380;
const ALTITUDE_M = 200;
const SIZE = xfeatFit(FIXTURE_CAMERA.width, FIXTURE_CAMERA.height);
const TRACK_OFF_M = 25;
const POSES: Pose[] = [
  { lat: 48.5905, lon: 12.2545, altM: ALTITUDE_M, headingDeg: 30 },
  { lat: 48.5912, lon: 12.2561, altM: ALTITUDE_M, headingDeg: 200 },
];

/** CROP_PX square of the world round CROP_CENTRE, with its world file shifted to match. */
async function cropWorld(dir: string): Promise<string> {
  const world = await readGeoImage(FULL_WORLD);
  const centre = world.georef.lonLatToPixel(CROP_CENTRE);
  const left = Math.round(centre.px - CROP_PX / 2);
  const top = Math.round(centre.py - CROP_PX / 2);
  const out = join(dir, 'crop.png');
  await sharp(FULL_WORLD).extract({ left, top, width: CROP_PX, height: CROP_PX }).png().toFile(out);
  const [a, d, b, e, c, f] = readFileSync(FULL_WORLD.replace(/\.png$/, '.pgw'), 'utf8').trim().split(/\s+/).map(Number) as [number, number, number, number, number, number];
  writeFileSync(join(dir, 'crop.pgw'), [a, d, b, e, c + left * a + top * b, f + left * d + top * e].join('\n') + '\n');
  return out;
}

describe('reference features built with the index', () => {
  let tmp: string;
  let dir: string;
  let WORLD: string;
  let manifest: IndexManifest;
  let worker: FeatureWorker;
  let pyramid: MapPyramid;
  let georef: Parameters<typeof frameGeometry>[2];
  const logLines: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-features-'));
    dir = join(tmp, 'index');
    WORLD = await cropWorld(tmp);
    manifest = await buildIndex({ imagery: WORLD, modelPath: await projectionModelPath(), out: dir, altitudesM: [ALTITUDE_M], hfovDeg: FIXTURE_CAMERA.hfovDeg, aspect: 4 / 3, overlap: 0, log: (l) => logLines.push(l) });
    const world = await readGeoImage(FULL_WORLD);
    pyramid = MapPyramid.fromRgb(world.width, world.height, world.rgb);
    georef = world.georef;
    worker = await FeatureWorker.start({ method: 'xfeat' });
  });
  afterAll(async () => {
    await worker.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  function photoAt(pose: Pose) {
    const camera = new PinholeCamera({ ...FIXTURE_CAMERA, ...SIZE });
    const { homography } = frameGeometry(camera, pose, georef);
    return { rgb: renderView(pyramid, { homography, ...SIZE }, NEUTRAL_LOOK), ...SIZE };
  }

  const options = (headingDeg: number): LocateOptions => ({
    hfovDeg: FIXTURE_CAMERA.hfovDeg,
    pitchDeg: FIXTURE_CAMERA.pitchDeg,
    headingDeg,
    heightsM: [ALTITUDE_M],
    rotationStepDeg: DEFAULT_ROTATION_STEP_DEG,
    headingToleranceDeg: 30,
    windowMargin: DEFAULT_WINDOW_MARGIN,
    budget: 3,
    registration: { match: { maxRatio: DEFAULT_FLOAT_RATIO }, robust: DEFAULT_ROBUST, consensus: DEFAULT_CONSENSUS, uncertainty: DEFAULT_UNCERTAINTY },
  });

  test('the manifest records the extractor, the resolutions the band needs and each file with its hash', async () => {
    const features = manifest.features!;
    expect(features.extractor).toEqual(await currentExtractor());
    expect(features.metersPerPixel).toEqual(featureResolutions({ hfovDeg: [FIXTURE_CAMERA.hfovDeg, FIXTURE_CAMERA.hfovDeg], aspect: 4 / 3 }, [ALTITUDE_M], DEFAULT_WINDOW_MARGIN));
    expect(features.files.length).toBe(manifest.partition.cells * features.metersPerPixel.length);
    for (const f of features.files) expect(sha256Of(readFileSync(join(dir, f.file)))).toBe(f.sha256);
    expect(features.files.reduce((a, f) => a + f.count, 0)).toBeGreaterThan(10_000);
    expect(logLines.some((l) => /reference features: \d+ XFeat keypoints/.test(l))).toBe(true);
  });

  test('frames turned north-up register against the stored features near the truth, as they do against windows cut at run time', async () => {
    const stored = (await ReferenceStore.open(dir, manifest))!;
    const runtime = new RuntimeWindows(new MapSampler(await openImagery(WORLD, () => undefined)));
    for (const pose of POSES) {
      const place = { ...destination(pose, 135, TRACK_OFF_M), source: 'track' };
      for (const reference of [stored, runtime]) {
        const r = await locatePhoto(worker, reference, photoAt(pose), [place], options(pose.headingDeg));
        if (!r.ok) throw new Error(`${reference.orientation}: ${r.reason}`);
        expect(haversineMeters(r, pose)).toBeLessThan(3);
        expect(Math.abs(r.heightM - ALTITUDE_M)).toBeLessThan(ALTITUDE_M * 0.05);
        expect(Math.abs(((r.headingDeg - pose.headingDeg + 540) % 360) - 180)).toBeLessThan(2);
        expect(r.uncertainty.radiusM).toBeGreaterThan(0);
      }
    }
  });

  test('a frame that shows another place does not register against the stored features', async () => {
    const stored = (await ReferenceStore.open(dir, manifest))!;
    const far = { ...destination(POSES[0]!, 270, FAR_M), source: 'elsewhere' };
    const r = await locatePhoto(worker, stored, photoAt(POSES[0]!), [far], options(POSES[0]!.headingDeg));
    expect(r.ok).toBe(false);
  });

  /** A copy of the index with `damage` done to it. */
  function damaged(name: string, damage: (copy: string) => void): string {
    const copy = join(tmp, name);
    cpSync(dir, copy, { recursive: true });
    damage(copy);
    return copy;
  }

  test('a feature file altered, truncated or missing: GEOLOC_ERR_FEATURES_CORRUPT naming it and the rebuild command', async () => {
    const file = manifest.features!.files.find((f) => f.count > 0)!.file;
    const altered = damaged('altered', (copy) => {
      const bytes = readFileSync(join(copy, file));
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
      writeFileSync(join(copy, file), bytes);
    });
    await expect(ReferenceStore.open(altered, manifest)).rejects.toMatchObject(coded('GEOLOC_ERR_FEATURES_CORRUPT', `${join(altered, file)} has sha256`));
    await expect(ReferenceStore.open(altered, manifest)).rejects.toMatchObject(coded('GEOLOC_ERR_FEATURES_CORRUPT', `geoloc index build --imagery ${WORLD} --out ${altered}`));
    const truncated = damaged('truncated', (copy) => truncateSync(join(copy, file), 1000));
    await expect(ReferenceStore.open(truncated, manifest)).rejects.toMatchObject(coded('GEOLOC_ERR_FEATURES_CORRUPT', 'truncated'));
    const missing = damaged('missing', (copy) => rmSync(join(copy, file)));
    await expect(ReferenceStore.open(missing, manifest)).rejects.toMatchObject(coded('GEOLOC_ERR_FEATURES_CORRUPT', 'cannot be read'));
  });

  test('features from another extractor (model hash or window): GEOLOC_ERR_FEATURES_MISMATCH with the rebuild command', async () => {
    const otherModel = { ...manifest, features: { ...manifest.features!, extractor: { ...manifest.features!.extractor, sha256: '0'.repeat(64) } } };
    await expect(ReferenceStore.open(dir, otherModel)).rejects.toMatchObject(coded('GEOLOC_ERR_FEATURES_MISMATCH', '--force'));
    const otherWindow = { ...manifest, features: { ...manifest.features!, extractor: { ...manifest.features!.extractor, windowPx: [512, 512] as [number, number] } } };
    await expect(ReferenceStore.open(dir, otherWindow)).rejects.toMatchObject(coded('GEOLOC_ERR_FEATURES_MISMATCH', `${dir}/manifest.json`));
  });

  test('an index built without features: registration cuts windows at run time and says so once, with the rebuild command', async () => {
    const plain = join(tmp, 'plain');
    const built = await buildIndex({ imagery: WORLD, modelPath: await projectionModelPath(), out: plain, altitudesM: [ALTITUDE_M], hfovDeg: FIXTURE_CAMERA.hfovDeg, aspect: 4 / 3, overlap: 0, referenceFeatures: false, log: () => undefined });
    expect(built.features).toBeUndefined();
    expect(await ReferenceStore.open(plain, built)).toBeUndefined();
    const said: string[] = [];
    const reference = await openMapReference(plain, await readManifest(plain), 'xfeat', (l) => said.push(l));
    expect(reference.orientation).toBe('as-asked');
    expect(said.filter((l) => l.includes('it has no reference features'))).toHaveLength(1);
    expect(said.join('\n')).toContain(`geoloc index build --imagery ${WORLD} --out ${plain}`);
    const withFeatures = await openMapReference(dir, manifest, 'xfeat', (l) => said.push(l));
    expect(withFeatures.orientation).toBe('north-up');
  });
});
