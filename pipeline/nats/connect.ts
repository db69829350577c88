/**
 * Connecting to NATS: one clear coded line per failed attempt and a retry with backoff, because a
 * worker or gateway started before its NATS server (a reboot, a rolling restart) must come up on
 * its own. Once connected, the client reconnects by itself without end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type BackoffPolicy, backoffDelayMs, DEFAULT_BACKOFF } from '../core/backoff';
import { GeolocError } from '../core/errors';
import type { Logger } from '../core/log';

export interface ConnectOptions {
  logger: Logger;
  /** how long one attempt may take */
  attemptTimeoutMs?: number;
  backoff?: BackoffPolicy;
  /** give up (GEOLOC_ERR_NATS_UNREACHABLE) after this long; default: never */
  giveUpAfterMs?: number;
  /** the name the server shows for this client */
  name?: string;
  /** stops the retrying (the promise then rejects with the signal's reason) */
  signal?: AbortSignal;
}

export const DEFAULT_ATTEMPT_TIMEOUT_MS = 2000;
/** once connected, the wait between reconnect attempts */
const RECONNECT_WAIT_MS = 250;

export async function connectNats(url: string, options: ConnectOptions): Promise<NatsConnection> {
  const started = Date.now();
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  for (let failures = 1; ; failures += 1) {
    options.signal?.throwIfAborted();
    try {
      const nc = await connect({
        servers: url,
        name: options.name,
        timeout: options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
        maxReconnectAttempts: -1,
        reconnectTimeWait: RECONNECT_WAIT_MS,
      });
      if (failures > 1) options.logger.log({ level: 'info', message: `connected to NATS at ${url} after ${failures - 1} failed attempt(s)` });
      return nc;
    } catch (err) {
      const waitMs = backoffDelayMs(backoff, failures);
      const reason = (err as Error).message;
      if (options.giveUpAfterMs !== undefined && Date.now() + waitMs - started > options.giveUpAfterMs) {
        throw new GeolocError('GEOLOC_ERR_NATS_UNREACHABLE', `no NATS server answered at ${url} within ${options.giveUpAfterMs} ms (${reason}); start nats-server -js or fix --nats`, { cause: err });
      }
      options.logger.log({ level: 'warn', code: 'GEOLOC_ERR_NATS_UNREACHABLE', message: `no NATS server answered at ${url} (${reason}); retrying in ${waitMs} ms`, attempt: failures });
      await sleep(waitMs, undefined, { signal: options.signal });
    }
  }
}
