import { join } from 'node:path';
import { FIXTURE_CAMERA } from '../fixtures/defaults';
import { frameGeometry, PinholeCamera, type Pose } from '../fixtures/render/camera';
import { applyHomography } from '../fixtures/render/homography';
import { MapPyramid } from '../fixtures/render/mapPyramid';
import { NEUTRAL_LOOK, renderView } from '../fixtures/render/renderView';
import { fixtureCacheDir } from '../pipeline/core/paths';
import { DEFAULT_FLOAT_RATIO } from './featureMatching';
import { FeatureWorker } from './featureWorkerClient';
import { readGeoImage } from './imagerySource';
import type { LocalFeatures } from './localFeatures';
import { northUpFeatures } from './northUpPhoto';
import { xfeatFit } from './xfeat';

/*
 * Frames rendered from the fixture world at one place, facing several ways: turned north-up,
 * each frame's features must see the ground the north-facing frame's see, and be taken back
 * to the frame pixels that show it.
 */
const WORLD = join(fixtureCacheDir(), 'world', 'world.png');
const SIZE = xfeatFit(FIXTURE_CAMERA.width, FIXTURE_CAMERA.height);
const POSE: Omit<Pose, 'headingDeg'> = { lat: 48.5905, lon: 12.2545, altM: 200 };
/** world pixels are 0.5 m: matched keypoints of two frames land within this of each other on the ground */
const AGREE_WORLD_PX = 3;
/** measured: 411–862 of 451–923 matches agree (the frames overlap less the further they are turned) */
const LEAST_AGREEING = 200;
const LEAST_AGREEING_SHARE = 0.6;
/** northUpFeatures drops keypoints this close to the frame's edge (the fill beyond it is an edge too) */
const EDGE_PX = 8;

interface Shot {
  headingDeg: number;
  features: LocalFeatures;
  /** frame pixel → world pixel */
  toWorld: (x: number, y: number) => { u: number; v: number };
}

describe('northUpFeatures', () => {
  let worker: FeatureWorker;
  let shots: Shot[];

  beforeAll(async () => {
    const world = await readGeoImage(WORLD);
    const pyramid = MapPyramid.fromRgb(world.width, world.height, world.rgb);
    const camera = new PinholeCamera({ ...FIXTURE_CAMERA, ...SIZE });
    worker = await FeatureWorker.start({ method: 'xfeat' });
    shots = [];
    for (const headingDeg of [0, 37, 90, 215]) {
      const { homography } = frameGeometry(camera, { ...POSE, headingDeg }, world.georef);
      const rgb = renderView(pyramid, { homography, ...SIZE }, NEUTRAL_LOOK);
      shots.push({ headingDeg, features: await northUpFeatures(worker, { rgb, ...SIZE }, headingDeg), toWorld: (x, y) => applyHomography(homography, x, y) });
    }
  });
  afterAll(() => worker.close());

  test('keypoints lie inside the frame, clear of its edge, each with its descriptor', () => {
    for (const { features } of shots) {
      expect(features.count).toBeGreaterThan(0);
      expect(features.descriptors.length).toBe(features.count * features.dim);
      for (let k = 0; k < features.count; k++) {
        const [x, y] = [features.keypoints[2 * k]!, features.keypoints[2 * k + 1]!];
        expect(x >= EDGE_PX && x <= SIZE.width - EDGE_PX && y >= EDGE_PX && y <= SIZE.height - EDGE_PX).toBe(true);
      }
    }
  });

  test('the frames facing other ways match the north-facing one at the same ground', async () => {
    const [north, ...others] = shots;
    for (const other of others) {
      const matches = await worker.match(north!.features, other.features, { maxRatio: DEFAULT_FLOAT_RATIO });
      let agree = 0;
      for (let m = 0; m < matches.count; m++) {
        const a = north!.toWorld(north!.features.keypoints[2 * matches.a[m]!]!, north!.features.keypoints[2 * matches.a[m]! + 1]!);
        const b = other.toWorld(other.features.keypoints[2 * matches.b[m]!]!, other.features.keypoints[2 * matches.b[m]! + 1]!);
        if (Math.hypot(a.u - b.u, a.v - b.v) < AGREE_WORLD_PX) agree++;
      }
      // a keypoint taken back to the wrong frame pixel would put its match elsewhere on the ground
      expect({ headingDeg: other.headingDeg, agree: agree >= LEAST_AGREEING, share: agree / matches.count >= LEAST_AGREEING_SHARE }).toEqual({ headingDeg: other.headingDeg, agree: true, share: true });
    }
  });
});
