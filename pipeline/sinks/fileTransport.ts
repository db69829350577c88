import { createWriteStream } from 'node:fs';
import { type Connection, streamConnection, type Transport } from './transport';

const NEWLINE = Buffer.from('\n');

/**
 * Appends to a file. `lines`: a text format, one message a line (a newline is added to a
 * message that lacks one); otherwise the bytes as they are.
 */
export function fileTransport(path: string, options: { lines: boolean }): Transport {
  return {
    target: path,
    open: (events) =>
      new Promise<Connection>((resolve, reject) => {
        const stream = createWriteStream(path, { flags: 'a' });
        stream.once('error', reject);
        stream.once('open', () => {
          stream.off('error', reject);
          const connection = streamConnection(stream, events);
          resolve({
            ...connection,
            write(message, done) {
              const line = options.lines && message[message.length - 1] !== NEWLINE[0] ? Buffer.concat([message, NEWLINE]) : message;
              connection.write(line, done);
            },
          });
        });
      }),
  };
}
