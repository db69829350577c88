/**
 * A simulated flight and an imitation of the retrieval it would get, for the filter's tests
 * and bench. The retrieval is scored from the overlap between the camera's ground footprint
 * and each tile of a multi-scale grid, with correlated score noise and regimes in which
 * distractors (a consistent "twin" place, or random places) outrank the true tiles.
 */
import { LocalFrame, type LatLon } from '../../pipeline/geo/wgs84';
import type { Measurement, TrackEstimate } from '../../pipeline/tracking/types';
import type { Candidate, SearchRegion } from '../../pipeline/core/types';
import { Random } from '../../pipeline/core/random';

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { PI, abs, atan, atan2, cos, exp, hypot, log, max, min, sign, sin, sqrt, tan } = Math;
const DEG = PI / 180;

export interface SimulationParameters {
  seed: number;
  durationS: number;
  rateHz: number;
  /** side of the square world, metres */
  worldM: number;
  /** WGS84 position of the world's south-west corner */
  corner: LatLon;
  /** tile sides of the grid's scales; each scale's stride is half its side */
  footprintsM: number[];
  /** candidates per measurement */
  k: number;
  altitudeM: number;
  /** side of the camera's square ground footprint at `altitudeM` */
  cameraFootprintM: number;
  minSpeedMps: number;
  maxSpeedMps: number;
  /** turn rates are drawn per segment in ±this, deg/s */
  maxTurnRateDegS: number;
  minSegmentS: number;
  maxSegmentS: number;
  /** the flight turns back towards the centre this close to the edge */
  edgeMarginM: number;
  /** speed changes towards each segment's target at this rate, m/s² */
  speedChangeMps2: number;
  /** mean time the retrieval stays in one regime (exponential), seconds */
  regimeDwellS: number;
  /** regime probabilities; the rest is "random distractors" */
  genuineProbability: number;
  twinProbability: number;
  /** score = base + gain·IoU(camera footprint, tile) + noise */
  scoreBase: number;
  scoreGain: number;
  scoreNoise: number;
  /** correlation time of each tile's score noise (consecutive frames look alike) */
  scoreNoiseCorrelationS: number;
  /** distractors outrank the true tiles by a bonus drawn per regime in this range */
  minDistractorBonus: number;
  maxDistractorBonus: number;
  /** isolated random tiles added to the top in each "random" frame */
  isolatedDistractors: number;
  headingNoiseDeg: number;
  /** camera pitch, −90 = straight down: a tilted camera sees the ground ahead along the course */
  gimbalPitchDeg: number;
  /** heading telemetry minus the true course (a drone flying sideways), degrees */
  headingOffsetDeg: number;
  altitudeNoiseM: number;
  /** the source is displaced (as if the drone were elsewhere) during [startS, startS + durationS) */
  kidnap?: { startS: number; durationS: number; eastM: number; northM: number };
}

/** Chosen before the filter was tuned; see pipeline/tracking/README.md ("Simulation"). */
export const DEFAULT_SIMULATION: Readonly<SimulationParameters> = {
  seed: 1,
  durationS: 180,
  rateHz: 5,
  worldM: 2400,
  corner: { lat: 47.0, lon: 8.0 },
  footprintsM: [140, 230, 350],
  k: 10,
  altitudeM: 120,
  cameraFootprintM: 200,
  minSpeedMps: 5,
  maxSpeedMps: 15,
  maxTurnRateDegS: 8,
  minSegmentS: 5,
  maxSegmentS: 15,
  edgeMarginM: 300,
  speedChangeMps2: 1,
  regimeDwellS: 1,
  genuineProbability: 0.4,
  twinProbability: 0.15,
  scoreBase: 0.55,
  scoreGain: 0.35,
  scoreNoise: 0.02,
  scoreNoiseCorrelationS: 0.5,
  minDistractorBonus: 0.01,
  maxDistractorBonus: 0.06,
  isolatedDistractors: 2,
  headingNoiseDeg: 5,
  headingOffsetDeg: 0,
  gimbalPitchDeg: -90,
  altitudeNoiseM: 2,
};

/** The field of view, degrees, of a camera that sees the default footprint from the default altitude (the filter's cameraFovDeg). */
export const SIMULATED_CAMERA_FOV_DEG = (2 * atan(DEFAULT_SIMULATION.cameraFootprintM / (2 * DEFAULT_SIMULATION.altitudeM))) / DEG;

export type Regime = 'genuine' | 'twin' | 'random';

export interface SimulatedFix {
  t: number;
  truth: LatLon;
  /** truth in the simulation's metres from the south-west corner */
  east: number;
  north: number;
  /** true velocity over ground, m/s (the motion since the previous fix) */
  velocityEast: number;
  velocityNorth: number;
  regime: Regime;
  /** the global top-k candidates plus altitude, heading and pitch telemetry */
  measurement: Measurement;
  /** the top-k among the tiles whose centre lies in `region` (all tiles without one) */
  search(region?: SearchRegion): Candidate[];
}

interface Tile {
  id: number;
  east: number;
  north: number;
  side: number;
  lat: number;
  lon: number;
}

interface Source {
  east: number;
  north: number;
  bonus: number;
}

function makeTiles(p: SimulationParameters, frame: LocalFrame): Tile[] {
  const tiles: Tile[] = [];
  for (const side of p.footprintsM) {
    const stride = side / 2;
    for (let north = side / 2; north <= p.worldM - side / 2; north += stride) {
      for (let east = side / 2; east <= p.worldM - side / 2; east += stride) {
        const { lat, lon } = frame.fromEnu({ e: east, n: north, u: 0 });
        tiles.push({ id: tiles.length, east, north, side, lat, lon });
      }
    }
  }
  return tiles;
}

const wrap = (x: number, size: number) => ((x % size) + size) % size;

/** Intersection over union of two axis-aligned squares given by centre and side. */
function squareIou(ax: number, ay: number, aSide: number, bx: number, by: number, bSide: number): number {
  const overlapX = max(0, min(ax + aSide / 2, bx + bSide / 2) - max(ax - aSide / 2, bx - bSide / 2));
  const overlapY = max(0, min(ay + aSide / 2, by + bSide / 2) - max(ay - aSide / 2, by - bSide / 2));
  const inter = overlapX * overlapY;
  return inter / (aSide * aSide + bSide * bSide - inter);
}

/** Indices of the k largest values (among those `accept` lets through), largest first. */
function topK(values: ArrayLike<number>, k: number, accept: (i: number) => boolean = () => true): number[] {
  const best: number[] = [];
  // best holds indices of values, so each values[best[…]!]! below is in range
  for (let i = 0; i < values.length; i++) {
    if (!accept(i)) continue;
    const value = values[i]!;
    if (best.length === k) {
      const weakest = best[k - 1];
      if (weakest === undefined || value <= values[weakest]!) continue; // with k = 0 nothing gets in
      best.pop();
    }
    let at = best.length;
    while (at > 0 && values[best[at - 1]!]! < value) at--;
    best.splice(at, 0, i);
  }
  return best;
}

/** A flight of turns and speed changes that stays inside the world. */
function* trajectory(p: SimulationParameters, random: Random): Generator<{ east: number; north: number; course: number; speed: number }> {
  const dt = 1 / p.rateHz;
  let east = p.worldM / 2 + (random.unit() - 0.5) * p.worldM * 0.4;
  let north = p.worldM / 2 + (random.unit() - 0.5) * p.worldM * 0.4;
  let course = 2 * PI * random.unit();
  let speed = p.minSpeedMps + (p.maxSpeedMps - p.minSpeedMps) * random.unit();
  let segmentLeft = 0;
  let turnRate = 0;
  let targetSpeed = speed;
  for (let t = 0; t < p.durationS; t += dt) {
    yield { east, north, course, speed };
    if (segmentLeft <= 0) {
      segmentLeft = p.minSegmentS + (p.maxSegmentS - p.minSegmentS) * random.unit();
      turnRate = (2 * random.unit() - 1) * p.maxTurnRateDegS * DEG;
      targetSpeed = p.minSpeedMps + (p.maxSpeedMps - p.minSpeedMps) * random.unit();
    }
    segmentLeft -= dt;
    let rate = turnRate;
    const nearEdge = min(east, north, p.worldM - east, p.worldM - north) < p.edgeMarginM;
    if (nearEdge) {
      const toCentre = atan2(p.worldM / 2 - east, p.worldM / 2 - north);
      const offCourse = atan2(sin(toCentre - course), cos(toCentre - course));
      rate = sign(offCourse) * p.maxTurnRateDegS * DEG * 2;
    }
    course += rate * dt;
    speed += sign(targetSpeed - speed) * min(abs(targetSpeed - speed), p.speedChangeMps2 * dt);
    east += speed * sin(course) * dt;
    north += speed * cos(course) * dt;
  }
}

export function simulateFlight(overrides: Partial<SimulationParameters> = {}): SimulatedFix[] {
  const p: SimulationParameters = { ...DEFAULT_SIMULATION, ...overrides };
  const random = new Random(p.seed);
  const frame = new LocalFrame(p.corner);
  const tiles = makeTiles(p, frame);
  const noise = new Float64Array(tiles.length).map(() => p.scoreNoise * random.normal());
  const scores = new Float64Array(tiles.length);
  const dt = 1 / p.rateHz;
  const noiseKeep = exp(-dt / p.scoreNoiseCorrelationS);
  const noiseRefresh = sqrt(1 - noiseKeep * noiseKeep);
  const fixes: SimulatedFix[] = [];
  let regime: Regime = 'genuine';
  let regimeLeft = 0;
  let distractor: Source = { east: 0, north: 0, bonus: 0 };
  let index = 0;
  for (const truth of trajectory(p, random)) {
    const t = index * dt;
    if (regimeLeft <= 0) {
      regimeLeft = -p.regimeDwellS * log(1 - random.unit());
      const u = random.unit();
      regime = u < p.genuineProbability ? 'genuine' : u < p.genuineProbability + p.twinProbability ? 'twin' : 'random';
      const bonus = p.minDistractorBonus + (p.maxDistractorBonus - p.minDistractorBonus) * random.unit();
      distractor = { east: p.worldM * random.unit(), north: p.worldM * random.unit(), bonus };
    }
    regimeLeft -= dt;
    const kidnapped = p.kidnap !== undefined && t >= p.kidnap.startS && t < p.kidnap.startS + p.kidnap.durationS;
    // A displaced source wraps around the world's edges, so it stays over mapped tiles.
    const ahead = p.altitudeM * tan(((p.gimbalPitchDeg + 90) * PI) / 180);
    const viewed = { east: truth.east + ahead * sin(truth.course), north: truth.north + ahead * cos(truth.course) };
    const seen = kidnapped && p.kidnap ? { east: wrap(viewed.east + p.kidnap.eastM, p.worldM), north: wrap(viewed.north + p.kidnap.northM, p.worldM) } : viewed;
    const sources: Source[] = [{ east: seen.east, north: seen.north, bonus: 0 }];
    // The twin mirrors the flight through the world's centre: a consistent wrong track.
    if (regime === 'twin') sources.push({ east: p.worldM - seen.east, north: p.worldM - seen.north, bonus: distractor.bonus });
    if (regime === 'random') sources.push(distractor);
    // noise holds one entry per tile
    for (const [i, tile] of tiles.entries()) {
      const tileNoise = noiseKeep * noise[i]! + noiseRefresh * p.scoreNoise * random.normal();
      noise[i] = tileNoise;
      let best = -Infinity;
      for (const s of sources) {
        const iou = squareIou(s.east, s.north, p.cameraFootprintM, tile.east, tile.north, tile.side);
        if (iou > 0 || s.bonus === 0) best = max(best, p.scoreBase + p.scoreGain * iou + (iou > 0 ? s.bonus : 0));
      }
      scores[i] = best + tileNoise;
    }
    if (regime === 'random') {
      const top = max(...scores);
      for (let d = 0; d < p.isolatedDistractors; d++) scores[random.int(0, tiles.length - 1)] = top + distractor.bonus * random.unit();
    }
    const frameScores = Float32Array.from(scores);
    // i is a tile index (frameScores holds one score per tile)
    const toCandidate = (i: number): Candidate => {
      const tile = tiles[i]!;
      return { tileId: tile.id, score: min(1, frameScores[i]!), lat: tile.lat, lon: tile.lon, footprintM: tile.side };
    };
    const search = (region?: SearchRegion): Candidate[] => {
      if (!region) return topK(frameScores, p.k).map(toCandidate);
      const centre = frame.toEnu(region);
      const inside = (i: number) => {
        const tile = tiles[i]!;
        return hypot(tile.east - centre.e, tile.north - centre.n) <= region.radiusM;
      };
      return topK(frameScores, p.k, inside).map(toCandidate);
    };
    fixes.push({
      t,
      truth: frame.fromEnu({ e: truth.east, n: truth.north, u: 0 }),
      east: truth.east,
      north: truth.north,
      velocityEast: truth.speed * sin(truth.course),
      velocityNorth: truth.speed * cos(truth.course),
      regime,
      search,
      measurement: {
        frame: index,
        t,
        candidates: search(),
        altitudeM: p.altitudeM + p.altitudeNoiseM * random.normal(),
        gimbalPitchDeg: p.gimbalPitchDeg,
        headingDeg: (((truth.course / DEG + p.headingOffsetDeg + p.headingNoiseDeg * random.normal()) % 360) + 360) % 360,
      },
    });
    index++;
  }
  return fixes;
}

/** Drops the telemetry a test wants the filter to go without. */
export function withoutTelemetry(fixes: SimulatedFix[], drop: { altitude?: boolean; heading?: boolean; pitch?: boolean }): SimulatedFix[] {
  return fixes.map((f) => {
    const measurement = { ...f.measurement };
    if (drop.altitude) delete measurement.altitudeM;
    if (drop.heading) delete measurement.headingDeg;
    if (drop.pitch) delete measurement.gimbalPitchDeg;
    return { ...f, measurement };
  });
}

export interface TrackScore {
  estimates: TrackEstimate[];
  /** per fix: smoothed error, raw top-1 error, metres */
  errors: number[];
  rawTop1Errors: number[];
  /** share of fixes whose reported radius holds the truth */
  coverage: number;
  /** share of fixes whose top-1 candidate lies within one of its footprints of the truth */
  top1WithinFootprint: number;
}

/**
 * Feeds the fixes through `update` and scores the answers against the truth. With
 * `restrictSearch`, each fix is searched inside the previous estimate's search region when
 * there is one (the first inside `firstRegion`, a seeded filter's prior, when given), and the
 * measurement says so, as the live pipeline does.
 */
export function scoreTrack(
  fixes: SimulatedFix[],
  update: (m: Measurement) => TrackEstimate | undefined,
  options: { restrictSearch?: boolean; firstRegion?: SearchRegion } = {},
): TrackScore {
  const estimates: TrackEstimate[] = [];
  const errors: number[] = [];
  const rawTop1Errors: number[] = [];
  let covered = 0;
  let top1Near = 0;
  let frame: LocalFrame | undefined; // centred on the first fix
  let region = options.firstRegion;
  for (const fix of fixes) {
    frame ??= new LocalFrame(fix.truth);
    const measurement = options.restrictSearch && region ? { ...fix.measurement, candidates: fix.search(region), searchRegion: region } : fix.measurement;
    const estimate = update(measurement);
    region = estimate?.searchRegion;
    const truth = frame.toEnu(fix.truth);
    const top1 = measurement.candidates[0];
    if (top1) {
      const raw = frame.toEnu(top1);
      const rawError = hypot(raw.e - truth.e, raw.n - truth.n);
      rawTop1Errors.push(rawError);
      if (rawError <= top1.footprintM) top1Near++;
    }
    if (!estimate) continue;
    const at = frame.toEnu(estimate);
    const error = hypot(at.e - truth.e, at.n - truth.n);
    estimates.push(estimate);
    errors.push(error);
    if (error <= estimate.radiusM) covered++;
  }
  return {
    estimates,
    errors,
    rawTop1Errors,
    coverage: covered / max(1, errors.length),
    top1WithinFootprint: top1Near / max(1, rawTop1Errors.length),
  };
}
