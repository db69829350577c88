/**
 * `serve --nats`: the gateway follows the fixes stream. It serves at once; the connection is
 * made in the background, retried until NATS answers (each failed attempt logged with its
 * code), and the feed starts once the streams exist.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../pipeline/core/log';
import { connectNats } from '../pipeline/nats/connect';
import { ensureStreams } from '../pipeline/nats/streams';
import { describeError } from '../pipeline/core/errors';
import { feedFromNats, type NatsFeed } from './natsFeed';
import type { Gateway } from './server';

export interface NatsFollower {
  close(): Promise<void>;
}

export function followNats(gateway: Pick<Gateway, 'publish'>, url: string, logger: Logger): NatsFollower {
  let nc: NatsConnection | undefined;
  let feed: NatsFeed | undefined;
  const closing = new AbortController();
  const started = (async () => {
    nc = await connectNats(url, { logger, name: 'geoloc-gateway', signal: closing.signal });
    await ensureStreams(nc);
    closing.signal.throwIfAborted();
    feed = await feedFromNats(gateway, nc, logger);
    logger.log({ level: 'info', message: `following every flight's fixes on NATS at ${url}` });
  })().catch((err) => {
    if (!closing.signal.aborted) logger.log({ level: 'error', message: `NATS feed stopped: ${describeError(err)}` });
  });
  return {
    close: async () => {
      closing.abort();
      await started;
      await feed?.stop();
      await nc?.close();
    },
  };
}
