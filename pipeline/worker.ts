/**
 * A worker: takes flight jobs from the JetStream work queue and localizes up to `slots` of them
 * at once, each a pipeline of its own publishing its fixes to geoloc.fixes.<flight>. It holds
 * each job with heartbeats (JetStream's "working" acknowledgement); a worker that dies stops
 * sending them and its jobs go to another worker after the claim timeout, which reads the live
 * source again and starts the tracker from a global search. The flight's status in the flight
 * book says who holds it, its rate, lag and drops, and why it failed.
 */
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { Subject } from 'rxjs';
import { resolveConfig } from './config';
import { describeError, isGeolocError } from './core/errors';
import type { Logger } from './core/log';
import { readsLive } from './localize';
import { FlightBook, type FlightState, type FlightStatus } from './nats/flightBook';
import { type FlightJob, parseJob } from './nats/job';
import { DEAD_SUBJECT, ERROR_HEADER, JOBS_STREAM, WORKERS_CONSUMER } from './nats/names';
import { DEFAULT_STREAM_LIMITS, ensureStreams, type StreamLimits } from './nats/streams';
import { openOutputs } from './outputArgs';
import { NO_OUTPUTS, type Outputs } from './outputsThread';
import { FlightStatusReporter } from './flightStatusReporter';
import { runPipeline } from './session';
import { type LocalizerLease, SharedLocalizers } from './sharedLocalizers';
import { NatsFixSink } from './sinks/natsFixSink';

export interface WorkerOptions {
  nc: NatsConnection;
  /** flights localized at once, at most */
  slots: number;
  /** how this worker appears in flight statuses */
  name?: string;
  logger: Logger;
  /** a job whose worker has not sent a heartbeat for this long goes to another (used when the queue is first made) */
  limits?: StreamLimits;
  /** how often each flight's status is written */
  statusIntervalMs?: number;
  /** fixes buffered per flight while NATS is away */
  fixBuffer?: number;
  /** stops taking jobs; the flights held are stopped as a signal would and handed back to the queue */
  stop: AbortSignal;
}

export const DEFAULT_SLOTS = 2;
export const DEFAULT_STATUS_INTERVAL_MS = 1000;
/** how long one wait for a job lasts before the loop looks at its slots and the stop signal again */
const JOB_WAIT_MS = 1000;
/** the wait after JetStream could not be asked for a job (NATS away) */
const JOB_RETRY_MS = 500;
/** heartbeats per claim timeout: one lost heartbeat must not lose the job */
const HEARTBEATS_PER_CLAIM = 3;
const OVER: ReadonlySet<FlightState> = new Set(['stopped', 'done', 'failed']);
/** how long a finished flight's last fixes get to reach NATS */
const FLUSH_TIMEOUT_MS = 10_000;

/** Takes and runs jobs until `stop` aborts, then waits for the flights it holds to end. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const limits = options.limits ?? DEFAULT_STREAM_LIMITS;
  const book = new FlightBook(await ensureStreams(options.nc, limits));
  const js = jetstream(options.nc);
  const consumer = await js.consumers.get(JOBS_STREAM, WORKERS_CONSUMER);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const held = new Set<Promise<void>>();
  const localizers = new SharedLocalizers(options.logger);
  options.logger.log({ level: 'info', message: `worker ${name} taking flight jobs (${options.slots} slots)` });
  while (!options.stop.aborted) {
    if (held.size >= options.slots) {
      await Promise.race([...held, new Promise((resolve) => options.stop.addEventListener('abort', resolve, { once: true }))]);
      continue;
    }
    const msg = await nextJob(consumer, options.logger);
    if (!msg) continue;
    if (options.stop.aborted) {
      msg.nak();
      break;
    }
    const flight = runJob(msg, { ...options, name, book, js, limits, localizers }).catch((err) =>
      options.logger.log({ level: 'error', message: `worker ${name}: a job ended in an unexpected error: ${describeError(err)}` }),
    );
    held.add(flight);
    void flight.finally(() => held.delete(flight));
  }
  await Promise.all(held);
}

async function nextJob(consumer: Consumer, logger: Logger): Promise<JsMsg | null> {
  try {
    return await consumer.next({ expires: JOB_WAIT_MS });
  } catch (err) {
    logger.log({ level: 'warn', code: 'GEOLOC_ERR_NATS_UNREACHABLE', message: `cannot take a job from NATS (${(err as Error).message}); trying again` });
    await sleep(JOB_RETRY_MS);
    return null;
  }
}

interface JobContext extends WorkerOptions {
  name: string;
  book: FlightBook;
  js: JetStreamClient;
  limits: StreamLimits;
  localizers: SharedLocalizers;
}

/** A malformed job: refused for good, logged, and kept on the dead-letter subject with its reason. */
async function deadLetter(msg: JsMsg, err: unknown, context: JobContext): Promise<void> {
  const reason = describeError(err);
  context.logger.log({ level: 'error', code: 'GEOLOC_ERR_NATS_JOB_MALFORMED', message: `${(err as Error).message}; moved to ${DEAD_SUBJECT}`, seq: msg.seq });
  const h = headers();
  h.set(ERROR_HEADER, reason.replace(/[\r\n]+/g, ' '));
  try {
    await context.js.publish(DEAD_SUBJECT, msg.data, { headers: h });
  } finally {
    // no reason given: nats-server 2.9 takes "+TERM <reason>" for no acknowledgement at all
    msg.term();
  }
}

async function runJob(msg: JsMsg, context: JobContext): Promise<void> {
  let job: FlightJob;
  try {
    job = parseJob(msg.data);
  } catch (err) {
    await deadLetter(msg, err, context);
    return;
  }
  const heartbeat = setInterval(() => msg.working(), context.limits.claimTimeoutMs / HEARTBEATS_PER_CLAIM);
  try {
    await runFlight(msg, job, context);
  } finally {
    clearInterval(heartbeat);
  }
}

async function runFlight(msg: JsMsg, job: FlightJob, context: JobContext): Promise<void> {
  const { book, logger } = context;
  const claim = msg.info.deliveryCount;
  const known = await book.get(job.flight);
  if (known && OVER.has(known.state)) {
    // a job that outlived its flight (redelivered after it ended, or removed and queued again by hand)
    logger.log({ level: 'warn', message: `flight ${job.flight} is ${known.state} already; its job is dropped` });
    msg.ack();
    return;
  }
  const status: FlightStatus = { ...(known ?? { flight: job.flight, job, updatedAt: Date.now() }), state: 'running', worker: context.name, claim };
  if (await book.stopRequested(job.flight)) {
    await book.put({ ...status, state: 'stopped' });
    msg.ack();
    return;
  }
  let lease: LocalizerLease | undefined;
  let outputs: Outputs = NO_OUTPUTS;
  try {
    logger.log({ level: 'info', message: `flight ${job.flight}: taken (claim ${claim}) from ${job.source}` });
    await book.put(status);
    const config = resolveConfig({ ...job.settings, flight: job.flight });
    outputs = openOutputs(job.outputs ?? {}, logger);
    lease = await context.localizers.acquire(job.model, job.index, config, !readsLive(job.source));
    const sink = new NatsFixSink(context.js, { flight: job.flight, claim, maxBuffered: context.fixBuffer, logger });
    const stop = new Subject<void>();
    let ended: 'stop' | 'superseded' | undefined;
    const onWorkerStop = () => stop.next();
    context.stop.addEventListener('abort', onWorkerStop);
    const unwatch = await book.watchFlight(job.flight, claim, (why, by) => {
      ended = why;
      if (why === 'superseded') logger.log({ level: 'warn', message: `flight ${job.flight}: taken over by worker ${by?.worker} (claim ${by?.claim}); stopping the copy here (claim ${claim})` });
      stop.next();
    });
    const reporter = new FlightStatusReporter(book, status, sink, context.statusIntervalMs ?? DEFAULT_STATUS_INTERVAL_MS);
    try {
      const run = await runPipeline({ source: job.source, config, localizer: lease.localizer, logger, sinks: [sink, outputs], stop });
      await sink.flush(FLUSH_TIMEOUT_MS);
      if (ended === 'superseded') {
        // the flight and its job belong to the later claim now: nothing to write or acknowledge
        reporter.stop();
      } else if (ended !== 'stop' && (run.interrupted || context.stop.aborted)) {
        // this worker is going away: another takes the flight at once
        await reporter.finish('queued');
        msg.nak();
        logger.log({ level: 'info', message: `flight ${job.flight}: handed back to the queue` });
      } else {
        const state = ended === 'stop' ? 'stopped' : 'done';
        await reporter.finish(state);
        msg.ack();
        logger.log({ level: 'info', message: `flight ${job.flight}: ${state} after ${sink.stats().published} fixes` });
      }
    } finally {
      reporter.stop();
      context.stop.removeEventListener('abort', onWorkerStop);
      unwatch();
    }
  } catch (err) {
    const error = { code: isGeolocError(err) ? err.code : 'GEOLOC_ERR_NATS_FLIGHT_FAILED', message: err instanceof Error ? err.message : String(err) };
    logger.log({ level: 'error', code: 'GEOLOC_ERR_NATS_FLIGHT_FAILED', message: `flight ${job.flight} failed on worker ${context.name}: ${describeError(err)}`, cause: error.code });
    await book.put({ ...status, state: 'failed', error });
    msg.term();
  } finally {
    await Promise.all([lease?.release(), outputs.close()]);
  }
}
