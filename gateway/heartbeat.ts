/**
 * Pings every client each interval; a client that has not answered the previous ping by the
 * next tick is terminated, so a dead peer is gone within two intervals.
 */
import type { WebSocket } from 'ws';

export class Heartbeat {
  private readonly awaitingPong = new Set<WebSocket>();
  private readonly watched = new Set<WebSocket>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs: number, private readonly onUnresponsive: (ws: WebSocket) => void) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  watch(ws: WebSocket): void {
    this.watched.add(ws);
    ws.on('pong', () => this.awaitingPong.delete(ws));
    ws.once('close', () => {
      this.watched.delete(ws);
      this.awaitingPong.delete(ws);
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    for (const ws of this.watched) {
      if (this.awaitingPong.has(ws)) {
        this.watched.delete(ws);
        this.awaitingPong.delete(ws);
        this.onUnresponsive(ws);
        ws.terminate();
        continue;
      }
      this.awaitingPong.add(ws);
      ws.ping();
    }
  }
}
