import { join } from 'node:path';
import { firstValueFrom, from, lastValueFrom, Subject, throwError, toArray } from 'rxjs';
import { FIXTURE_CAMERA } from '../fixtures/defaults';
import { frameGeometry, groundLatLon, PinholeCamera, type Pose } from '../fixtures/render/camera';
import { MapPyramid } from '../fixtures/render/mapPyramid';
import { NEUTRAL_LOOK, renderView } from '../fixtures/render/renderView';
import { FeatureWorker } from '../models/featureWorkerClient';
import { DEFAULT_FLOAT_RATIO } from '../models/featureMatching';
import { readManifest } from '../models/indexFiles';
import { openIndexImagery } from '../models/imageryStack';
import { RuntimeWindows } from '../models/mapReference';
import { MapSampler } from '../models/mapWindow';
import { DEFAULT_CONSENSUS, DEFAULT_ROBUST, DEFAULT_UNCERTAINTY } from '../models/registration';
import { xfeatFit } from '../models/xfeat';
import { fixtureCacheDir } from '../pipeline/core/paths';
import type { Frame, SearchRegion } from '../pipeline/core/types';
import { readGeoImage } from '../models/imagerySource';
import { destination, haversineMeters } from '../pipeline/geo/wgs84';
import { DEFAULT_HEADING_TOLERANCE_DEG, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_EVIDENCE_MATCHES, registerFrame, type RegisterFrameOptions } from './registerFrame';
import type { FrameMeasurement } from './searchIndex';

/*
 * Frames rendered from the fixture world as the fixture flight's camera sees it (10° forward of
 * nadir), at the size registration decodes them, registered against the default index's imagery.
 */
const INDEX = join(fixtureCacheDir(), 'index');
const SIZE = xfeatFit(FIXTURE_CAMERA.width, FIXTURE_CAMERA.height);
const ALTITUDE_M = 200;
const GIMBAL_PITCH_DEG = -90 + FIXTURE_CAMERA.pitchDeg;
const TRACK_OFF_M = 25;

type M = FrameMeasurement<Frame>;

describe('registerFrame', () => {
  let worker: FeatureWorker;
  let options: RegisterFrameOptions;
  let world: { width: number; height: number; rgb: Uint8Array; pyramid: MapPyramid; georef: Parameters<typeof frameGeometry>[2] };
  let region: SearchRegion | undefined;

  function measurement(index: number, pose: Pose, pixels: Buffer, candidates: M['candidates'] = []): M {
    const source: Frame = { index, t: index / 5, width: SIZE.width, height: SIZE.height, format: 'rgb24', pixels };
    return { frame: index, t: source.t, candidates, source, altitudeM: pose.altM, headingDeg: pose.headingDeg, gimbalPitchDeg: GIMBAL_PITCH_DEG };
  }

  function rendered(index: number, pose: Pose): M {
    const camera = new PinholeCamera({ ...FIXTURE_CAMERA, ...SIZE });
    const { homography } = frameGeometry(camera, pose, world.georef);
    return measurement(index, pose, Buffer.from(renderView(world.pyramid, { homography, ...SIZE }, NEUTRAL_LOOK)));
  }

  beforeAll(async () => {
    const manifest = await readManifest(INDEX);
    const image = await readGeoImage(join(fixtureCacheDir(), 'world', 'world.png'));
    world = { ...image, pyramid: MapPyramid.fromRgb(image.width, image.height, image.rgb) };
    worker = await FeatureWorker.start({ method: 'xfeat' });
    options = {
      worker,
      reference: new RuntimeWindows(new MapSampler(await openIndexImagery(INDEX, manifest, () => undefined))),
      region: () => region,
      hfovDeg: FIXTURE_CAMERA.hfovDeg,
      heightsM: manifest.scales.map((s) => s.altitudeM),
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      headingToleranceDeg: DEFAULT_HEADING_TOLERANCE_DEG,
      maxEvidenceMatches: DEFAULT_MAX_EVIDENCE_MATCHES,
      registration: { match: { maxRatio: DEFAULT_FLOAT_RATIO }, robust: DEFAULT_ROBUST, consensus: DEFAULT_CONSENSUS, uncertainty: DEFAULT_UNCERTAINTY },
    };
  });
  afterAll(() => worker.close());

  test('frames registered around the track come out near the truth, with their evidence and timing; a featureless frame fails with the reason', async () => {
    const poses: Pose[] = [
      { lat: 48.5905, lon: 12.2545, altM: ALTITUDE_M, headingDeg: 30 },
      { lat: 48.5912, lon: 12.2561, altM: ALTITUDE_M, headingDeg: 200 },
    ];
    const frames = poses.map((pose, i) => rendered(i, pose));
    const flat = measurement(2, poses[0]!, Buffer.alloc(SIZE.width * SIZE.height * 3, 96));
    let next = 0;
    const out = await lastValueFrom(
      from([...frames, flat]).pipe(
        registerFrame<Frame, M>({
          ...options,
          // the tracker's estimate, a little off the truth, as the frame before left it
          region: () => {
            const p = poses[Math.min(next++, poses.length - 1)]!;
            return { ...destination(p, 135, TRACK_OFF_M), radiusM: 150 };
          },
        }),
        toArray(),
      ),
    );
    expect(out.map((m) => m.frame)).toEqual([0, 1, 2]);
    out.slice(0, 2).forEach((m, i) => {
      const r = m.registration;
      if ('failed' in r) throw new Error(`frame ${i} did not register: ${r.failed}`);
      expect(haversineMeters(r, poses[i]!)).toBeLessThan(3);
      expect(Math.abs(r.heightM - ALTITUDE_M)).toBeLessThan(ALTITUDE_M * 0.05);
      expect(r.inliers).toBeGreaterThanOrEqual(DEFAULT_CONSENSUS.minInliers);
      expect(r.covarianceM2[0]).toBeGreaterThan(0);
      expect(m.registrationTiming).toMatchObject({ attempts: 1, featuresMs: expect.any(Number), matchingMs: expect.any(Number), estimationMs: expect.any(Number) });
    });
    expect(out[2]!.registration).toEqual({ failed: expect.stringMatching(/0 local features/) });
    expect(out[2]!.registrationEvidence).toBeUndefined();
  });

  test("a registered frame's evidence: its footprint and matched points where the true camera sees them, the points capped", async () => {
    const pose: Pose = { lat: 48.5905, lon: 12.2545, altM: ALTITUDE_M, headingDeg: 30 };
    const camera = new PinholeCamera({ ...FIXTURE_CAMERA, ...SIZE });
    region = { ...destination(pose, 135, TRACK_OFF_M), radiusM: 150 };
    const run = (maxEvidenceMatches: number) => lastValueFrom(from([rendered(0, pose)]).pipe(registerFrame<Frame, M>({ ...options, maxEvidenceMatches }), toArray()));
    const [out] = await run(DEFAULT_MAX_EVIDENCE_MATCHES);
    const evidence = out!.registrationEvidence!;
    expect(evidence).toMatchObject({ frameWidth: SIZE.width, frameHeight: SIZE.height, proposedBy: 'track' });
    const corners: [number, number][] = [[0, 0], [SIZE.width, 0], [SIZE.width, SIZE.height], [0, SIZE.height]];
    evidence.footprint.forEach((c, i) => expect(haversineMeters(c, groundLatLon(camera, pose, ...corners[i]!)!)).toBeLessThan(5));
    expect(evidence.points.length).toBeGreaterThanOrEqual(DEFAULT_CONSENSUS.minInliers);
    expect(evidence.points.length).toBeLessThanOrEqual(DEFAULT_MAX_EVIDENCE_MATCHES);
    for (const p of evidence.points) expect(haversineMeters(p, groundLatLon(camera, pose, p.x, p.y)!)).toBeLessThan(3);
    const [capped] = await run(5);
    expect(capped!.registrationEvidence!.points).toHaveLength(5);
  });

  test('global: the candidates are tried, best first, with the drone behind the ground it sees', async () => {
    region = undefined;
    const pose: Pose = { lat: 48.5905, lon: 12.2545, altM: ALTITUDE_M, headingDeg: 30 };
    const ahead = destination(pose, pose.headingDeg, ALTITUDE_M * Math.tan((FIXTURE_CAMERA.pitchDeg * Math.PI) / 180));
    const m = rendered(0, pose);
    const far = destination(pose, 270, 900);
    m.candidates = [
      { tileId: 1, score: 0.9, footprintM: 200, ...far },
      { tileId: 2, score: 0.8, footprintM: 200, ...ahead },
    ];
    const [out] = await lastValueFrom(from([m]).pipe(registerFrame<Frame, M>({ ...options, maxAttempts: 1 + 2 * 2 + 1 }), toArray()));
    const r = out!.registration;
    if ('failed' in r) throw new Error(r.failed);
    expect(haversineMeters(r, pose)).toBeLessThan(3);
    expect(out!.registrationTiming.attempts).toBeGreaterThan(1);
  });

  test('completes when its source does, passes an error on, and stops on unsubscribe', async () => {
    await expect(lastValueFrom(from([] as M[]).pipe(registerFrame<Frame, M>(options), toArray()))).resolves.toEqual([]);
    await expect(firstValueFrom(throwError(() => new Error('boom')).pipe(registerFrame<Frame, M>(options)))).rejects.toThrow('boom');
    const source = new Subject<M>();
    const seen: unknown[] = [];
    const subscription = source.pipe(registerFrame<Frame, M>(options)).subscribe((m) => seen.push(m));
    subscription.unsubscribe();
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
    source.next(measurement(0, { lat: 48.5905, lon: 12.2545, altM: ALTITUDE_M, headingDeg: 30 }, Buffer.alloc(SIZE.width * SIZE.height * 3)));
    expect(seen).toEqual([]);
  });
});
