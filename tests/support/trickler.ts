/**
 * A slowloris client for tests: sockets that begin a request and then send one more header
 * line every `intervalMs`, never finishing it. Socket i binds to localAddresses[i mod n]
 * (127.0.0.2, 127.0.0.3, ... are all loopback on Linux), so the gateway sees several clients.
 * With `reconnect`, a socket the gateway closes is opened again `intervalMs` later, as a
 * persistent attacker would. Runs in the test's process, or in one of its own (see childRole.ts).
 */
import { connect, type Socket } from 'node:net';
import { forkRole, runRole, type Role } from './childRole';

export interface TrickleSettings {
  port: number;
  sockets: number;
  localAddresses: string[];
  intervalMs: number;
  reconnect: boolean;
}

export interface TrickleCounts {
  /** connections the gateway accepted (reconnections included) */
  connects: number;
  /** connections the gateway closed while the trickle went on */
  closedByGateway: number;
  /** sockets still connected when the trickle stopped */
  openAtStop: number;
  /** the status lines of whatever the gateway answered before closing */
  answers: Record<string, number>;
}

const REQUEST_START = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n';
const HEADER_LINE = 'X-Trickle: 1\r\n';

export class Trickler {
  readonly counts: TrickleCounts = { connects: 0, closedByGateway: 0, openAtStop: 0, answers: {} };
  private readonly live = new Set<Socket>();
  private readonly reconnects = new Set<NodeJS.Timeout>();
  private readonly firstAttempts: Promise<void>[] = [];
  private readonly ticker: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly settings: TrickleSettings) {
    for (let slot = 0; slot < settings.sockets; slot++) this.firstAttempts.push(this.open(slot));
    this.ticker = setInterval(() => {
      for (const socket of this.live) if (socket.readyState === 'open') socket.write(HEADER_LINE);
    }, settings.intervalMs);
  }

  /** Resolves once every socket's first attempt has connected or failed. */
  async settled(): Promise<void> {
    await Promise.all(this.firstAttempts);
  }

  get connected(): number {
    return [...this.live].filter((socket) => socket.readyState === 'open').length;
  }

  /** Stops trickling and closes every socket it opened; resolves with the counts once all have closed. */
  async stop(): Promise<TrickleCounts> {
    this.stopped = true;
    clearInterval(this.ticker);
    for (const timer of this.reconnects) clearTimeout(timer);
    this.counts.openAtStop = this.connected;
    await Promise.all(
      [...this.live].map(
        (socket) =>
          new Promise<void>((resolve) => {
            socket.once('close', () => resolve());
            socket.destroy();
          }),
      ),
    );
    return this.counts;
  }

  private open(slot: number): Promise<void> {
    const { port, localAddresses, intervalMs } = this.settings;
    const socket = connect({ host: '127.0.0.1', port, localAddress: localAddresses[slot % localAddresses.length] });
    this.live.add(socket);
    socket.on('error', () => undefined); // resets are what this client expects
    socket.once('data', (chunk: Buffer) => {
      const status = chunk.toString('latin1').split('\r\n', 1)[0]!;
      this.counts.answers[status] = (this.counts.answers[status] ?? 0) + 1;
    });
    socket.once('connect', () => {
      this.counts.connects += 1;
      socket.write(REQUEST_START);
    });
    socket.once('close', () => {
      this.live.delete(socket);
      if (this.stopped) return;
      this.counts.closedByGateway += 1;
      if (!this.settings.reconnect) return;
      const timer = setTimeout(() => {
        this.reconnects.delete(timer);
        void this.open(slot);
      }, intervalMs);
      this.reconnects.add(timer);
    });
    return new Promise((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('close', () => resolve());
    });
  }
}

/** A Trickler in a process of its own, so its sockets count against that process's descriptor limit. */
export async function startTricklerProcess(settings: TrickleSettings): Promise<Role<null, TrickleCounts>> {
  return forkRole<null, TrickleCounts>(__filename, settings);
}

if (require.main === module) {
  runRole(async (settings: TrickleSettings) => {
    const trickler = new Trickler(settings);
    await trickler.settled();
    return { ready: null, stop: () => trickler.stop() };
  });
}
