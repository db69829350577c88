/**
 * Registration per frame against an index's stored reference features (the frame turned
 * north-up, the map's keypoints read from the index) and against map windows cut from its
 * imagery at run time (the baseline: the window's features extracted at each attempt), on the
 * same frames in the same run, interleaved so that load from elsewhere hits both alike.
 *
 * Frames are rendered from the fixture world as the fixture camera sees it, at seeded random
 * poses over the world (170–240 m, any heading), at the size registration decodes (480×360);
 * each is registered from a place 25 m off the truth with telemetry's heading and altitude, as
 * the pipeline does while tracking (budget 3). Reported per method: frames registered, error
 * p50/p95, and ms per frame (wall: everything locatePhoto does, the frame's own features
 * included; and the winning attempt's features/matching/estimation).
 *
 * usage: node dist/bench/registration.js [--index fixtures/cache/index] [--frames 30] [--out bench/results/registration.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { FIXTURE_CAMERA } from '../fixtures/defaults';
import { frameGeometry, PinholeCamera, type Pose } from '../fixtures/render/camera';
import { MapPyramid } from '../fixtures/render/mapPyramid';
import { NEUTRAL_LOOK, renderView } from '../fixtures/render/renderView';
import { DEFAULT_FLOAT_RATIO } from '../models/featureMatching';
import { FeatureWorker } from '../models/featureWorkerClient';
import { readGeoImage } from '../models/imagerySource';
import { readManifest } from '../models/indexFiles';
import { existingIndexImagery, openIndexImagery } from '../models/imageryStack';
import { DEFAULT_HEADING_TOLERANCE_DEG, DEFAULT_ROTATION_STEP_DEG, DEFAULT_WINDOW_MARGIN, locatePhoto, type LocateOptions } from '../models/locate';
import { RuntimeWindows, type MapReference } from '../models/mapReference';
import { MapSampler } from '../models/mapWindow';
import { ReferenceStore } from '../models/referenceStore';
import { DEFAULT_CONSENSUS, DEFAULT_ROBUST, DEFAULT_UNCERTAINTY } from '../models/registration';
import { xfeatFit } from '../models/xfeat';
import { DEFAULT_MAX_ATTEMPTS } from '../operators/registerFrame';
import { fixtureCacheDir, repoRoot } from '../pipeline/core/paths';
import { mulberry32 } from '../pipeline/core/random';
import { summarize } from '../pipeline/core/stats';
import { destination, haversineMeters } from '../pipeline/geo/wgs84';

const SEED = 14;
const ALTITUDE_RANGE_M: [number, number] = [170, 240];
/** poses are drawn this far inside the imagery's edge, so every view is all map */
const EDGE_M = 300;
const TRACK_OFF_M = 25;
const FULL_TURN_DEG = 360;

interface Outcome {
  registered: boolean;
  errorM?: number;
  wallMs: number;
  featuresMs?: number;
  matchingMs?: number;
  estimationMs?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      index: { type: 'string', default: join(fixtureCacheDir(), 'index') },
      frames: { type: 'string', default: '30' },
      out: { type: 'string', default: join(repoRoot(), 'bench', 'results', 'registration.json') },
    },
  });
  const dir = values.index!;
  const manifest = await readManifest(dir);
  const stored = await ReferenceStore.open(dir, manifest);
  if (!stored) throw new Error(`${dir} has no reference features: build it without --no-features`);
  const runtime = new RuntimeWindows(new MapSampler(await openIndexImagery(dir, manifest, () => undefined)));
  // frames are rendered from the first source (the fixture index has one)
  const world = await readGeoImage(existingIndexImagery(dir, manifest)[0]!);
  const pyramid = MapPyramid.fromRgb(world.width, world.height, world.rgb);
  const size = xfeatFit(FIXTURE_CAMERA.width, FIXTURE_CAMERA.height);
  const camera = new PinholeCamera({ ...FIXTURE_CAMERA, ...size });
  const worker = await FeatureWorker.start({ method: 'xfeat' });
  const random = mulberry32(SEED);
  const b = manifest.imagery.bounds;
  const inset = EDGE_M / 111_000;
  const methods: [string, MapReference][] = [
    ['stored', stored],
    ['runtime', runtime],
  ];
  const outcomes: Record<string, Outcome[]> = { stored: [], runtime: [] };
  try {
    for (let i = 0; i < Number(values.frames); i++) {
      const pose: Pose = {
        lat: b.south + inset + random() * (b.north - b.south - 2 * inset),
        lon: b.west + inset * 1.5 + random() * (b.east - b.west - 3 * inset),
        altM: ALTITUDE_RANGE_M[0] + random() * (ALTITUDE_RANGE_M[1] - ALTITUDE_RANGE_M[0]),
        headingDeg: random() * FULL_TURN_DEG,
      };
      const { homography } = frameGeometry(camera, pose, world.georef);
      const photo = { rgb: renderView(pyramid, { homography, ...size }, NEUTRAL_LOOK), ...size };
      const place = { ...destination(pose, random() * FULL_TURN_DEG, TRACK_OFF_M), source: 'track' };
      const options: LocateOptions = {
        hfovDeg: FIXTURE_CAMERA.hfovDeg,
        pitchDeg: FIXTURE_CAMERA.pitchDeg,
        headingDeg: pose.headingDeg,
        heightsM: [pose.altM],
        rotationStepDeg: DEFAULT_ROTATION_STEP_DEG,
        headingToleranceDeg: DEFAULT_HEADING_TOLERANCE_DEG,
        windowMargin: DEFAULT_WINDOW_MARGIN,
        budget: DEFAULT_MAX_ATTEMPTS,
        registration: { match: { maxRatio: DEFAULT_FLOAT_RATIO }, robust: DEFAULT_ROBUST, consensus: DEFAULT_CONSENSUS, uncertainty: DEFAULT_UNCERTAINTY },
      };
      // alternate which goes first, so neither always meets a warm or a cold cache
      for (const [name, reference] of i % 2 === 0 ? methods : [...methods].reverse()) {
        const started = performance.now();
        const r = await locatePhoto(worker, reference, photo, [place], options);
        const wallMs = performance.now() - started;
        outcomes[name]!.push(r.ok ? { registered: true, errorM: haversineMeters(r, pose), wallMs, ...r.timing } : { registered: false, wallMs });
      }
      process.stderr.write(`[bench] frame ${i + 1}/${values.frames}\r`);
    }
  } finally {
    await worker.close();
  }
  const report = Object.fromEntries(
    Object.entries(outcomes).map(([name, list]) => {
      const ok = list.filter((o) => o.registered);
      const pick = (key: keyof Outcome) => summarize(ok.map((o) => o[key] as number));
      return [name, { frames: list.length, registered: ok.length, errorM: pick('errorM'), wallMs: summarize(list.map((o) => o.wallMs)), featuresMs: pick('featuresMs'), matchingMs: pick('matchingMs'), estimationMs: pick('estimationMs') }];
    }),
  );
  const ratio = report['runtime']!.wallMs.p50 / report['stored']!.wallMs.p50;
  const result = { index: dir, seed: SEED, frames: Number(values.frames), ...report, runtimeOverStoredWallP50: ratio };
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
  const line = (name: string) => {
    const r = report[name]!;
    return `${name.padEnd(8)} registered ${r.registered}/${r.frames}, error p50 ${r.errorM.p50.toFixed(2)} m p95 ${r.errorM.p95.toFixed(2)} m, wall p50 ${r.wallMs.p50.toFixed(0)} ms p95 ${r.wallMs.p95.toFixed(0)} ms (features ${r.featuresMs.p50.toFixed(0)}, matching ${r.matchingMs.p50.toFixed(0)}, estimation ${r.estimationMs.p50.toFixed(0)})`;
  };
  process.stdout.write(`${line('stored')}\n${line('runtime')}\nruntime ÷ stored wall p50: ${ratio.toFixed(2)}\n→ ${values.out}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
