/**
 * One WebSocket client and its slow-client policy. Fixes go out while the client's queue
 * (`bufferedAmount`) is under the high-water mark; above it only the latest fix of each
 * flight is kept and sent once the queue drains, so a slow client skips fixes instead of
 * piling them up. Past the hard limit the client is closed. Nothing here ever waits on a
 * client, so one slow client cannot slow the others.
 */
import type { WebSocket } from 'ws';

export interface ChannelLimits {
  highWaterMark: number;
  hardLimit: number;
}

export interface ChannelEvents {
  /** a pending fix was replaced by a newer one of the same flight */
  skipped(): void;
  /** a fix was handed to the socket */
  fixSent(): void;
  /** the queue passed the hard limit; the channel closes itself */
  overHardLimit(): void;
}

/** 1013 "try again later": the server is shedding this client's load. */
export const CLOSE_SLOW_CLIENT = 1013;
/** How long a client over the hard limit gets to take the close frame before it is cut off. */
const CLOSE_GRACE_MS = 1000;

export class ClientChannel {
  readonly subscriptions = new Set<string>();
  /** latest unsent fix per flight, in the order the flights first waited */
  private readonly pending = new Map<string, Buffer>();
  private closing = false;

  constructor(
    readonly ws: WebSocket,
    private readonly limits: ChannelLimits,
    private readonly events: ChannelEvents,
  ) {}

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Queues a serialized fix; it is written now unless the client is behind. */
  sendFix(flight: string, data: Buffer): void {
    if (this.closing || this.overHardLimit()) return;
    if (this.pending.has(flight)) this.events.skipped();
    this.pending.set(flight, data);
    if (this.ws.bufferedAmount <= this.limits.highWaterMark) this.flush();
  }

  /** Control messages (snapshot, flights, errors) are never skipped; the hard limit still applies. */
  sendMessage(data: Buffer | string): void {
    if (this.closing || this.overHardLimit()) return;
    this.ws.send(data, { binary: false }, this.afterWrite);
  }

  forget(flight: string): void {
    this.subscriptions.delete(flight);
    this.pending.delete(flight);
  }

  private flush(): void {
    for (const data of this.pending.values()) {
      this.ws.send(data, { binary: false }, this.afterWrite);
      this.events.fixSent();
    }
    this.pending.clear();
  }

  /** Each write's callback is the drain signal: the last one fires when the queue is empty. */
  private readonly afterWrite = (err?: Error): void => {
    if (err || this.closing || this.pending.size === 0) return;
    if (this.ws.bufferedAmount <= this.limits.highWaterMark) this.flush();
  };

  private overHardLimit(): boolean {
    if (this.ws.bufferedAmount <= this.limits.hardLimit) return false;
    this.closing = true;
    this.pending.clear();
    this.events.overHardLimit();
    this.ws.close(CLOSE_SLOW_CLIENT, 'client too slow: queue over the hard limit');
    setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    return true;
  }
}
