/** `geoloc worker`: takes flights from NATS JetStream and localizes them (pipeline/worker.ts). */
import { integerOption, parseOptions, usageError } from '../core/options';
import { stderrLogger } from '../core/log';
import { connectNats } from '../nats/connect';
import { DEFAULT_STREAM_LIMITS } from '../nats/streams';
import { DEFAULT_FIX_BUFFER } from '../sinks/natsFixSink';
import { DEFAULT_SLOTS, runWorker } from '../worker';
import type { Command } from './command';
import { reportFailure } from './lifecycle';

const USAGE = `usage: geoloc worker --nats <url> [--slots <n>] [options]

Takes flight jobs (geoloc flights add) from the NATS JetStream work queue and localizes up to
--slots of them at once, publishing each flight's fixes on geoloc.fixes.<flight>. Holds each
job with heartbeats; if this worker dies, another takes its flights within the claim timeout.
Waits and retries while NATS is unreachable. SIGINT/SIGTERM hand the flights back to the queue.

  --nats <url>            the NATS server (nats://host:4222), JetStream on
  --slots <n>             flights at once (default ${DEFAULT_SLOTS})
  --name <s>              this worker's name in flight statuses (default host:pid)
  --fix-buffer <n>        fixes held per flight while NATS is away; beyond, the oldest are
                          dropped and counted (default ${DEFAULT_FIX_BUFFER})
  --claim-timeout <ms>    a job without a heartbeat for this long goes to another worker
                          (default ${DEFAULT_STREAM_LIMITS.claimTimeoutMs}; applies when this worker makes the queue)
`;

export const workerCommand: Command = {
  name: ['worker'],
  summary: 'take flights from NATS JetStream and localize them (scale-out)',
  usage: USAGE,
  async run(argv) {
    const logger = stderrLogger();
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      logger.log({ level: 'info', message: `${signal}: taking no more jobs; the flights held go back to the queue` });
      stop.abort();
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      const { values } = parseOptions(
        { args: argv, options: { nats: { type: 'string' }, slots: { type: 'string' }, name: { type: 'string' }, 'fix-buffer': { type: 'string' }, 'claim-timeout': { type: 'string' } }, strict: true },
        USAGE,
      );
      if (!values.nats) throw usageError('--nats <url> is required: the NATS server to take flights from', USAGE);
      const slots = integerOption('slots', values.slots, DEFAULT_SLOTS, USAGE, 1);
      const fixBuffer = integerOption('fix-buffer', values['fix-buffer'], DEFAULT_FIX_BUFFER, USAGE, 1);
      const claimTimeoutMs = integerOption('claim-timeout', values['claim-timeout'], DEFAULT_STREAM_LIMITS.claimTimeoutMs, USAGE, 1);
      const nc = await connectNats(values.nats, { logger, name: 'geoloc-worker', signal: stop.signal });
      try {
        await runWorker({ nc, slots, name: values.name, logger, fixBuffer, limits: { ...DEFAULT_STREAM_LIMITS, claimTimeoutMs }, stop: stop.signal });
      } finally {
        await nc.close();
      }
      return 0;
    } catch (err) {
      if (stop.signal.aborted) return 0;
      return reportFailure('worker', err);
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  },
};
