import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { type Connection, hostPort, type Transport } from './transport';

/**
 * One datagram per message to host:port, from a connected socket so that the kernel reports a
 * port nobody listens on (ICMP refusals arrive as ECONNREFUSED errors, counted, not fatal).
 */
export function udpTransport(host: string, port: number): Transport {
  return {
    target: `udp://${hostPort(host, port)}`,
    open: (events) =>
      new Promise<Connection>((resolve, reject) => {
        const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
        let open = true;
        const close = () => {
          if (open) socket.close();
          open = false;
        };
        const fail = (err: Error) => {
          close();
          reject(err);
        };
        socket.once('error', fail);
        socket.connect(port, host, () => {
          socket.off('error', fail);
          socket.on('error', (err) => {
            if (open) events.onError(err);
          });
          resolve({
            write: (message, done) => socket.send(message, done),
            destroy: close,
            end: async () => close(),
          });
        });
      }),
  };
}
