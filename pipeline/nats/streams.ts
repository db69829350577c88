/**
 * The JetStream streams, the workers' consumer and the flight-status bucket, made when missing.
 * Every geoloc process that uses NATS calls this on connecting, so none depends on which came
 * first; a stream that exists keeps its configuration (an operator may have tuned it).
 */
import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { GeolocError } from '../core/errors';
import { DEAD_STREAM, DEAD_SUBJECT, FIXES_STREAM, FIXES_SUBJECTS, FLIGHTS_BUCKET, JOBS_STREAM, JOBS_SUBJECT, WORKERS_CONSUMER } from './names';

export interface StreamLimits {
  /** fixes older than this are removed from the stream */
  fixesMaxAgeS: number;
  /** the fixes stream's size on disk, at most; the oldest go first */
  fixesMaxBytes: number;
  /** a worker that has not said it is working on a job for this long loses it to another */
  claimTimeoutMs: number;
  /** fixes published again within this window (same message id) are stored once */
  duplicateWindowS: number;
}

const HOUR_S = 3600;
const GIB = 1024 ** 3;
const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  fixesMaxAgeS: 24 * HOUR_S,
  fixesMaxBytes: GIB,
  // a dead worker's flights move on within this (the heartbeat is a third of it)
  claimTimeoutMs: 5000,
  duplicateWindowS: 120,
};

/** Whether a JetStream API error says the stream or consumer is not there. */
function isNotFound(err: unknown): boolean {
  return /not found/i.test((err as Error).message ?? '');
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}

export async function ensureStreams(nc: NatsConnection, limits: StreamLimits = DEFAULT_STREAM_LIMITS): Promise<KV> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    throw new GeolocError('GEOLOC_ERR_NATS_UNREACHABLE', `the NATS server has no JetStream (${(err as Error).message}); start it with nats-server -js -sd <dir>`, { cause: err });
  }
  await ensureStream(jsm, {
    name: FIXES_STREAM,
    subjects: [FIXES_SUBJECTS],
    storage: StorageType.File,
    max_age: limits.fixesMaxAgeS * NS_PER_S,
    max_bytes: limits.fixesMaxBytes,
    duplicate_window: limits.duplicateWindowS * NS_PER_S,
  });
  await ensureStream(jsm, { name: JOBS_STREAM, subjects: [JOBS_SUBJECT], storage: StorageType.File, retention: RetentionPolicy.Workqueue });
  await ensureStream(jsm, { name: DEAD_STREAM, subjects: [DEAD_SUBJECT], storage: StorageType.File });
  try {
    await jsm.consumers.info(JOBS_STREAM, WORKERS_CONSUMER);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(JOBS_STREAM, {
      durable_name: WORKERS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: limits.claimTimeoutMs * NS_PER_MS,
      max_deliver: -1,
    });
  }
  return new Kvm(nc).create(FLIGHTS_BUCKET, { history: 1 });
}
