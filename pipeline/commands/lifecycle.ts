/**
 * How a localizing command lives and ends: the gateway it serves with --serve, serving on after
 * the source ends until Ctrl-C, the exit status after a signal, and one coded line for a failure.
 */
import { constants as osConstants } from 'node:os';
import { type GatewayArgValues, gatewayOptionsFromArgs, untilSignal } from '../../gateway/args';
import { gatewaySink } from '../../gateway/pipelineSink';
import { createGateway, type Gateway } from '../../gateway/server';
import { describeError, isGeolocError } from '../core/errors';
import type { Logger } from '../core/log';
import type { PipelineSink } from '../core/types';
import type { JsonlWriter } from '../sinks/jsonl';
import { NO_OUTPUTS, type Outputs } from '../outputsThread';

/** With --serve (port given): a gateway that publishes every fix and serves the map of the index's imagery. */
export async function openServeGateway(port: number | undefined, values: GatewayArgValues & { index?: string }, logger: Logger): Promise<Gateway | undefined> {
  if (port === undefined) return undefined;
  const gateway = await createGateway({ ...gatewayOptionsFromArgs(values), port, imagery: { index: values.index } });
  logger.log({ level: 'info', message: `map at ${gateway.url}/ (fixes on ${gateway.wsUrl})` });
  return gateway;
}

/**
 * The sinks a localizing command writes to: its JSONL file, its outputs (NMEA, …) and, with
 * --serve, its gateway, whose /metrics then shows the outputs' counts too.
 */
export function commandSinks(writer: JsonlWriter | undefined, gateway: Gateway | undefined, flight: string, outputs: Outputs = NO_OUTPUTS): PipelineSink[] {
  if (gateway && outputs !== NO_OUTPUTS) gateway.metrics.watchOutputs(() => outputs.stats());
  return [...(writer ? [writer] : []), outputs, ...(gateway ? [gatewaySink(gateway, flight)] : [])];
}

/**
 * The exit status of a localizing command once its source has ended, or a signal stopped it; a
 * gateway keeps serving the map until Ctrl-C after the source ended on its own.
 */
export async function exitAfterServing(gateway: Gateway | undefined, interrupted: NodeJS.Signals | undefined, logger: Logger, ended: string): Promise<number> {
  if (interrupted) return signalExitCode(interrupted);
  if (gateway) {
    logger.log({ level: 'info', message: `${ended}; still serving ${gateway.url}/ until Ctrl-C` });
    await untilSignal();
  }
  return 0;
}

const SIGNAL_EXIT_BASE = 128;

/** The shell's exit status for a run a signal stopped: 128 + the signal's number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return SIGNAL_EXIT_BASE + (osConstants.signals[signal] ?? 0);
}

/** Writes the error as one coded line; usage errors exit 2, everything else 1. */
export function reportFailure(command: string, err: unknown): number {
  process.stderr.write(`geoloc ${command}: ${describeError(err)}\n`);
  return isGeolocError(err, 'GEOLOC_ERR_USAGE') ? 2 : 1;
}
