/**
 * A weighted particle cloud in typed arrays: position and velocity in local metres, plus
 * each particle's crab angle and whether it follows heading telemetry; with the motion
 * model, resampling and the summaries the filter reports.
 */
import type { CandidateKernels } from './likelihood';
import type { Random } from '../core/random';

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { PI, abs, atan2, ceil, cos, exp, floor, log, max, min, pow, sin, sqrt } = Math;

/** Longest step the motion model integrates in one go; longer gaps are split. */
const MAX_MOTION_STEP_S = 1;
/** Upper bound on sub-steps, so a very long gap costs bounded time. */
const MAX_MOTION_STEPS = 30;
/** Jitter after resampling keeps duplicated particles apart (m, m/s). */
const ROUGHEN_POSITION_M = 1;
const ROUGHEN_VELOCITY_MPS = 0.1;
/** Distance histogram for weighted quantiles: log-spaced bins from 1 m, 2% wide. */
const QUANTILE_BIN_RATIO = 1.02;
const QUANTILE_BINS = 800;
const LOG_BIN_RATIO = log(QUANTILE_BIN_RATIO);
/** The mode search sums weight over cells, then over 3×3 blocks of cells. */
const MODE_CELL_M = 50;
/** Cells per side of the mode-search grid (6 km at 50 m cells; wider clouds get wider cells). */
const MODE_GRID_SIDE = 128;

export interface MotionModel {
  maxSpeedMps: number;
  /** standard deviation of the velocity change accumulated over one second, m/s */
  processNoiseMps2: number;
}

/**
 * Heading telemetry and how the particles trust it: most follow it with a crab angle that
 * wanders slowly; a share (the "free" particles) ignore it, so a heading that is not the
 * course (a drone flying sideways) costs accuracy rather than the track.
 */
export interface HeadingModel {
  crabSigmaRad: number;
  crabCorrelationS: number;
  /** share of particles that ignore the heading */
  freeFraction: number;
  /** mean time a particle keeps its choice of following or ignoring the heading, seconds */
  modeDwellS: number;
}

export interface CloudSummary {
  east: number;
  north: number;
  velocityEast: number;
  velocityNorth: number;
  /** weighted 95% quantile of the distance from (east, north) */
  radius95M: number;
  /** posterior mass within the confidence radius of (east, north) */
  massNear: number;
}

export class ParticleCloud {
  /** particle count: the length of every per-particle array, so each `[i]!` with i < size is in range */
  readonly size: number;
  readonly east: Float64Array;
  readonly north: Float64Array;
  readonly vEast: Float64Array;
  readonly vNorth: Float64Array;
  /** course minus heading, radians: how the particle crabs when heading telemetry is present */
  readonly crab: Float64Array;
  /** 1 where the particle follows heading telemetry, 0 where it ignores it */
  readonly follows: Uint8Array;
  /** normalized weights */
  readonly weight: Float64Array;
  /** resample's copies of east, north, vEast, vNorth, crab and follows */
  private readonly scratch: readonly [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Uint8Array];
  private readonly histogram = new Float64Array(QUANTILE_BINS);
  private readonly indexPool: Uint32Array;
  private readonly modeGrid = new Float64Array(MODE_GRID_SIDE * MODE_GRID_SIDE);

  constructor(size: number, private readonly random: Random) {
    this.size = size;
    this.east = new Float64Array(size);
    this.north = new Float64Array(size);
    this.vEast = new Float64Array(size);
    this.vNorth = new Float64Array(size);
    this.crab = new Float64Array(size);
    this.follows = new Uint8Array(size).fill(1);
    this.weight = new Float64Array(size).fill(1 / size);
    this.scratch = [new Float64Array(size), new Float64Array(size), new Float64Array(size), new Float64Array(size), new Float64Array(size), new Uint8Array(size)];
    this.indexPool = new Uint32Array(size);
  }

  /**
   * Constant velocity with a white-noise acceleration: over dt each velocity component
   * changes by N(0, q²·dt), speed is clipped to the maximum, position moves by the mean
   * velocity over the step. With heading telemetry a particle that follows the heading
   * instead takes the speed noise along its course, which is the heading plus its crab angle.
   */
  predict(dt: number, motion: MotionModel, headingModel: HeadingModel, headingRad: number | undefined): void {
    if (dt <= 0) return;
    const steps = min(MAX_MOTION_STEPS, ceil(dt / MAX_MOTION_STEP_S));
    const h = dt / steps;
    const sigma = motion.processNoiseMps2 * sqrt(h);
    const vmax = motion.maxSpeedMps;
    const { east, north, vEast, vNorth, crab, follows, random } = this;
    for (let s = 0; s < steps; s++) {
      if (headingRad !== undefined) this.evolveHeadingModes(h, headingModel, headingRad);
      for (let i = 0; i < this.size; i++) {
        const ve0 = vEast[i]!;
        const vn0 = vNorth[i]!;
        let ve: number;
        let vn: number;
        if (headingRad !== undefined && follows[i]) {
          const speed = min(vmax, abs(sqrt(ve0 * ve0 + vn0 * vn0) + sigma * random.normal()));
          const course = headingRad + crab[i]!;
          ve = speed * sin(course);
          vn = speed * cos(course);
        } else {
          ve = ve0 + sigma * random.normal();
          vn = vn0 + sigma * random.normal();
          const speed = sqrt(ve * ve + vn * vn);
          if (speed > vmax) {
            ve *= vmax / speed;
            vn *= vmax / speed;
          }
        }
        east[i]! += 0.5 * (ve0 + ve) * h;
        north[i]! += 0.5 * (vn0 + vn) * h;
        vEast[i] = ve;
        vNorth[i] = vn;
      }
    }
  }

  /**
   * Crab angles wander as an Ornstein–Uhlenbeck process; now and then a particle switches
   * between following and ignoring the heading (a particle that starts following keeps its
   * current course as its crab angle, so its motion stays continuous).
   */
  private evolveHeadingModes(h: number, heading: HeadingModel, headingRad: number): void {
    const keep = exp(-h / heading.crabCorrelationS);
    const refresh = heading.crabSigmaRad * sqrt(1 - keep * keep);
    const switchProbability = 1 - exp(-h / heading.modeDwellS);
    const { crab, follows, vEast, vNorth, random } = this;
    for (let i = 0; i < this.size; i++) {
      crab[i] = keep * crab[i]! + refresh * random.normal();
      if (random.unit() >= switchProbability) continue;
      const follow = random.unit() >= heading.freeFraction;
      if (follow && !follows[i]) {
        const course = atan2(vEast[i]!, vNorth[i]!);
        crab[i] = atan2(sin(course - headingRad), cos(course - headingRad));
      }
      follows[i] = follow ? 1 : 0;
    }
  }

  /**
   * Multiplies weight i by exp(logFactor[i]) and renormalizes (shifted by the largest factor,
   * so nothing underflows to all-zero). `logFactor` holds one entry per particle.
   */
  reweight(logFactor: Float64Array): void {
    const weight = this.weight;
    let maxLog = -Infinity;
    for (let i = 0; i < this.size; i++) {
      const f = logFactor[i]!;
      if (weight[i]! > 0 && f > maxLog) maxLog = f;
    }
    let total = 0;
    for (let i = 0; i < this.size; i++) {
      const w = weight[i]! * exp(logFactor[i]! - maxLog);
      weight[i] = w;
      total += w;
    }
    for (let i = 0; i < this.size; i++) weight[i]! /= total;
  }

  effectiveSampleSize(): number {
    let sumSquares = 0;
    for (let i = 0; i < this.size; i++) {
      const w = this.weight[i]!;
      sumSquares += w * w;
    }
    return 1 / sumSquares;
  }

  /** Systematic resampling to equal weights, then a small jitter. */
  resample(): void {
    if (this.size === 0) return; // no particles, no weight[0] to start from
    const [e, n, ve, vn, crab, follows] = this.scratch;
    const step = 1 / this.size;
    let u = this.random.unit() * step;
    let cumulative = this.weight[0]!;
    let source = 0;
    // source stays below size (the while guard), as does i: every `[i]!` and `[source]!` is in range.
    for (let i = 0; i < this.size; i++) {
      while (u > cumulative && source < this.size - 1) cumulative += this.weight[++source]!;
      e[i] = this.east[source]!;
      n[i] = this.north[source]!;
      ve[i] = this.vEast[source]!;
      vn[i] = this.vNorth[source]!;
      crab[i] = this.crab[source]!;
      follows[i] = this.follows[source]!;
      u += step;
    }
    for (let i = 0; i < this.size; i++) {
      this.east[i] = e[i]! + ROUGHEN_POSITION_M * this.random.normal();
      this.north[i] = n[i]! + ROUGHEN_POSITION_M * this.random.normal();
      this.vEast[i] = ve[i]! + ROUGHEN_VELOCITY_MPS * this.random.normal();
      this.vNorth[i] = vn[i]! + ROUGHEN_VELOCITY_MPS * this.random.normal();
    }
    this.crab.set(crab);
    this.follows.set(follows);
    this.weight.fill(step);
  }

  /**
   * Overwrites the particles at `indices` with draws around the candidate kernels. Each
   * candidate is picked with probability ½π_j + ½/k, so every candidate seeds a hypothesis.
   * Speeds are uniform up to the maximum; a particle that follows the heading points along
   * it plus a crab angle, any other points anywhere. Without kernels nothing is drawn.
   */
  seedFromKernels(
    kernels: CandidateKernels,
    indices: ArrayLike<number>,
    maxSpeedMps: number,
    headingModel: HeadingModel,
    headingRad: number | undefined,
  ): void {
    const k = kernels.count;
    if (k === 0) return;
    // j < k, the length of every kernel array and of `cumulative`: each `[j]!` is in range.
    const cumulative = new Float64Array(k);
    let acc = 0;
    for (let j = 0; j < k; j++) {
      acc += 0.5 * kernels.weight[j]! + 0.5 / k;
      cumulative[j] = acc;
    }
    const random = this.random;
    for (let m = 0; m < indices.length; m++) {
      const i = indices[m]!;
      const u = random.unit() * acc;
      let j = 0;
      while (j < k - 1 && cumulative[j]! < u) j++;
      const sigma = kernels.sigma[j]!;
      this.east[i] = kernels.east[j]! + sigma * random.normal();
      this.north[i] = kernels.north[j]! + sigma * random.normal();
      this.drawMotion(i, maxSpeedMps, headingModel, headingRad);
    }
  }

  /**
   * Overwrites every particle with a draw uniform over the disc of `radiusM` around (east,
   * north), with motion drawn as seedFromKernels draws it: a prior known before any
   * measurement (the take-off point), all weights equal.
   */
  seedInCircle(east: number, north: number, radiusM: number, maxSpeedMps: number, headingModel: HeadingModel, headingRad: number | undefined): void {
    const random = this.random;
    for (let i = 0; i < this.size; i++) {
      // √u makes the density uniform over the area, not crowded at the centre
      const r = radiusM * sqrt(random.unit());
      const bearing = 2 * PI * random.unit();
      this.east[i] = east + r * sin(bearing);
      this.north[i] = north + r * cos(bearing);
      this.drawMotion(i, maxSpeedMps, headingModel, headingRad);
    }
    this.equalizeWeights();
  }

  /** A random speed up to the maximum; a particle that follows the heading points along it plus a crab angle, any other anywhere. */
  private drawMotion(i: number, maxSpeedMps: number, headingModel: HeadingModel, headingRad: number | undefined): void {
    const random = this.random;
    const crab = headingModel.crabSigmaRad * random.normal();
    const follows = random.unit() >= headingModel.freeFraction;
    this.crab[i] = crab;
    this.follows[i] = follows ? 1 : 0;
    const direction = headingRad !== undefined && follows ? headingRad + crab : 2 * PI * random.unit();
    const speed = maxSpeedMps * random.unit();
    this.vEast[i] = speed * sin(direction);
    this.vNorth[i] = speed * cos(direction);
  }

  /** `count` distinct particle indices, uniformly at random (partial Fisher–Yates). */
  randomIndices(count: number): Uint32Array {
    const pool = this.indexPool;
    for (let i = 0; i < this.size; i++) pool[i] = i;
    const n = min(count, this.size);
    // i ≤ j < size, the pool's length
    for (let i = 0; i < n; i++) {
      const j = i + this.random.int(0, this.size - i - 1);
      const tmp = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = tmp;
    }
    return pool.slice(0, n);
  }

  /** Gives every particle the same weight. */
  equalizeWeights(): void {
    this.weight.fill(1 / this.size);
  }

  /**
   * The densest block of 3×3 cells (150 m) of the cloud (a multi-modal posterior reports
   * its strongest mode, not the empty middle), refined by two mean-shift steps within
   * `windowM`; then the weighted 95% distance quantile around it and the mass within `nearM`.
   */
  summarize(windowM: number, nearM: number): CloudSummary {
    const [cx, cy] = this.densestBlock();
    let [east, north] = this.windowMean(cx, cy, windowM);
    [east, north] = this.windowMean(east, north, windowM);
    const [velocityEast, velocityNorth] = this.windowVelocity(east, north, windowM);
    const hist = this.histogram;
    hist.fill(0);
    let massNear = 0;
    const near2 = nearM * nearM;
    for (let i = 0; i < this.size; i++) {
      const dx = this.east[i]! - east;
      const dy = this.north[i]! - north;
      const w = this.weight[i]!;
      const d2 = dx * dx + dy * dy;
      if (d2 <= near2) massNear += w;
      // a distance over 1 m has a positive log: bin lies in [0, QUANTILE_BINS)
      const bin = d2 <= 1 ? 0 : min(QUANTILE_BINS - 1, ceil(log(d2) / (2 * LOG_BIN_RATIO)));
      hist[bin]! += w;
    }
    let acc = 0;
    let bin = 0;
    while (bin < QUANTILE_BINS - 1 && acc + hist[bin]! < 0.95) acc += hist[bin++]!;
    const radius95M = pow(QUANTILE_BIN_RATIO, bin); // upper edge of the bin: errs wide
    return { east, north, velocityEast, velocityNorth, radius95M, massNear };
  }

  private densestBlock(): [number, number] {
    let minE = Infinity;
    let minN = Infinity;
    let maxE = -Infinity;
    let maxN = -Infinity;
    for (let i = 0; i < this.size; i++) {
      const e = this.east[i]!;
      const n = this.north[i]!;
      if (e < minE) minE = e;
      if (e > maxE) maxE = e;
      if (n < minN) minN = n;
      if (n > maxN) maxN = n;
    }
    // Cells grow when the cloud is wider than the grid (so cols, rows ≤ MODE_GRID_SIDE); one
    // padding cell on each side lets the 3×3 sums run without bounds checks.
    const cellM = max(MODE_CELL_M, max(maxE - minE, maxN - minN) / (MODE_GRID_SIDE - 3));
    const cols = floor((maxE - minE) / cellM) + 3;
    const rows = floor((maxN - minN) / cellM) + 3;
    const grid = this.modeGrid;
    grid.fill(0, 0, cols * rows);
    for (let i = 0; i < this.size; i++) {
      const cx = floor((this.east[i]! - minE) / cellM) + 1;
      const cy = floor((this.north[i]! - minN) / cellM) + 1;
      grid[cy * cols + cx]! += this.weight[i]!;
    }
    let best = -1;
    let bestX = 1;
    let bestY = 1;
    for (let cy = 1; cy < rows - 1; cy++) {
      for (let cx = 1; cx < cols - 1; cx++) {
        if (grid[cy * cols + cx] === 0) continue;
        let block = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) block += grid[(cy + dy) * cols + cx + dx]!;
        if (block > best) {
          best = block;
          bestX = cx;
          bestY = cy;
        }
      }
    }
    return [minE + (bestX - 0.5) * cellM, minN + (bestY - 0.5) * cellM];
  }

  private windowMean(cx: number, cy: number, windowM: number): [number, number] {
    return this.windowAverage(cx, cy, windowM, this.east, this.north) ?? [cx, cy];
  }

  private windowVelocity(cx: number, cy: number, windowM: number): [number, number] {
    return this.windowAverage(cx, cy, windowM, this.vEast, this.vNorth) ?? [0, 0];
  }

  /** The weighted mean of the per-particle arrays `a` and `b` within `windowM` of (cx, cy); undefined when no weight lies there. */
  private windowAverage(cx: number, cy: number, windowM: number, a: Float64Array, b: Float64Array): [number, number] | undefined {
    const window2 = windowM * windowM;
    let sw = 0;
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < this.size; i++) {
      const dx = this.east[i]! - cx;
      const dy = this.north[i]! - cy;
      if (dx * dx + dy * dy > window2) continue;
      const w = this.weight[i]!;
      sw += w;
      sa += w * a[i]!;
      sb += w * b[i]!;
    }
    return sw > 0 ? [sa / sw, sb / sw] : undefined;
  }
}
