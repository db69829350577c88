import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { DATASET_FOV_DEG, FIXTURE_INDEX_SETTINGS, demoPaths } from '../../fixtures/defaults';
import type { PipelineConfig } from '../config';
import { GeolocError } from '../core/errors';
import { JsonlWriter } from '../sinks/jsonl';
import { stderrLogger } from '../core/log';
import { repoRoot } from '../core/paths';
import { replay, writeReport } from '../replay';
import { formatReport, type ReplayReport } from '../replayReport';
import type { Command } from './command';
import { type Localizer, openLocalizer } from '../session';
import { configFromArgs, PIPELINE_ARG_OPTIONS, PIPELINE_ARGS_USAGE } from '../pipelineArgs';
import { reportFailure, signalExitCode } from './lifecycle';

/**
 * Pipeline settings of the demo. The model sees the centre square of each frame, so its field of
 * view is the camera's vertical one. Five candidates per frame: on the fixture flight k = 5 gave
 * smoothed p50 18.5–19.4 m over tracker seeds 1–3, k = 10 gave 19.8–20.1 m (coverage 91–92% both).
 */
const DEMO_CONFIG: Partial<PipelineConfig> = { k: 5, tracker: { cameraFovDeg: DATASET_FOV_DEG } };

/** Accuracy targets of a registered track, checked on every demo run. */
const TARGET_P50_M = 3;
const TARGET_P95_M = 10;
/** the 95% radius must hold the truth this often, and not more: a radius too wide is dishonest too */
const TARGET_COVERAGE: readonly [number, number] = [0.9, 0.99];
/** index field-of-view settings this close count as the same */
const HFOV_TOLERANCE_DEG = 0.05;
/** aspects within this are the same frame shape */
const ASPECT_TOLERANCE = 0.001;

function verdicts(report: ReplayReport): string[] {
  const e = report.errorMeters;
  const [least, most] = TARGET_COVERAGE;
  const line = (ok: boolean, text: string) => `  ${ok ? 'PASS' : 'MISS'}  ${text}`;
  return [
    'targets:',
    line(e.p50 <= TARGET_P50_M, `smoothed p50 ${e.p50.toFixed(1)} m ≤ ${TARGET_P50_M} m`),
    line(e.p95 <= TARGET_P95_M, `smoothed p95 ${e.p95.toFixed(1)} m ≤ ${TARGET_P95_M} m`),
    line(report.coverage95 >= least && report.coverage95 <= most, `95% radius holds the truth for ${(report.coverage95 * 100).toFixed(1)}% of fixes, within ${least * 100}–${most * 100}%`),
  ];
}

const USAGE = `usage: geoloc demo [options]

Replays the fixture flight (fixtures/cache/flight/flight.mp4 + flight.srt) through the whole
pipeline with the embedded model (fixtures/model/model.onnx) and its index (fixtures/cache/index),
prints the report and writes fixtures/cache/demo-report.json and demo-fixes.jsonl.
Options override the pipeline settings:
  --cache <dir>        the fixtures cache holding flight/ and index/ (default fixtures/cache)
${PIPELINE_ARGS_USAGE}`;

export const demoCommand: Command = {
  name: ['demo'],
  summary: 'replay the fixture flight with the embedded model and print the report',
  usage: USAGE,
  async run(argv) {
    const logger = stderrLogger('warn');
    let localizer: Localizer | undefined;
    let writer: JsonlWriter | undefined;
    try {
      const { values } = parseArgs({ args: argv, options: { ...PIPELINE_ARG_OPTIONS, cache: { type: 'string' } }, allowNegative: true, strict: true });
      const paths = demoPaths(values.cache);
      const needed = [paths.video, paths.telemetry, values.model ?? paths.model, values.index ? join(values.index, 'manifest.json') : paths.indexManifest];
      const missing = needed.filter((p) => !existsSync(p));
      if (missing.length > 0) {
        throw new GeolocError('GEOLOC_ERR_SETUP_MISSING', `the demo needs ${missing.map((p) => relative(repoRoot(), p)).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not built yet; run make setup`);
      }
      const config = configFromArgs({ flight: 'fixture-flight', ...values }, DEMO_CONFIG);
      localizer = await openLocalizer(values.model ?? paths.model, values.index ?? paths.index, config, true, logger);
      mkdirSync(dirname(paths.report), { recursive: true });
      writer = JsonlWriter.open(paths.fixes);
      const built = localizer.index.manifest.settings;
      const fixtureCamera = built.camera !== undefined && built.camera.hfovDeg.every((h) => Math.abs(h - FIXTURE_INDEX_SETTINGS.hfovDeg) <= HFOV_TOLERANCE_DEG) && Math.abs(built.camera.aspect - FIXTURE_INDEX_SETTINGS.aspect) < ASPECT_TOLERANCE;
      if (built.overlap !== FIXTURE_INDEX_SETTINGS.overlap || !fixtureCamera || built.altitudesM.join() !== FIXTURE_INDEX_SETTINGS.altitudesM.join()) {
        const camera = built.camera ? `hfov ${built.camera.hfovDeg.join('–')}°, aspect ${built.camera.aspect.toFixed(3)}` : 'no camera recorded';
        process.stdout.write(`geoloc demo: note: the index was built with altitudes ${built.altitudesM.join(',')} m, ${camera}, overlap ${built.overlap}; the targets were measured with ${FIXTURE_INDEX_SETTINGS.altitudesM.join(',')} m, hfov ${FIXTURE_INDEX_SETTINGS.hfovDeg}°, aspect ${FIXTURE_INDEX_SETTINGS.aspect.toFixed(3)}, overlap ${FIXTURE_INDEX_SETTINGS.overlap}\n`);
      }
      process.stdout.write(`geoloc demo: replaying ${relative(repoRoot(), paths.video)} …\n`);
      const { report, interrupted } = await replay({ video: paths.video, telemetryPath: paths.telemetry, config, localizer, logger, sinks: [writer] });
      writeReport(paths.report, report);
      process.stdout.write(`${formatReport(report)}\n${verdicts(report).join('\n')}\n  report  ${relative(repoRoot(), paths.report)}\n  fixes   ${relative(repoRoot(), paths.fixes)}\n`);
      return interrupted ? signalExitCode(interrupted) : 0;
    } catch (err) {
      return reportFailure('demo', err);
    } finally {
      writer?.close();
      await localizer?.close();
    }
  },
};
