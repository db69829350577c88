/**
 * The parts of a NATS fleet the scale-out tests start as separate processes: workers and
 * gateways (the compiled CLI), and WebSocket clients that follow flights and can continue on
 * another gateway from the last fix they hold.
 */
import type { WireFix } from '../../gateway/protocol';
import { isFix } from '../../gateway/protocol';
import { type CliProcess, startCli } from './cli';
import { TestClient } from './gatewayClients';
import { waitFor } from './processes';

const READY_MS = 30_000;

/** `geoloc worker` on the NATS server; its decoders' pids read from its log, to reap them after a kill -9. */
export function startWorker(natsUrl: string, name: string, extra: string[] = []): CliProcess & { name: string; decoderPids(): number[] } {
  const cli = startCli(['worker', '--nats', natsUrl, '--name', name, ...extra]);
  return { ...cli, name, decoderPids: () => [...cli.stderr().matchAll(/ffmpeg pid (\d+)/g)].map((m) => Number(m[1])) };
}

export interface GatewayCli extends CliProcess {
  wsUrl: string;
}

export async function startNatsGateway(natsUrl: string): Promise<GatewayCli> {
  const cli = startCli(['serve', '--port', '0', '--nats', natsUrl]);
  await waitFor(() => /following every flight's fixes on NATS/.test(cli.stderr()) || cli.child.exitCode !== null, READY_MS, `a gateway on ${natsUrl}`);
  const match = /fixes at (ws:\/\/\S+)/.exec(cli.stderr());
  if (!match) throw new Error(`the gateway did not start: ${cli.stderr()}`);
  return { ...cli, wsUrl: match[1]! };
}

/** A map client following flights: every fix it got, per flight, across reconnects. */
export class FollowingClient {
  readonly fixes = new Map<string, WireFix[]>();
  private client: TestClient | undefined;
  private seen = 0;

  constructor(private readonly flights: readonly string[]) {
    for (const flight of flights) this.fixes.set(flight, []);
  }

  /** Connects to a gateway and subscribes to every flight, after the last fix held of each. */
  async connect(wsUrl: string): Promise<void> {
    this.client = await TestClient.connect(wsUrl);
    this.seen = 0;
    for (const flight of this.flights) {
      const last = this.fixes.get(flight)!.at(-1)?.properties.seq as number | undefined;
      this.client.send(last === undefined ? { type: 'subscribe', flight } : { type: 'subscribe', flight, after: last });
    }
  }

  /** Takes the messages that arrived since the last call into `fixes`. */
  collect(): void {
    if (!this.client) return;
    const fresh = this.client.messages.slice(this.seen);
    this.seen = this.client.messages.length;
    for (const message of fresh) {
      const features = isFix(message) ? [message] : message.type === 'snapshot' ? message.features : [];
      for (const fix of features) this.fixes.get(fix.properties.flight)?.push(fix);
    }
  }

  count(flight: string): number {
    this.collect();
    return this.fixes.get(flight)!.length;
  }

  async close(): Promise<void> {
    await this.client?.close();
  }
}

/** SIGKILLs whatever is left of the decoders a worker started (after a kill -9 they die of a broken pipe on their own). */
export function reapDecoders(worker: ReturnType<typeof startWorker>): void {
  for (const pid of worker.decoderPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
