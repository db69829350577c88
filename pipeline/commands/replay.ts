import { parseArgs } from 'node:util';
import { extractServeFlag, GATEWAY_ARG_OPTIONS, GATEWAY_ARGS_USAGE } from '../../gateway/args';
import type { Gateway } from '../../gateway/server';
import { GeolocError } from '../core/errors';
import { JsonlWriter } from '../sinks/jsonl';
import { stderrLogger } from '../core/log';
import { replay, writeReport } from '../replay';
import { formatReport } from '../replayReport';
import { reportPagePath, writeReportPage, type ReportPageInputs } from '../reportPageWriter';
import { registrationHfovDeg } from '../localize';
import { resolveTrackFilterOptions } from '../tracking/trackFilter';
import type { Command } from './command';
import { type Localizer, openLocalizer } from '../session';
import { configFromArgs, PIPELINE_ARG_OPTIONS, PIPELINE_ARGS_USAGE } from '../pipelineArgs';
import { OUTPUT_ARG_OPTIONS, OUTPUT_ARGS_USAGE, openOutputs, outputsReport } from '../outputArgs';
import { NO_OUTPUTS, type Outputs } from '../outputsThread';
import { commandSinks, exitAfterServing, openServeGateway, reportFailure } from './lifecycle';

const USAGE = `usage: geoloc replay <video> --telemetry <srt|csv> --index <dir> --report report.json [--model <onnx>] [--realtime] [options]

Localizes a recording and reports the error against its telemetry: smoothed and raw top-1
error percentiles, raw recall (how often a global search's top 1/5/k holds a tile over the
true position), how often the 95% radius holds the truth, throughput and latency.

  --telemetry <file>   DJI SRT or CSV track of the flight (ground truth and priors)
  --report <file>      where the JSON report goes
  --out <file>         also write the fixes as JSONL
  --realtime           read the video at its own speed, newest frame wins (as a live feed)
  --serve [port]       also publish fixes on a WebSocket gateway (default port 8080)
${PIPELINE_ARGS_USAGE}${OUTPUT_ARGS_USAGE}${GATEWAY_ARGS_USAGE}`;

/**
 * report.html and its pictures, or why not: an interrupted replay ends now (the pictures would
 * take seconds more), and a page that cannot be made (the index's imagery gone) is a warning, the
 * report being written already.
 */
async function reportPage(reportPath: string, interrupted: NodeJS.Signals | undefined, inputs: ReportPageInputs): Promise<string> {
  if (interrupted) return 'not written (interrupted)';
  const logger = stderrLogger();
  try {
    return (await writeReportPage(reportPath, inputs, (line) => logger.log({ level: 'info', message: line }))).join(', ');
  } catch (err) {
    if (!(err instanceof GeolocError)) throw err;
    logger.log({ level: 'warn', code: err.code, message: `${reportPagePath(reportPath)} not written: ${err.message}` });
    return `not written (${err.code})`;
  }
}

export const replayCommand: Command = {
  name: ['replay'],
  summary: 'localize a recording and report its error against the telemetry',
  usage: USAGE,
  async run(argv) {
    const logger = stderrLogger();
    let localizer: Localizer | undefined;
    let writer: JsonlWriter | undefined;
    let gateway: Gateway | undefined;
    let outputs: Outputs = NO_OUTPUTS;
    try {
      const serve = extractServeFlag(argv);
      const { values, positionals } = parseArgs({
        args: serve.argv,
        options: { ...PIPELINE_ARG_OPTIONS, ...GATEWAY_ARG_OPTIONS, ...OUTPUT_ARG_OPTIONS, telemetry: { type: 'string' }, report: { type: 'string' }, out: { type: 'string' }, realtime: { type: 'boolean' } },
        allowPositionals: true,
        allowNegative: true,
        strict: true,
      });
      const [video, ...extra] = positionals;
      if (!video || extra.length > 0) throw new GeolocError('GEOLOC_ERR_USAGE', 'give exactly one video: geoloc replay <video> --telemetry <srt|csv> --index <dir> --report <json>');
      if (!values.telemetry) throw new GeolocError('GEOLOC_ERR_USAGE', '--telemetry <srt|csv> is required: the flight track the fixes are scored against');
      if (!values.report) throw new GeolocError('GEOLOC_ERR_USAGE', '--report <file> is required: where the JSON report goes');
      const config = configFromArgs(values);
      outputs = openOutputs(values, logger);
      localizer = await openLocalizer(values.model, values.index, config, !values.realtime, logger);
      gateway = await openServeGateway(serve.port, values, logger);
      writer = values.out ? JsonlWriter.open(values.out) : undefined;
      const { report, fixes, interrupted } = await replay({
        video,
        telemetryPath: values.telemetry,
        config,
        localizer,
        logger,
        sinks: commandSinks(writer, gateway, config.flight, outputs),
        realtime: values.realtime,
      });
      await outputs.close();
      if (outputs.stats().length > 0) report.outputs = outputsReport(outputs);
      writeReport(values.report, report);
      const page = await reportPage(values.report, interrupted, {
        report,
        fixes,
        video,
        telemetryPath: values.telemetry,
        indexDir: localizer.index.dir,
        hfovDeg: registrationHfovDeg(resolveTrackFilterOptions(config.tracker).cameraFovDeg),
        fps: config.fps,
      });
      process.stderr.write(`${formatReport(report)}\n  report  ${values.report}\n  page    ${page}\n`);
      return await exitAfterServing(gateway, interrupted, logger, 'replay done');
    } catch (err) {
      return reportFailure('replay', err);
    } finally {
      writer?.close();
      await Promise.all([outputs.close(), localizer?.close(), gateway?.close()]);
    }
  },
};
