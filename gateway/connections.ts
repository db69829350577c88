/**
 * Which TCP connections the gateway keeps, so that sockets that never finish a request
 * (slowloris: headers trickled a byte at a time) cannot lock out the clients that do. Each
 * client address may hold `perAddress` connections; the next is closed as soon as it is
 * accepted. At the total limit, the connection that has waited longest for a request is
 * closed to make room for the new one; the new one is closed instead only when every
 * connection is busy (a request in flight, or a WebSocket).
 *
 * node's own `server.maxConnections` closes the newest socket instead: a few hundred
 * tricklers then reset every connection that comes after them, for as long as they trickle.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionLimit } from './metrics';

export interface ConnectionLimits {
  total: number;
  perAddress: number;
}

export interface ConnectionEvents {
  refused(limit: ConnectionLimit): void;
  evicted(): void;
}

interface Tracked {
  address: string;
  /** requests begun and not yet both answered and wholly read */
  inFlight: number;
}

export class ConnectionGuard {
  private readonly tracked = new Map<Socket, Tracked>();
  private readonly perAddress = new Map<string, number>();
  /** connections with no request in flight, longest waiting first (a Set keeps insertion order) */
  private readonly waiting = new Set<Socket>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
  ) {}

  /** Registers after node's own listeners, so it sees sockets node has already set up. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.requestStarted(req, res));
    // An upgraded socket is a WebSocket (or about to be closed): never idle, never evicted.
    server.on('upgrade', (req: IncomingMessage) => this.waiting.delete(req.socket));
  }

  get size(): number {
    return this.tracked.size;
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Whether the socket is between requests, so that an error answer cannot cut into a response. */
  isWaiting(socket: Duplex): boolean {
    return this.waiting.has(socket as Socket);
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress;
    if (address === undefined) {
      socket.destroy(); // already gone
      return;
    }
    if ((this.perAddress.get(address) ?? 0) >= this.limits.perAddress) {
      this.events.refused('per_address');
      socket.destroy();
      return;
    }
    if (this.tracked.size >= this.limits.total) {
      const longestWaiting = this.waiting.values().next();
      if (longestWaiting.done) {
        this.events.refused('total');
        socket.destroy();
        return;
      }
      this.forget(longestWaiting.value);
      longestWaiting.value.destroy();
      this.events.evicted();
    }
    this.tracked.set(socket, { address, inFlight: 0 });
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.waiting.add(socket);
    socket.once('close', () => this.forget(socket));
  }

  private requestStarted(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const entry = this.tracked.get(socket);
    if (!entry) return;
    entry.inFlight += 1;
    this.waiting.delete(socket);
    const settled = () => {
      entry.inFlight -= 1;
      // Back of the line: a keep-alive connection waits for its next request from now on.
      if (entry.inFlight === 0 && this.tracked.has(socket) && !socket.destroyed) this.waiting.add(socket);
    };
    // In flight until answered and wholly read: a refused request's body may still be trickling in.
    res.once('close', () => (req.complete ? settled() : req.once('end', settled)));
  }

  /** Idempotent: an evicted socket is forgotten at once, and again when it closes. */
  private forget(socket: Socket): void {
    const entry = this.tracked.get(socket);
    if (!entry) return;
    this.tracked.delete(socket);
    this.waiting.delete(socket);
    const held = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (held === 0) this.perAddress.delete(entry.address);
    else this.perAddress.set(entry.address, held);
  }
}
