/** Consumers on 127.0.0.1 for the output tests: a UDP receiver and a TCP server that can stall. */
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';

export interface UdpReceiver {
  port: number;
  datagrams: Buffer[];
  close(): Promise<void>;
}

export function udpReceiver(): Promise<UdpReceiver> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const datagrams: Buffer[] = [];
    socket.on('message', (message) => datagrams.push(message));
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () =>
      resolve({ port: socket.address().port, datagrams, close: () => new Promise<void>((done) => socket.close(() => done())) }),
    );
  });
}

export interface TcpConsumer {
  /** connections accepted so far */
  connections: number;
  /** bytes read, over every connection */
  bytes: number;
  /** stops reading from every connection, present and future, so the sender's data piles up */
  stall(): void;
  /** reads again, from every connection */
  resume(): void;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1:`port` that reads (and counts) what it is sent until told to stall. */
export function tcpConsumer(port: number): Promise<TcpConsumer> {
  return new Promise((resolve, reject) => {
    const sockets = new Set<Socket>();
    let stalled = false;
    const consumer: TcpConsumer = {
      connections: 0,
      bytes: 0,
      stall() {
        stalled = true;
        for (const s of sockets) s.pause();
      },
      resume() {
        stalled = false;
        for (const s of sockets) s.resume();
      },
      close: () =>
        new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
    };
    const server = createServer((socket) => {
      consumer.connections += 1;
      sockets.add(socket);
      socket.on('data', (chunk) => (consumer.bytes += chunk.length));
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
      if (stalled) socket.pause();
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(consumer));
  });
}
