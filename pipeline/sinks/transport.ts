/**
 * How an output's messages reach its consumer. A Transport opens Connections; the OutputSink
 * decides when (reconnecting with backoff) and how much (its queue and byte limit).
 */
import type { Writable } from 'node:stream';

export interface ConnectionEvents {
  /** a failure the connection survives (UDP: a datagram refused because nobody listens) */
  onError(err: Error): void;
  /** the connection is gone for good: the peer closed or reset it, or it failed */
  onLost(err?: Error): void;
}

export interface Connection {
  /** hands one message over; `done` runs once it has left, with an error if it could not */
  write(message: Buffer, done: (err?: Error | null) => void): void;
  /** ends at once, abandoning what has not left; no event follows; safe to call again */
  destroy(): void;
  /** ends once what was written has left, and lets go of the socket or file */
  end(): Promise<void>;
}

export interface Transport {
  /** where it goes, in logs, metrics and reports: udp://host:port, tcp://host:port or a file path */
  readonly target: string;
  /** a connection, or a rejection that says why there is none (refused, timed out, …) */
  open(events: ConnectionEvents): Promise<Connection>;
}

/**
 * A stream (a TCP socket, a file) as a Connection. A failed write is the stream's failure: it is
 * reported once, by onLost, and the messages it held were never `done`. The messages written in
 * one turn of the event loop leave together, in one system call (cork until the next tick).
 */
export function streamConnection(stream: Writable, events: ConnectionEvents): Connection {
  let over = false;
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  const lost = (err?: Error) => {
    if (over) return;
    over = true;
    events.onLost(err);
  };
  // the listeners stay for the stream's life: an error after destroy() must not go unhandled
  stream.on('error', lost);
  stream.on('close', () => lost());
  return {
    write(message, done) {
      if (!corked) {
        corked = true;
        stream.cork();
        process.nextTick(uncork);
      }
      stream.write(message, (err) => {
        if (!err) done();
      });
    },
    destroy() {
      over = true;
      stream.destroy();
    },
    end() {
      over = true;
      return new Promise((resolve) => stream.end(() => {
        stream.destroy();
        resolve();
      }));
    },
  };
}

/** host:port as a URL writes it: an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
