/**
 * A recursive Bayesian filter over the drone's position: particles in local East-North
 * metres, a bounded-speed constant-velocity motion model, and a mixture likelihood over the
 * retrieved candidates. It reports a 95% radius and a confidence, notices when it has lost
 * the track and re-localizes from the global candidates. Formulas: README.md.
 */
import { GeolocError } from '../core/errors';
import { LocalFrame, type LatLon } from '../geo/wgs84';
import { buildKernels, evaluateLikelihood, type CandidateKernels, type LikelihoodOptions } from './likelihood';
import { ParticleCloud, type HeadingModel, type MotionModel } from './particles';
import { spreadOf } from './spread';
import type { EstimateMethod, FrameRegistration, Measurement, TrackEstimate } from './types';
import { validateMeasurement } from './validate';
import type { SearchRegion } from '../core/types';
import { definedOnly } from '../core/options';
import { Random } from '../core/random';

// Bound once: a global lookup per call is slow in hot loops (about 20× under jest's vm sandbox).
const { PI, abs, atan2, exp, hypot, log, max, min, round } = Math;

export interface TrackFilterOptions extends LikelihoodOptions, MotionModel {
  /** number of particles */
  particles: number;
  /** seconds of unanswered disagreement between global measurements and the track before it is declared lost */
  lostAfterS: number;
  /** PRNG seed: the same seed and inputs give the same outputs */
  seed: number;
  /** origin of the local metric frame; default: the prior's centre, else the first measurement's top-1 candidate */
  origin?: LatLon;
  /**
   * where the flight is known to start (a take-off point, the last GNSS fix before it was
   * lost); default: unknown. The first particles are drawn uniformly within this circle and
   * the filter tracks from there: its first search region is the circle, and later ones follow
   * the cloud, instead of re-localizing from global searches. Its global checks still run, so
   * a prior that the measurements keep contradicting is declared lost after lostAfterS and the
   * filter re-localizes globally as it would without one.
   */
  prior?: SearchRegion;
  /** spread of the course around the heading telemetry (the crab angle), degrees */
  headingSigmaDeg: number;
  /** correlation time of the crab angle, seconds */
  crabCorrelationS: number;
  /** share of particles that ignore heading telemetry (insurance against a heading that is not the course) */
  headingFreeFraction: number;
  /** mean time a particle keeps following (or ignoring) the heading, seconds */
  headingModeDwellS: number;
  /** measurements closer together than this are not independent: each counts for dt / this */
  measurementDecorrelationS: number;
  /** the least share of measurements a good track agrees with (sets the credit one agreeing measurement earns) */
  minConsistentFraction: number;
  /** share of the old particles kept when the track is declared lost */
  relocalizeKeepFraction: number;
  /** share of particles re-drawn from the candidates per decorrelation time while re-localizing */
  relocalizeInjectFraction: number;
  /** re-localization ends once the 95% radius has stayed below this ... */
  convergedRadiusM: number;
  /** ... for this long, seconds (counting, where frames are registered, only frames whose registration agreed) */
  convergeAfterS: number;
  /** factor on the particle cloud's 95% radius (model mismatch) */
  radiusInflation: number;
  /** the reported radius never goes below this, metres */
  minRadiusM: number;
  /** confidence is the posterior mass within this distance of the estimate (discounted by disagreement) */
  confidenceRadiusM: number;
  /** added to the search region beyond the radius and the motion until the next fix, metres */
  searchMarginM: number;
  /**
   * while tracking, ask for a global search (searchRegion undefined) when no global
   * measurement has come for this long, seconds: only global candidates can show the track
   * is wrong, and disagreement accumulates only as fast as they come
   */
  globalCheckEveryS: number;
  /** resample when the effective sample size falls below this share of the particles */
  resampleThreshold: number;
  /** radius of the window around the densest block whose weighted mean is the estimate, metres */
  modeWindowM: number;
  /**
   * 1-σ added in every direction to a registration's own covariance, metres: keeps a
   * registration from collapsing the cloud onto a handful of particles (the registration's own
   * covariance already holds the map, resolution and tilt terms: models/registration.ts)
   */
  registrationSigmaFloorM: number;
  /**
   * least probability that a registration is wrong (a consensus on a look-alike place), for
   * one with many inliers: its likelihood keeps a uniform floor
   */
  registrationOutlierProbability: number;
  /**
   * inliers at which a registration is as likely wrong as right: chance consensus on a
   * look-alike place reaches a few dozen inliers (15–33 over the Mandi render's hills, where
   * the true place gave 45–830), so the outlier probability falls from about 1 below this
   * to the floor above it, logistically with a spread of a quarter of it (models/registration.ts
   * refuses fits below it: those that reach the tracker are still only half-trusted at first)
   */
  registrationHalfTrustInliers: number;
  /**
   * share of particles re-drawn about a registration per decorrelation time, while
   * re-localizing or when it agrees with the track: a registration is far sharper than the
   * cloud's spacing, and without particles under it the cloud would collapse onto the nearest few
   */
  registrationInjectFraction: number;
}

export const DEFAULT_TRACK_FILTER_OPTIONS: Readonly<TrackFilterOptions> = {
  particles: 3000,
  maxSpeedMps: 20,
  processNoiseMps2: 2,
  lostAfterS: 5,
  seed: 1,
  scoreTemperature: 0.05,
  kernelSigmaPerFootprint: 0.3,
  outlierProbability: 0.5,
  outlierAreaM2: 9e6,
  cameraFovDeg: 60,
  scaleSigmaLog: 0.5,
  headingSigmaDeg: 20,
  crabCorrelationS: 10,
  headingFreeFraction: 0.1,
  headingModeDwellS: 10,
  measurementDecorrelationS: 0.5,
  minConsistentFraction: 0.25,
  relocalizeKeepFraction: 0.3,
  relocalizeInjectFraction: 0.1,
  convergedRadiusM: 150,
  convergeAfterS: 1,
  radiusInflation: 1,
  minRadiusM: 0.5,
  confidenceRadiusM: 50,
  searchMarginM: 100,
  globalCheckEveryS: 0.4,
  resampleThreshold: 0.5,
  modeWindowM: 150,
  registrationSigmaFloorM: 0.1,
  registrationOutlierProbability: 0.01,
  registrationHalfTrustInliers: 40,
  registrationInjectFraction: 0.1,
};

/** More particles than this would take seconds per update: surely a typo. */
const MAX_PARTICLES = 1_000_000;
/** A registration agrees with the track when it is more likely an inlier than an outlier under the predicted cloud. */
const INLIER_MAJORITY = 0.5;
/** the logistic's spread is the half-trust inlier count over this */
const REGISTRATION_TRUST_SPREAD_DIVISOR = 4;
const MAX_REGISTRATION_OUTLIER_PROBABILITY = 0.999;
/** Weight of the newest interval in the running mean of the time between fixes. */
const FIX_INTERVAL_SMOOTHING = 0.1;
const DEG = PI / 180;

type Phase = 'tracking' | 'relocalizing';

export class TrackFilter {
  readonly options: Readonly<TrackFilterOptions>;
  private readonly random: Random;
  private readonly cloud: ParticleCloud;
  private readonly likelihood: Float64Array;
  private readonly logFactor: Float64Array;
  private readonly headingModel: HeadingModel;
  private frame: LocalFrame | undefined;
  private lastT: number | undefined;
  private phase: Phase = 'relocalizing';
  private lost = false;
  /** seconds of disagreement not yet answered by agreeing measurements (a CUSUM) */
  private disagreementS = 0;
  /** how long the cloud has been concentrated while re-localizing, seconds */
  private concentratedS = 0;
  private fixIntervalS: number;
  /** time of the last measurement from a global search */
  private lastGlobalT = -Infinity;
  private lastEstimate: TrackEstimate | undefined;
  /** this update's registration as a kernel to re-draw particles from, when it may seed them, and how far it is trusted */
  private registrationKernel: { kernel: CandidateKernels; trust: number } | undefined;

  constructor(options: Partial<TrackFilterOptions> = {}) {
    this.options = resolveTrackFilterOptions(options);
    this.random = new Random(this.options.seed);
    this.cloud = new ParticleCloud(this.options.particles, this.random);
    this.likelihood = new Float64Array(this.options.particles);
    this.logFactor = new Float64Array(this.options.particles);
    this.fixIntervalS = this.options.measurementDecorrelationS;
    this.headingModel = {
      crabSigmaRad: this.options.headingSigmaDeg * DEG,
      crabCorrelationS: this.options.crabCorrelationS,
      freeFraction: this.options.headingFreeFraction,
      modeDwellS: this.options.headingModeDwellS,
    };
  }

  /** Forgets everything: the next measurement starts a new track, exactly as a new filter would. */
  reset(): void {
    this.random.restart();
    this.frame = undefined;
    this.lastT = undefined;
    this.phase = 'relocalizing';
    this.lost = false;
    this.disagreementS = 0;
    this.concentratedS = 0;
    this.fixIntervalS = this.options.measurementDecorrelationS;
    this.lastGlobalT = -Infinity;
    this.lastEstimate = undefined;
    this.cloud.equalizeWeights();
  }

  /** Where the next search should look (the prior before the first estimate); undefined when a global search is needed. */
  searchRegion(): SearchRegion | undefined {
    return this.lastEstimate ? this.lastEstimate.searchRegion : this.options.prior;
  }

  /**
   * Folds one measurement into the track. Throws GEOLOC_ERR_TRACK_INPUT (state untouched)
   * for a malformed measurement or one earlier than the last; returns undefined only while
   * no measurement with candidates has arrived yet (there is nothing to estimate from).
   */
  update(m: Measurement): TrackEstimate | undefined {
    validateMeasurement(m, this.lastT);
    const o = this.options;
    const headingRad = headingRadOf(m);
    if (this.frame === undefined || this.lastT === undefined) {
      const first = m.candidates[0];
      if (first === undefined) return undefined;
      this.frame = new LocalFrame(o.origin ?? o.prior ?? first);
      this.lastT = m.t;
      const kernels = this.kernelsFor(m, this.frame);
      this.noteGlobalSearch(m);
      if (o.prior) {
        this.startFromPrior(o.prior, kernels, headingRad);
      } else {
        this.cloud.seedFromKernels(kernels, this.cloud.randomIndices(o.particles), o.maxSpeedMps, this.headingModel, headingRad);
        this.cloud.equalizeWeights();
      }
      return this.finish(m, kernels, 0, 1, this.weighByRegistration(m, 1, 0));
    }
    const dt = m.t - this.lastT;
    this.lastT = m.t;
    if (dt > 0) this.fixIntervalS += FIX_INTERVAL_SMOOTHING * (dt - this.fixIntervalS);
    this.cloud.predict(dt, o, this.headingModel, headingRad);
    // Frames closer than the decorrelation time repeat each other's errors: temper them.
    const tempering = min(1, dt / o.measurementDecorrelationS);
    // Only global searches can contradict the track; each speaks for the time since the last one.
    const evidenceS = m.searchRegion ? 0 : min(m.t - this.lastGlobalT, o.measurementDecorrelationS);
    const kernels = this.kernelsFor(m, this.frame);
    this.noteGlobalSearch(m);
    if (kernels.count > 0) this.weighByMeasurement(kernels, tempering, evidenceS);
    if (kernels.count > 0 && !m.searchRegion && this.phase === 'tracking' && this.disagreementS >= o.lostAfterS) this.declareLost(kernels, headingRad);
    return this.finish(m, kernels, dt, tempering, this.weighByRegistration(m, tempering, min(dt, o.measurementDecorrelationS)));
  }

  /**
   * Draws the cloud within the prior, weighs it by the first measurement and tracks from there:
   * the prior stands in for the convergence that global searches would otherwise have to reach.
   */
  private startFromPrior(prior: SearchRegion, kernels: CandidateKernels, headingRad: number | undefined): void {
    const o = this.options;
    const centre = (this.frame as LocalFrame).toEnu(prior);
    this.cloud.seedInCircle(centre.e, centre.n, prior.radiusM, o.maxSpeedMps, this.headingModel, headingRad);
    // the first measurement is the only one so far: it counts in full, and contradicts nothing yet
    this.weighByMeasurement(kernels, 1, 0);
    this.phase = 'tracking';
  }

  /**
   * The measurement's kernels (none without candidates). Outliers of a restricted search
   * land inside its circle, so its outlier floor spreads over that circle's area.
   */
  private kernelsFor(m: Measurement, frame: LocalFrame): CandidateKernels {
    return buildKernels(m.candidates, frame, this.options, m, this.outlierAreaM2(m));
  }

  private noteGlobalSearch(m: Measurement): void {
    if (!m.searchRegion && m.candidates.length > 0) this.lastGlobalT = m.t;
  }

  /**
   * Multiplies each particle's weight by L(x_i)^tempering, and updates the disagreement
   * CUSUM from the probability that this measurement is an inlier under the prior.
   */
  private weighByMeasurement(kernels: CandidateKernels, tempering: number, evidenceS: number): void {
    const { cloud, likelihood, logFactor } = this;
    evaluateLikelihood(kernels, cloud.east, cloud.north, cloud.size, likelihood);
    let predictive = 0;
    // likelihood and logFactor hold one entry per particle, like the cloud's arrays
    for (let i = 0; i < cloud.size; i++) {
      const l = likelihood[i]!;
      predictive += cloud.weight[i]! * l;
      logFactor[i] = tempering * log(l);
    }
    cloud.reweight(logFactor);
    this.noteAgreement((predictive - kernels.floor) / predictive, evidenceS);
  }

  /** Updates the disagreement CUSUM with `evidenceS` seconds of a measurement that is an inlier with this probability under the prior. */
  private noteAgreement(inlierProbability: number, evidenceS: number): void {
    const credit = (1 - this.options.minConsistentFraction) / this.options.minConsistentFraction;
    this.disagreementS = max(0, this.disagreementS + evidenceS * (1 - inlierProbability - credit * inlierProbability));
  }

  /**
   * Multiplies each particle's weight by the registration's likelihood^tempering: a Gaussian
   * about the registered position (its covariance plus the floor) mixed with a uniform outlier
   * term over the same area as the candidates' (README.md), so a wrong registration reweighs
   * the cloud no more than a wrong candidate could. Returns whether the registration agreed
   * with the predicted track (it more likely an inlier than not); undefined without one.
   */
  private weighByRegistration(m: Measurement, tempering: number, evidenceS: number): boolean | undefined {
    const r = m.registration;
    if (!r || 'failed' in r) return undefined;
    const o = this.options;
    const { cloud, logFactor } = this;
    const at = (this.frame as LocalFrame).toEnu(r);
    const floor2 = o.registrationSigmaFloorM * o.registrationSigmaFloorM;
    const [cnn, cne, cee] = r.covarianceM2;
    const nn = cnn + floor2;
    const ee = cee + floor2;
    const det = nn * ee - cne * cne;
    const eps = registrationOutlierProbability(r.inliers, o);
    const uniform = eps / this.outlierAreaM2(m);
    const peak = (1 - eps) / (2 * PI * Math.sqrt(det));
    let predictive = 0;
    for (let i = 0; i < cloud.size; i++) {
      const dn = cloud.north[i]! - at.n;
      const de = cloud.east[i]! - at.e;
      // Mahalanobis distance² with the inverse of [[nn, ne], [ne, ee]]
      const d2 = (ee * dn * dn - 2 * cne * dn * de + nn * de * de) / det;
      const l = uniform + peak * exp(-d2 / 2);
      predictive += cloud.weight[i]! * l;
      logFactor[i] = tempering * log(l);
    }
    cloud.reweight(logFactor);
    const inlierProbability = (predictive - uniform) / predictive;
    // a trusted registration the track cannot explain is evidence that the track is wrong
    if (this.phase === 'tracking') this.noteAgreement(inlierProbability, evidenceS * (1 - eps));
    const agreed = inlierProbability > INLIER_MAJORITY;
    if (agreed || this.phase === 'relocalizing') {
      // an isotropic kernel as wide as the ellipse's long axis
      const sigma = Math.sqrt((nn + ee) / 2 + Math.sqrt(((nn - ee) / 2) ** 2 + cne * cne));
      this.registrationKernel = { kernel: singleKernel(at.e, at.n, sigma), trust: 1 - eps };
    }
    return agreed;
  }

  /** Where an outlier of this measurement lands: inside its search circle, else anywhere on the map. */
  private outlierAreaM2(m: Measurement): number {
    const region = m.searchRegion;
    return region ? min(this.options.outlierAreaM2, PI * region.radiusM * region.radiusM) : this.options.outlierAreaM2;
  }

  /** Keeps a share of the old posterior and re-draws the rest from the global candidates. */
  private declareLost(kernels: CandidateKernels, headingRad: number | undefined): void {
    const o = this.options;
    this.cloud.resample();
    const redraw = round(o.particles * (1 - o.relocalizeKeepFraction));
    this.cloud.seedFromKernels(kernels, this.cloud.randomIndices(redraw), o.maxSpeedMps, this.headingModel, headingRad);
    this.cloud.equalizeWeights();
    this.phase = 'relocalizing';
    this.lost = true;
    this.disagreementS = 0;
    this.concentratedS = 0;
  }

  /** Summarizes the posterior, moves the phase on, resamples (re-seeding while re-localizing). */
  private finish(m: Measurement, kernels: CandidateKernels, dt: number, tempering: number, registrationAgreed: boolean | undefined): TrackEstimate {
    const o = this.options;
    const frame = this.frame as LocalFrame;
    const summary = this.cloud.summarize(o.modeWindowM, o.confidenceRadiusM);
    const radiusM = max(o.minRadiusM, o.radiusInflation * summary.radius95M);
    if (this.phase === 'relocalizing') {
      // where frames are registered, only registrations that agree with the cloud confirm it:
      // retrieval alone can concentrate it on a look-alike place
      const confirmed = m.registration === undefined || registrationAgreed === true;
      if (summary.radius95M > o.convergedRadiusM) this.concentratedS = 0;
      else if (confirmed) this.concentratedS += dt;
      if (this.concentratedS >= o.convergeAfterS) {
        this.phase = 'tracking';
        this.lost = false;
        this.disagreementS = 0;
      }
    }
    const position = frame.fromEnu({ e: summary.east, n: summary.north, u: 0 });
    const agreement = max(0, 1 - this.disagreementS / o.lostAfterS);
    const speedMps = hypot(summary.velocityEast, summary.velocityNorth);
    const estimate: TrackEstimate = {
      frame: m.frame,
      t: m.t,
      lat: position.lat,
      lon: position.lon,
      radiusM,
      confidence: min(1, max(0, summary.massNear * agreement)),
      lost: this.lost,
      relocalizing: this.phase === 'relocalizing',
      method: methodOf(this.lost, registrationAgreed),
      ...registrationEvidence(m.registration),
      top1: m.candidates[0],
      candidates: m.candidates,
      speedMps,
      headingDeg: (atan2(summary.velocityEast, summary.velocityNorth) / DEG + 360) % 360,
      ...spreadOf(this.cloud, summary, o.modeWindowM),
    };
    if (this.phase === 'tracking' && m.t - this.lastGlobalT < o.globalCheckEveryS) {
      estimate.searchRegion = { lat: position.lat, lon: position.lon, radiusM: radiusM + o.maxSpeedMps * this.fixIntervalS + o.searchMarginM };
    }
    this.resampleAndReseed(kernels, headingRadOf(m), tempering);
    this.lastEstimate = estimate;
    return estimate;
  }

  private resampleAndReseed(kernels: CandidateKernels, headingRad: number | undefined, tempering: number): void {
    const o = this.options;
    const registered = this.registrationKernel;
    this.registrationKernel = undefined;
    const relocalizing = this.phase === 'relocalizing' && kernels.count > 0;
    if (registered || relocalizing) {
      this.cloud.resample();
      // the shares are per decorrelation time, so the frame rate does not change the search
      const reseed = (from: CandidateKernels, fraction: number) => this.cloud.seedFromKernels(from, this.cloud.randomIndices(round(o.particles * fraction * tempering)), o.maxSpeedMps, this.headingModel, headingRad);
      if (registered) reseed(registered.kernel, o.registrationInjectFraction * registered.trust);
      if (relocalizing) reseed(kernels, o.relocalizeInjectFraction);
    } else if (this.cloud.effectiveSampleSize() < o.resampleThreshold * o.particles) {
      this.cloud.resample();
    }
  }

}

/** Probability that a registration of `inliers` is a chance consensus on a look-alike place. */
function registrationOutlierProbability(inliers: number, o: Pick<TrackFilterOptions, 'registrationOutlierProbability' | 'registrationHalfTrustInliers'>): number {
  const spread = o.registrationHalfTrustInliers / REGISTRATION_TRUST_SPREAD_DIVISOR;
  const chance = 1 / (1 + exp((inliers - o.registrationHalfTrustInliers) / spread));
  // below 1: even the weakest registration leaves the cloud a likelihood to compare against
  return min(MAX_REGISTRATION_OUTLIER_PROBABILITY, max(o.registrationOutlierProbability, chance));
}

/** One Gaussian kernel at (east, north): where a registration puts the drone. */
function singleKernel(east: number, north: number, sigma: number): CandidateKernels {
  return {
    count: 1,
    east: Float64Array.of(east),
    north: Float64Array.of(north),
    sigma: Float64Array.of(sigma),
    weight: Float64Array.of(1),
    peak: Float64Array.of(1 / (2 * PI * sigma * sigma)),
    exponent: Float64Array.of(-1 / (2 * sigma * sigma)),
    floor: 0,
  };
}

function methodOf(lost: boolean, registrationAgreed: boolean | undefined): EstimateMethod {
  if (lost) return 'lost';
  return registrationAgreed ? 'registered' : 'retrieval';
}

function registrationEvidence(r: FrameRegistration | undefined): Pick<TrackEstimate, 'registration'> {
  return r && !('failed' in r) ? { registration: { inliers: r.inliers, reprojectionPx: r.reprojectionPx } } : {};
}

function headingRadOf(m: Measurement): number | undefined {
  return m.headingDeg !== undefined ? m.headingDeg * DEG : undefined;
}

/** The defaults overlaid with `options` (undefined values ignored), checked: throws GEOLOC_ERR_TRACK_OPTIONS. */
export function resolveTrackFilterOptions(options: Partial<TrackFilterOptions> = {}): Readonly<TrackFilterOptions> {
  return checkOptions({ ...DEFAULT_TRACK_FILTER_OPTIONS, ...definedOnly(options) });
}

/** The range a numeric option must lie in: bounds are inclusive unless marked open. */
interface OptionRange {
  min: number;
  max: number;
  openMin?: boolean;
  openMax?: boolean;
  integer?: boolean;
}

const POSITIVE: OptionRange = { min: 0, max: Infinity, openMin: true };
const NON_NEGATIVE: OptionRange = { min: 0, max: Infinity };
const FRACTION: OptionRange = { min: 0, max: 1 };

const OPTION_RANGES: Record<Exclude<keyof TrackFilterOptions, 'origin' | 'prior'>, OptionRange> = {
  particles: { min: 1, max: MAX_PARTICLES, integer: true },
  maxSpeedMps: POSITIVE,
  processNoiseMps2: NON_NEGATIVE,
  lostAfterS: POSITIVE,
  seed: { min: -Infinity, max: Infinity, integer: true },
  scoreTemperature: POSITIVE,
  kernelSigmaPerFootprint: POSITIVE,
  outlierProbability: { min: 0, max: 1, openMin: true, openMax: true },
  outlierAreaM2: POSITIVE,
  cameraFovDeg: { min: 0, max: 180, openMin: true, openMax: true },
  scaleSigmaLog: POSITIVE,
  headingSigmaDeg: POSITIVE,
  crabCorrelationS: POSITIVE,
  headingFreeFraction: FRACTION,
  headingModeDwellS: POSITIVE,
  measurementDecorrelationS: POSITIVE,
  minConsistentFraction: { min: 0, max: 1, openMin: true },
  relocalizeKeepFraction: FRACTION,
  relocalizeInjectFraction: FRACTION,
  convergedRadiusM: NON_NEGATIVE,
  convergeAfterS: NON_NEGATIVE,
  radiusInflation: POSITIVE,
  minRadiusM: NON_NEGATIVE,
  confidenceRadiusM: POSITIVE,
  searchMarginM: NON_NEGATIVE,
  globalCheckEveryS: POSITIVE,
  resampleThreshold: FRACTION,
  modeWindowM: POSITIVE,
  registrationSigmaFloorM: POSITIVE,
  registrationOutlierProbability: { min: 0, max: 1, openMin: true, openMax: true },
  registrationHalfTrustInliers: POSITIVE,
  registrationInjectFraction: FRACTION,
};

function inRange(value: unknown, r: OptionRange): boolean {
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (r.integer && !Number.isInteger(value)) return false;
  const aboveMin = r.openMin ? value > r.min : value >= r.min;
  const belowMax = r.openMax ? value < r.max : value <= r.max;
  return aboveMin && belowMax;
}

function describeRange(r: OptionRange): string {
  return `${r.integer ? 'an integer ' : ''}in ${r.openMin || r.min === -Infinity ? '(' : '['}${r.min}, ${r.max}${r.openMax || r.max === Infinity ? ')' : ']'}`;
}

function checkOptions(options: TrackFilterOptions): TrackFilterOptions {
  const unknown = Object.keys(options).filter((name) => !(name in DEFAULT_TRACK_FILTER_OPTIONS) && !PLACE_OPTIONS.includes(name));
  if (unknown.length > 0) {
    throw new GeolocError('GEOLOC_ERR_TRACK_OPTIONS', `unknown track filter option ${unknown.join(', ')}; the options are ${[...Object.keys(DEFAULT_TRACK_FILTER_OPTIONS), ...PLACE_OPTIONS].join(', ')}`);
  }
  for (const [name, range] of Object.entries(OPTION_RANGES)) {
    const value = options[name as keyof TrackFilterOptions];
    if (!inRange(value, range)) {
      const fallback = DEFAULT_TRACK_FILTER_OPTIONS[name as keyof TrackFilterOptions];
      throw new GeolocError('GEOLOC_ERR_TRACK_OPTIONS', `track filter option ${name} = ${String(value)} is out of range: it must be ${describeRange(range)} (default ${String(fallback)})`);
    }
  }
  const { origin, prior } = options;
  if (origin !== undefined && !isWgs84(origin)) {
    throw new GeolocError('GEOLOC_ERR_TRACK_OPTIONS', `track filter option origin = ${JSON.stringify(origin)} is not a WGS84 {lat, lon} in degrees`);
  }
  if (prior !== undefined && !(isWgs84(prior) && inRange(prior.radiusM, POSITIVE) && Number.isFinite(prior.radiusM))) {
    throw new GeolocError('GEOLOC_ERR_TRACK_OPTIONS', `track filter option prior = ${JSON.stringify(prior)} is not a circle {lat, lon, radiusM}: WGS84 degrees and a positive radius in metres`);
  }
  return options;
}

/** The options that are places, not numbers: no default, checked on their own. */
const PLACE_OPTIONS: readonly string[] = ['origin', 'prior'];

function isWgs84(p: unknown): boolean {
  if (typeof p !== 'object' || p === null) return false;
  const { lat, lon } = p as Partial<LatLon>;
  return typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon) && abs(lat) <= 90 && abs(lon) <= 180;
}
