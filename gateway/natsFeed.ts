/**
 * A gateway fed from NATS: every fix in the fixes stream, in stream order, from the oldest the
 * stream retains, so a restarted gateway holds the same snapshots as before and every gateway
 * shows the same flights in the same order. Each fix gets its stream sequence as `seq`, which a
 * reconnecting client gives back (`after`) to continue where it stopped.
 */
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../pipeline/core/log';
import type { FixFeature } from '../pipeline/core/types';
import { FIXES_STREAM, FIXES_SUBJECTS, flightOfSubject } from '../pipeline/nats/names';
import type { Gateway } from './server';

/** how long one pull waits; the server's idle heartbeat is half of it */
export const PULL_EXPIRES_MS = 2000;

export interface NatsFeed {
  /** fixes handed to the gateway so far */
  readonly received: () => number;
  stop(): Promise<void>;
}

export async function feedFromNats(gateway: Pick<Gateway, 'publish'>, nc: NatsConnection, logger: Logger): Promise<NatsFeed> {
  // an ordered consumer: the client re-creates it from the last sequence after a reconnect
  const consumer = await jetstream(nc).consumers.get(FIXES_STREAM, { filter_subjects: FIXES_SUBJECTS, deliver_policy: DeliverPolicy.All });
  // a short pull makes the server's heartbeats frequent, so a restarted server is noticed
  // (two missed heartbeats) and the consumer re-created within seconds, not the default half-minute
  const messages = await consumer.consume({ expires: PULL_EXPIRES_MS });
  let received = 0;
  const done = (async () => {
    for await (const msg of messages) {
      let fix: FixFeature;
      try {
        fix = msg.json<FixFeature>();
      } catch (err) {
        logger.log({ level: 'warn', message: `skipped a message on ${msg.subject} that is not a fix (${(err as Error).message})`, seq: msg.seq });
        continue;
      }
      received += 1;
      gateway.publish(flightOfSubject(msg.subject), { ...fix, properties: { ...fix.properties, seq: msg.seq } });
    }
  })();
  return {
    received: () => received,
    stop: async () => {
      messages.stop();
      await done;
    },
  };
}
