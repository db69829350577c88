import { connect } from 'node:net';
import { definedOnly } from '../core/options';
import { type Connection, hostPort, streamConnection, type Transport } from './transport';

export interface TcpTransportOptions {
  /** a connect that has not succeeded by then has failed (an unreachable host would take minutes) */
  connectTimeoutMs: number;
}

export const TCP_TRANSPORT_DEFAULTS: TcpTransportOptions = { connectTimeoutMs: 5000 };

/** A TCP client of host:port; what the consumer sends back is read and discarded. */
export function tcpTransport(host: string, port: number, options: Partial<TcpTransportOptions> = {}): Transport {
  const { connectTimeoutMs } = { ...TCP_TRANSPORT_DEFAULTS, ...definedOnly(options) };
  return {
    target: `tcp://${hostPort(host, port)}`,
    open: (events) =>
      new Promise<Connection>((resolve, reject) => {
        const socket = connect({ host, port });
        const fail = (err: Error) => {
          clearTimeout(timer);
          socket.destroy();
          reject(err);
        };
        const timer = setTimeout(() => fail(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
        socket.once('error', fail);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.off('error', fail);
          // small messages that are only worth anything when fresh: no Nagle delay
          socket.setNoDelay(true);
          socket.resume();
          resolve(streamConnection(socket, events));
        });
      }),
  };
}
