import { parseArgs } from 'node:util';
import { extractServeFlag, GATEWAY_ARG_OPTIONS, GATEWAY_ARGS_USAGE } from '../../gateway/args';
import type { Gateway } from '../../gateway/server';
import { GeolocError } from '../core/errors';
import { JsonlWriter } from '../sinks/jsonl';
import { stderrLogger } from '../core/log';
import { readTelemetry } from '../telemetry';
import { readsLive } from '../localize';
import type { Command } from './command';
import { openLocalizer, runPipeline, STOP_DRAIN_TIMEOUT_MS, telemetryAltitudes, telemetryPriors } from '../session';
import { configFromArgs, PIPELINE_ARG_OPTIONS, PIPELINE_ARGS_USAGE } from '../pipelineArgs';
import { OUTPUT_ARG_OPTIONS, OUTPUT_ARGS_USAGE, openOutputs, outputsReport } from '../outputArgs';
import { NO_OUTPUTS, type Outputs } from '../outputsThread';
import { commandSinks, exitAfterServing, openServeGateway, reportFailure } from './lifecycle';

const USAGE = `usage: geoloc run --source <url|file|-> --index <dir> [--model <onnx>] [--out fixes.jsonl] [options]

Localizes a video as it arrives and writes one GeoJSON fix per line (stdout without --out).
Sources: a file, "-" (stdin), rtsp://, udp://, tcp://, srt:// (live streams reconnect).
SIGINT/SIGTERM stop reading; the frames already read still become fixes (for up to
${STOP_DRAIN_TIMEOUT_MS} ms; a second signal stops at once), then it exits 130/143.

  --source <s>         the video
  --out <file>         JSONL fixes file (default: stdout)
  --telemetry <file>   SRT/CSV track: altitude and heading become the tracker's priors
  --live / --no-live   newest-frame-wins (default for network sources) or lossless
  --serve [port]       also publish fixes on a WebSocket gateway (default port 8080)
${PIPELINE_ARGS_USAGE}${OUTPUT_ARGS_USAGE}${GATEWAY_ARGS_USAGE}`;

export const runCommand: Command = {
  name: ['run'],
  summary: 'localize a live stream or a file into GeoJSON fixes (JSONL)',
  usage: USAGE,
  async run(argv) {
    const logger = stderrLogger();
    let gateway: Gateway | undefined;
    let writer: JsonlWriter | undefined;
    let localizer: Awaited<ReturnType<typeof openLocalizer>> | undefined;
    let outputs: Outputs = NO_OUTPUTS;
    try {
      const serve = extractServeFlag(argv);
      const { values } = parseArgs({
        args: serve.argv,
        options: { ...PIPELINE_ARG_OPTIONS, ...GATEWAY_ARG_OPTIONS, ...OUTPUT_ARG_OPTIONS, source: { type: 'string' }, out: { type: 'string' }, telemetry: { type: 'string' }, live: { type: 'boolean' } },
        allowNegative: true,
        strict: true,
      });
      if (!values.source) throw new GeolocError('GEOLOC_ERR_USAGE', '--source <url|file|-> is required');
      const config = configFromArgs(values);
      const track = values.telemetry ? readTelemetry(values.telemetry) : undefined;
      const [firstSkipped] = track?.warnings ?? [];
      if (track && firstSkipped) {
        logger.log({ level: 'warn', code: 'GEOLOC_ERR_TELEMETRY_PARSE', message: `${track.source}: ${track.warnings.length} unusable record(s); the first: ${firstSkipped.message}` });
      }
      outputs = openOutputs(values, logger);
      localizer = await openLocalizer(values.model, values.index, config, !readsLive(values.source, { live: values.live }), logger);
      gateway = await openServeGateway(serve.port, values, logger);
      writer = JsonlWriter.open(values.out);
      const run = await runPipeline({
        source: values.source,
        config,
        localizer,
        logger,
        sinks: commandSinks(writer, gateway, config.flight, outputs),
        live: values.live,
        priorsAt: track ? telemetryPriors(track.records) : undefined,
        ...(track ? { telemetryAltitudesM: telemetryAltitudes(track.records) } : {}),
      });
      await outputs.close();
      logger.log({
        level: 'info',
        message: `${run.stats.framesIn} frames in, ${run.stats.fixesOut} fixes out, ${run.stats.droppedFrames} dropped, in ${run.wallSeconds.toFixed(1)} s`,
        ...(outputs.stats().length > 0 ? { outputs: outputsReport(outputs) } : {}),
      });
      return await exitAfterServing(gateway, run.interrupted, logger, 'the source ended');
    } catch (err) {
      return reportFailure('run', err);
    } finally {
      writer?.close();
      await Promise.all([outputs.close(), localizer?.close(), gateway?.close()]);
    }
  },
};
