/**
 * Scores a replay against its telemetry: each fix is matched to the telemetry position at the
 * fix's frame time (interpolated), and the smoothed estimate, the raw global top-k candidates
 * and the 95% radius are judged against it.
 */
import type { SchedulingPolicy } from './batchScheduling';
import { haversineMeters, type LatLon, LocalFrame } from './geo/wgs84';
import { type Logger, silentLogger } from './core/log';
import { type Summary, summarize } from './core/stats';
import { telemetryAt, type TelemetryRecord } from './telemetry';
import type { EstimateMethod, TrackEstimate } from './tracking/types';
import type { RegistrationTiming } from '../operators/registerFrame';
import type { Candidate, SearchRegion } from './core/types';
import type { OutputsReport } from './outputArgs';

export interface ReplayReport {
  video: string;
  telemetry: { path: string; records: number; endsAtS: number; parseWarnings: number };
  framesIn: number;
  fixesOut: number;
  /** fixes per second of wall time, decoding to the last fix */
  fps: number;
  wallSeconds: number;
  /** 'batch': a lossless replay ran as a batch job (SCHED_BATCH, see scheduleAsBatchJob) */
  scheduling: SchedulingPolicy;
  /** the circle the tracker was seeded in (--near/--radius, or the config's tracker.prior); null: it started from global searches */
  seed: SearchRegion | null;
  /** smoothed estimate vs telemetry, metres */
  errorMeters: Summary;
  /** the best tile of a global search (no tracker, no search region) vs telemetry, metres */
  rawTop1ErrorMeters: Summary;
  /**
   * raw recall: the share of fixes with truth whose global search (no tracker, no region) put
   * a tile holding the true position (see holdsTruth) among its first 1, 5 and k candidates;
   * the retrieval model's share of a failure. NaN without such fixes
   */
  rawRecall: RawRecall;
  /** fraction of fixes whose reported 95% radius holds the true position */
  coverage95: number;
  radiusM: Summary;
  fixesWithTruth: number;
  /** fixes after the telemetry ended (or before it began): no ground truth */
  fixesWithoutTruth: number;
  lostFixes: number;
  /** fixes by how the tracker made them (TrackEstimate.method) */
  methods: Record<EstimateMethod, number>;
  /** with --register: frames registered and failed, and ms per frame (wall, every attempt; the parts over the frames that registered) */
  registration?: RegistrationReport;
  droppedFrames: number;
  latencyMs: Summary;
  model: { path: string; sha256: string; backbone: string; version: string; dim: number; inputSize: [number, number]; provider: string };
  index: { dir: string; tiles: number; dim: number; modelSha256: string; scales: number[] };
  config: Record<string, unknown>;
  warnings: string[];
  /** what each fix output (--nmea, …) sent, dropped and failed, when there were any */
  outputs?: OutputsReport;
}

export interface RegistrationReport {
  registered: number;
  failed: number;
  totalMs: Summary;
  featuresMs: Summary;
  matchingMs: Summary;
  estimationMs: Summary;
}

export interface RawRecall {
  at1: number;
  /** within the first min(5, k) */
  at5: number;
  atK: number;
  /** candidates per global search (the most any fix had) */
  k: number;
}

/** The middle rank raw recall reports, besides the first and the k-th. */
const RECALL_MID_RANK = 5;

/**
 * Whether `truth` lies in the tile `candidate`'s ground footprint: the north-up square of side
 * footprintM about its centre, as the index cut it. A tile that holds the drone's position is
 * "the true cell" (at each scale, up to four tiles of half-tile stride hold it); a tilted
 * camera looks ahead of that, so the measure is strict for it.
 */
export function holdsTruth(candidate: Candidate, truth: LatLon): boolean {
  const offset = new LocalFrame(candidate).toEnu(truth);
  const half = candidate.footprintM / 2;
  return Math.abs(offset.e) <= half && Math.abs(offset.n) <= half;
}

/** 0-based rank of the first candidate that holds the truth, or undefined when none does. */
export function truthRank(candidates: readonly Candidate[], truth: LatLon): number | undefined {
  const rank = candidates.findIndex((c) => holdsTruth(c, truth));
  return rank < 0 ? undefined : rank;
}

export class ReplayScorer {
  private readonly smoothed: number[] = [];
  private readonly raw: number[] = [];
  private readonly latencies: number[] = [];
  private readonly radii: number[] = [];
  /** per fix with truth and a global search: the rank holding the truth (undefined: none) */
  private readonly truthRanks: (number | undefined)[] = [];
  private recallK = 0;
  private covered = 0;
  private withoutTruth = 0;
  private lost = 0;
  private readonly methods: Record<EstimateMethod, number> = { registered: 0, retrieval: 0, lost: 0 };
  private readonly registrationMs = { totalMs: [] as number[], featuresMs: [] as number[], matchingMs: [] as number[], estimationMs: [] as number[] };
  private registered = 0;
  private registrationsFailed = 0;
  private endWarned = false;
  private readonly endsAtS: number;

  constructor(
    private readonly records: readonly TelemetryRecord[],
    private readonly telemetryPath: string,
    private readonly logger: Logger = silentLogger,
  ) {
    this.endsAtS = records.length ? records[records.length - 1]!.t : 0;
  }

  /** `globalTopK`: the frame's top-k tiles from a global search, best first (default: the tracker's candidates) */
  add(estimate: TrackEstimate, latencyMs: number, globalTopK: readonly Candidate[] = estimate.candidates): void {
    if (Number.isFinite(latencyMs)) this.latencies.push(latencyMs);
    this.radii.push(estimate.radiusM);
    if (estimate.lost) this.lost += 1;
    this.methods[estimate.method] += 1;
    const truth = telemetryAt(this.records, estimate.t);
    if (!truth) {
      this.withoutTruth += 1;
      if (estimate.t > this.endsAtS && !this.endWarned) {
        this.endWarned = true;
        this.logger.log({
          level: 'warn',
          code: 'GEOLOC_ERR_TELEMETRY_ENDED',
          message: `telemetry ${this.telemetryPath} ends at ${this.endsAtS.toFixed(2)} s but the video goes on (a frame at ${estimate.t.toFixed(2)} s); later fixes are counted without ground truth`,
        });
      }
      return;
    }
    const error = haversineMeters(estimate, truth);
    this.smoothed.push(error);
    if (error <= estimate.radiusM) this.covered += 1;
    const [top1] = globalTopK;
    if (top1) this.raw.push(haversineMeters(top1, truth));
    this.truthRanks.push(truthRank(globalTopK, truth));
    this.recallK = Math.max(this.recallK, globalTopK.length);
  }

  /** What registering one frame cost (with --register). */
  addRegistration(timing: RegistrationTiming): void {
    const { totalMs, featuresMs, matchingMs, estimationMs } = timing;
    this.registrationMs.totalMs.push(totalMs);
    if (featuresMs === undefined || matchingMs === undefined || estimationMs === undefined) {
      this.registrationsFailed += 1;
      return;
    }
    this.registered += 1;
    this.registrationMs.featuresMs.push(featuresMs);
    this.registrationMs.matchingMs.push(matchingMs);
    this.registrationMs.estimationMs.push(estimationMs);
  }

  private rawRecall(): RawRecall {
    const n = this.truthRanks.length;
    const within = (ranks: number) => (n ? this.truthRanks.filter((r) => r !== undefined && r < ranks).length / n : Number.NaN);
    return { at1: within(1), at5: within(RECALL_MID_RANK), atK: within(this.recallK), k: this.recallK };
  }

  /** The scored part of the report; the caller adds identity, counts and timing. */
  scores(): Pick<ReplayReport, 'errorMeters' | 'rawTop1ErrorMeters' | 'rawRecall' | 'coverage95' | 'radiusM' | 'fixesWithTruth' | 'fixesWithoutTruth' | 'lostFixes' | 'methods' | 'registration' | 'latencyMs'> {
    const ms = this.registrationMs;
    return {
      methods: { ...this.methods },
      ...(ms.totalMs.length > 0 && {
        registration: {
          registered: this.registered,
          failed: this.registrationsFailed,
          totalMs: summarize(ms.totalMs),
          featuresMs: summarize(ms.featuresMs),
          matchingMs: summarize(ms.matchingMs),
          estimationMs: summarize(ms.estimationMs),
        },
      }),
      errorMeters: summarize(this.smoothed),
      rawTop1ErrorMeters: summarize(this.raw),
      rawRecall: this.rawRecall(),
      coverage95: this.smoothed.length ? this.covered / this.smoothed.length : Number.NaN,
      radiusM: summarize(this.radii),
      fixesWithTruth: this.smoothed.length,
      fixesWithoutTruth: this.withoutTruth,
      lostFixes: this.lost,
      latencyMs: summarize(this.latencies),
    };
  }
}

/** hex digits of a model hash shown to people */
const HASH_SHOWN = 12;
const PERCENT = 100;

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/** "top-1 a%, top-5 b%, top-k c%", without the ranks that k makes repeats */
function recallLine(recall: RawRecall): string {
  const ranks: [number, number][] = [[1, recall.at1]];
  if (recall.k > RECALL_MID_RANK) ranks.push([RECALL_MID_RANK, recall.at5]);
  if (recall.k > 1) ranks.push([recall.k, recall.atK]);
  return ranks.map(([rank, share]) => `top-${rank} ${fmt(share * PERCENT)}%`).join(', ');
}

function registrationLine(r: RegistrationReport): string {
  return `  register ${r.registered} frames registered, ${r.failed} not; ms per frame p50 ${fmt(r.totalMs.p50)}, p95 ${fmt(r.totalMs.p95)} (registered, p50: features ${fmt(r.featuresMs.p50)}, matching ${fmt(r.matchingMs.p50)}, estimation ${fmt(r.estimationMs.p50)})`;
}

/** A few lines a person reads after a replay. */
export function formatReport(report: ReplayReport): string {
  const e = report.errorMeters;
  const r = report.rawTop1ErrorMeters;
  return [
    `replay of ${report.video}`,
    `  model   ${report.model.backbone} ${report.model.version} (${report.model.dim}-d, sha256 ${report.model.sha256.slice(0, HASH_SHOWN)}…) on ${report.model.provider}`,
    `  index   ${report.index.dir}: ${report.index.tiles} tiles`,
    `  frames  ${report.framesIn} in, ${report.fixesOut} fixes out, ${report.droppedFrames} dropped, ${fmt(report.fps)} fixes/s over ${fmt(report.wallSeconds)} s (${report.scheduling} scheduling)`,
    `  error   smoothed p50 ${fmt(e.p50)} m, p95 ${fmt(e.p95)} m, max ${fmt(e.max)} m`,
    `  raw     top-1    p50 ${fmt(r.p50)} m, p95 ${fmt(r.p95)} m, max ${fmt(r.max)} m`,
    `  recall  a tile holding the truth in the global ${recallLine(report.rawRecall)}`,
    `  seed    ${report.seed ? `tracker started within ${fmt(report.seed.radiusM, 0)} m of ${report.seed.lat}, ${report.seed.lon}` : 'none: the tracker started from global searches'}`,
    `  radius  95% radius holds the truth for ${fmt(report.coverage95 * PERCENT)}% of ${report.fixesWithTruth} fixes (median radius ${fmt(report.radiusM.p50)} m)`,
    `  method  ${Object.entries(report.methods).map(([method, n]) => `${method} ${n}`).join(', ')}`,
    ...(report.registration ? [registrationLine(report.registration)] : []),
    `  latency p50 ${fmt(report.latencyMs.p50)} ms, p95 ${fmt(report.latencyMs.p95)} ms`,
    ...(report.fixesWithoutTruth ? [`  ${report.fixesWithoutTruth} fixes had no ground truth (telemetry ${report.telemetry.path} ends at ${fmt(report.telemetry.endsAtS, 2)} s)`] : []),
    ...Object.entries(report.outputs ?? {}).map(([name, o]) => `  output  ${name} → ${o.target}: ${o.sent} sent, ${o.dropped} dropped, ${o.errors} errors${o.cutOffs ? `, ${o.cutOffs} cut off` : ''}`),
    ...report.warnings.map((w) => `  warning ${w}`),
  ].join('\n');
}
