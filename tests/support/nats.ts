/**
 * A nats-server of the test's own: JetStream on, its store in a temporary folder, on a free
 * loopback port. nats-server is installed on first use by scripts/ensure-nats.sh; no system
 * service is involved. restart() stops it and starts it again on the same port and store, as an
 * operator's restart would.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../pipeline/core/paths';
import { freeTcpPort, killAndWait, waitFor } from './processes';
import { scratchDir } from './scratch';

export interface NatsServer {
  url: string;
  port: number;
  /** its log so far */
  log(): string;
  restart(): Promise<void>;
  /** stops it (the store stays until remove) */
  stop(): Promise<void>;
  /** stops it and removes its store */
  remove(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const READY_LINE = 'Server is ready';

/** Installs nats-server when it is missing (root and the Debian archive needed); throws with the script's words otherwise. */
export function ensureNats(): void {
  const run = spawnSync('bash', [join(repoRoot(), 'scripts', 'ensure-nats.sh')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`scripts/ensure-nats.sh failed: ${run.stderr}`);
}

/** Starts nats-server -js on `port` (a free one by default); resolves once it is ready. */
export async function startNats(port?: number): Promise<NatsServer> {
  const chosen = port ?? (await freeTcpPort());
  const store = scratchDir('nats');
  let log = '';
  let child: ChildProcess;
  const start = async () => {
    const from = log.length;
    child = spawn('nats-server', ['-js', '-sd', store.dir, '-a', '127.0.0.1', '-p', String(chosen)], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    await waitFor(() => log.indexOf(READY_LINE, from) >= 0 || child.exitCode !== null, READY_TIMEOUT_MS, 'nats-server to be ready');
    if (child.exitCode !== null) throw new Error(`nats-server exited ${child.exitCode}: ${log.slice(from)}`);
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      child.once('close', () => done());
      child.kill('SIGTERM');
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${chosen}`,
    port: chosen,
    log: () => log,
    restart: async () => {
      await stop();
      await start();
    },
    stop,
    remove: async () => {
      await killAndWait(child);
      store.remove();
    },
  };
}
