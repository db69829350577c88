/**
 * `geoloc flights add|list|status|stop|remove`: control the flights the workers run through NATS.
 * `add` takes the flags `geoloc run` takes and queues the flight as a job; the rest read or
 * change the flight book (pipeline/nats/flightBook.ts).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { GeolocError } from '../core/errors';
import { stderrLogger } from '../core/log';
import { integerOption, parseOptions, usageError } from '../core/options';
import { connectNats } from '../nats/connect';
import { FlightBook, type FlightStatus } from '../nats/flightBook';
import type { FlightJob } from '../nats/job';
import { checkFlightName } from '../nats/names';
import { queueFlight } from '../nats/queueFlight';
import { ensureStreams } from '../nats/streams';
import { OUTPUT_ARG_OPTIONS, OUTPUT_ARGS_USAGE } from '../outputArgs';
import { configFromArgs, PIPELINE_ARG_OPTIONS, PIPELINE_ARGS_USAGE } from '../pipelineArgs';
import type { Command } from './command';
import { reportFailure } from './lifecycle';

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const NATS_OPTIONS = { nats: { type: 'string' }, 'connect-timeout': { type: 'string' } } as const;
const NATS_USAGE = `  --nats <url>             the NATS server (nats://host:4222)
  --connect-timeout <ms>   give up when NATS does not answer within this (default ${DEFAULT_CONNECT_TIMEOUT_MS})
`;

/** Connects (retrying until --connect-timeout), runs `action` on the flight book, closes. */
async function withFlightBook(values: { nats?: string; 'connect-timeout'?: string }, usage: string, action: (book: FlightBook, nc: NatsConnection) => Promise<void>): Promise<void> {
  if (!values.nats) throw usageError('--nats <url> is required: the NATS server the workers take flights from', usage);
  const giveUpAfterMs = integerOption('connect-timeout', values['connect-timeout'], DEFAULT_CONNECT_TIMEOUT_MS, usage);
  const nc = await connectNats(values.nats, { logger: stderrLogger(), giveUpAfterMs });
  try {
    await action(new FlightBook(await ensureStreams(nc)), nc);
  } finally {
    await nc.close();
  }
}

function command(words: string, summary: string, usage: string, run: (argv: string[]) => Promise<void>): Command {
  return {
    name: ['flights', words],
    summary,
    usage,
    async run(argv) {
      try {
        await run(argv);
        return 0;
      } catch (err) {
        return reportFailure(`flights ${words}`, err);
      }
    },
  };
}

/** One flight's name, the command's only positional. */
function flightArg(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw usageError('name one flight', usage);
  return checkFlightName(positionals[0]);
}

const ADD_USAGE = `usage: geoloc flights add <flight> --source <url|file> --index <dir> --nats <url> [options]

Queues a flight for the workers (geoloc worker). The name must be new (1–64 letters, digits,
_ or -); the job holds the source, index, model, the pipeline settings and the outputs, as
\`geoloc run\` takes them; the index and model paths must exist on the workers. A worker that
cannot run it says why in the flight's status.

  --source <s>             the video: rtsp://, udp://, tcp://, srt:// or a file the workers read
${NATS_USAGE}${PIPELINE_ARGS_USAGE}${OUTPUT_ARGS_USAGE}`;

const OUTPUT_FLAGS = Object.keys(OUTPUT_ARG_OPTIONS);

export const flightsAddCommand = command('add', 'queue a flight for the NATS workers', ADD_USAGE, async (argv) => {
  const { values, positionals } = parseOptions(
    { args: argv, options: { ...PIPELINE_ARG_OPTIONS, ...OUTPUT_ARG_OPTIONS, ...NATS_OPTIONS, source: { type: 'string' } }, allowPositionals: true, allowNegative: true, strict: true },
    ADD_USAGE,
  );
  const flight = flightArg(positionals, ADD_USAGE);
  if (!values.source || values.source === '-') throw usageError('--source <url|file> is required (a worker cannot read stdin)', ADD_USAGE);
  if (!values.index) throw usageError('--index <dir> is required: the satellite index, at this path on the workers', ADD_USAGE);
  if (values.flight !== undefined && values.flight !== flight) throw usageError(`--flight ${values.flight} differs from the flight named, ${flight}`, ADD_USAGE);
  const { flight: _name, ...settings } = configFromArgs(values, { flight });
  const outputs = Object.fromEntries(OUTPUT_FLAGS.filter((flag) => values[flag as keyof typeof values] !== undefined).map((flag) => [flag, values[flag as keyof typeof values] as string | string[]]));
  const job: FlightJob = { flight, source: values.source, index: values.index, ...(values.model && { model: values.model }), settings, outputs, queuedAt: Date.now() };
  await withFlightBook(values, ADD_USAGE, async (book, nc) => {
    const status = await queueFlight(nc, book, job);
    process.stdout.write(`${JSON.stringify(status)}\n`);
  });
});

const LIST_USAGE = `usage: geoloc flights list --nats <url>

One line per flight: its state (queued, running, stopped, done, failed), the worker holding
it and how often it was taken (claim), fixes published, fixes/s, lag decoded → published
(p50/p95 ms), frames and fixes dropped, and how long ago its status was written.

${NATS_USAGE}`;

function listLine(s: FlightStatus, now: number): string {
  const lag = s.lagMs ? `${s.lagMs.p50}/${s.lagMs.p95}` : '-';
  const cells = [s.flight, s.state, s.worker ?? '-', s.claim ?? '-', s.fixes ?? 0, s.ratePerS ?? 0, lag, `${s.framesDropped ?? 0}/${s.fixesDropped ?? 0}`, `${((now - s.updatedAt) / 1000).toFixed(1)}s`, s.error?.code ?? ''];
  return cells.join('\t');
}

export const flightsListCommand = command('list', 'list the flights on NATS: state, worker, rate, lag, drops', LIST_USAGE, async (argv) => {
  const { values } = parseOptions({ args: argv, options: NATS_OPTIONS, strict: true }, LIST_USAGE);
  await withFlightBook(values, LIST_USAGE, async (book) => {
    const header = ['flight', 'state', 'worker', 'claim', 'fixes', 'fixes/s', 'lag p50/p95 ms', 'dropped frames/fixes', 'updated', 'error'].join('\t');
    const now = Date.now();
    process.stdout.write([header, ...(await book.list()).map((s) => listLine(s, now))].join('\n') + '\n');
  });
});

const STATUS_USAGE = `usage: geoloc flights status <flight> --nats <url>

The flight's status as JSON: state, job, worker, claim, fixes, ratePerS, lagMs, drops, and the
coded error that ended a failed flight.

${NATS_USAGE}`;

export const flightsStatusCommand = command('status', "one flight's status as JSON", STATUS_USAGE, async (argv) => {
  const { values, positionals } = parseOptions({ args: argv, options: NATS_OPTIONS, allowPositionals: true, strict: true }, STATUS_USAGE);
  const flight = flightArg(positionals, STATUS_USAGE);
  await withFlightBook(values, STATUS_USAGE, async (book) => {
    process.stdout.write(`${JSON.stringify(await book.require(flight))}\n`);
  });
});

const STOP_USAGE = `usage: geoloc flights stop <flight> --nats <url>

Asks the worker holding the flight to stop it: no more video is read, the frames read still
become fixes, and the flight ends as stopped (a queued flight stops when a worker takes it).

${NATS_USAGE}`;

export const flightsStopCommand = command('stop', 'stop a flight', STOP_USAGE, async (argv) => {
  const { values, positionals } = parseOptions({ args: argv, options: NATS_OPTIONS, allowPositionals: true, strict: true }, STOP_USAGE);
  const flight = flightArg(positionals, STOP_USAGE);
  await withFlightBook(values, STOP_USAGE, async (book) => {
    const status = await book.require(flight);
    if (status.state === 'running' || status.state === 'queued') await book.requestStop(flight);
    else throw new GeolocError('GEOLOC_ERR_USAGE', `flight ${flight} is ${status.state} already; nothing to stop`);
  });
});

const REMOVE_USAGE = `usage: geoloc flights remove <flight> --nats <url>

Forgets a flight that is over (stopped, done or failed), so its name may be used again. Its
fixes stay in the stream until they age out.

${NATS_USAGE}`;

export const flightsRemoveCommand = command('remove', 'forget a flight that is over', REMOVE_USAGE, async (argv) => {
  const { values, positionals } = parseOptions({ args: argv, options: NATS_OPTIONS, allowPositionals: true, strict: true }, REMOVE_USAGE);
  const flight = flightArg(positionals, REMOVE_USAGE);
  await withFlightBook(values, REMOVE_USAGE, async (book) => {
    const status = await book.require(flight);
    if (status.state === 'running' || status.state === 'queued') throw new GeolocError('GEOLOC_ERR_USAGE', `flight ${flight} is ${status.state}; stop it first (geoloc flights stop ${flight})`);
    await book.remove(flight);
  });
});
