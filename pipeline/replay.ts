/**
 * Replays a recording through the whole pipeline and scores it against its telemetry:
 * what `geoloc replay`, `geoloc demo` and the replay benchmark run.
 */
import { writeFileSync } from 'node:fs';
import { GeolocError } from './core/errors';
import type { PipelineConfig } from './config';
import type { PipelineSink } from './core/types';
import type { LocalizedFix } from './localize';
import type { Logger, LogRecord } from './core/log';
import { type Localizer, runPipeline, telemetryAltitudes, telemetryPriors } from './session';
import { type ReplayReport, ReplayScorer } from './replayReport';
import { reportFixOf, type ReportFix } from './reportStretches';
import { haversineMeters, type LatLon } from './geo/wgs84';
import { readTelemetry, telemetryAt, type TelemetryRecord } from './telemetry';

export interface ReplayOptions {
  video: string;
  telemetryPath: string;
  config: PipelineConfig;
  localizer: Localizer;
  logger: Logger;
  /** where the fixes go (the JSONL file, the gateway, ...) */
  sinks?: readonly PipelineSink[];
  /** read the video at its own speed, newest frame wins (as if it were live) */
  realtime?: boolean;
  onFix?: (fix: LocalizedFix) => void;
}

export interface ReplayOutcome {
  report: ReplayReport;
  /** every fix, in order, as report.html draws them */
  fixes: ReportFix[];
  interrupted?: NodeJS.Signals;
}

/** Keeps the coded warnings of a run for the report, and passes every record on. */
function collectingWarnings(logger: Logger, warnings: string[]): Logger {
  return {
    log(record: LogRecord) {
      if (record.level !== 'info' && record.code) warnings.push(`${record.code}: ${record.message}`);
      logger.log(record);
    },
  };
}

/** The telemetry's position at a fix's time and the fix's distance from it: the map draws the truth track from these. */
function truthOf(records: readonly TelemetryRecord[], estimate: LatLon & { t: number }): { truth: LatLon; errorM: number } | undefined {
  const truth = telemetryAt(records, estimate.t);
  return truth && { truth: { lat: truth.lat, lon: truth.lon }, errorM: Number(haversineMeters(estimate, truth).toFixed(ERROR_DECIMALS)) };
}

/** Millimetres are plenty for an error in metres. */
const ERROR_DECIMALS = 3;

/** Warnings of one kind past this many are counted, not listed, in the report. */
const WARNINGS_LISTED = 20;

export async function replay(options: ReplayOptions): Promise<ReplayOutcome> {
  const track = readTelemetry(options.telemetryPath);
  if (track.records.length === 0) throw new GeolocError('GEOLOC_ERR_TELEMETRY_EMPTY', `telemetry ${options.telemetryPath} holds no usable record`);
  const warnings: string[] = track.warnings.map((w) => `GEOLOC_ERR_TELEMETRY_PARSE: ${options.telemetryPath}:${w.line}: ${w.message}`);
  const logger = collectingWarnings(options.logger, warnings);
  const scorer = new ReplayScorer(track.records, options.telemetryPath, logger);
  const fixes: ReportFix[] = [];
  const run = await runPipeline({
    source: options.video,
    config: options.config,
    localizer: options.localizer,
    logger,
    sinks: options.sinks,
    realtime: options.realtime,
    live: options.realtime ? true : false,
    priorsAt: telemetryPriors(track.records),
    telemetryAltitudesM: telemetryAltitudes(track.records),
    globalTopK: true,
    annotate: (fix) => truthOf(track.records, fix.estimate),
    onFix(fix) {
      scorer.add(fix.estimate, fix.latencyMs, fix.globalTopK);
      fixes.push(reportFixOf(fix));
      if (fix.registrationTiming) scorer.addRegistration(fix.registrationTiming);
      options.onFix?.(fix);
    },
  });
  const { embedder, index } = options.localizer;
  const scores = scorer.scores();
  const report: ReplayReport = {
    video: options.video,
    telemetry: { path: options.telemetryPath, records: track.records.length, endsAtS: track.records[track.records.length - 1]!.t, parseWarnings: track.warnings.length },
    framesIn: run.stats.framesIn,
    fixesOut: run.stats.fixesOut,
    fps: run.wallSeconds > 0 ? run.stats.fixesOut / run.wallSeconds : 0,
    wallSeconds: run.wallSeconds,
    scheduling: options.localizer.scheduling,
    seed: options.config.tracker.prior ?? null,
    ...scores,
    droppedFrames: run.stats.droppedFrames,
    model: {
      path: embedder.info.path,
      sha256: embedder.info.sha256,
      backbone: embedder.info.backbone,
      version: embedder.info.version,
      dim: embedder.info.dim,
      inputSize: embedder.info.inputSize,
      provider: embedder.provider,
    },
    index: {
      dir: index.dir,
      tiles: index.manifest.tiles,
      dim: index.manifest.dim,
      modelSha256: index.manifest.model.sha256,
      scales: index.manifest.scales.map((s) => s.altitudeM),
    },
    config: { ...options.config, realtime: options.realtime ?? false },
    warnings: warnings.length > WARNINGS_LISTED ? [...warnings.slice(0, WARNINGS_LISTED), `… and ${warnings.length - WARNINGS_LISTED} more`] : warnings,
  };
  return { report, fixes, interrupted: run.interrupted };
}

/** JSON with NaN (no data) written as null, pretty for people. */
export function writeReport(path: string, report: ReplayReport): void {
  try {
    writeFileSync(path, JSON.stringify(report, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2) + '\n');
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_OUTPUT_WRITE', `cannot write the report to ${path} (${(cause as Error).message})`, { cause });
  }
}
