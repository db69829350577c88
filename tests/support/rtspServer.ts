/**
 * A minimal RTSP server for tests (Debian's ffmpeg cannot serve RTSP to a player): it answers
 * OPTIONS, DESCRIBE, SETUP (RTP over the RTSP TCP connection, "interleaved") and PLAY, and
 * relays the RTP packets of a real ffmpeg that encodes H.264 and sends RTP to a local UDP port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freeUdpPort, killAndWait, waitFor } from './processes';
import { testArtifactsDir } from './testVideos';

const SESSION_ID = '4242';
const RTP_CHANNEL = 0;
const INTERLEAVED_HEADER_BYTES = 4;

export interface RtspTestServer {
  url: string;
  /** closes every client connection, as a server restart or a network cut would */
  dropClients(): void;
  close(): Promise<void>;
}

interface RtspRequest {
  method: string;
  headers: Record<string, string>;
}

/** Splits what a client sent into RTSP requests, skipping its interleaved binary ($-framed RTCP) packets. */
function parseRequests(buffer: Buffer): { requests: RtspRequest[]; rest: Buffer } {
  const requests: RtspRequest[] = [];
  let rest = buffer;
  while (rest.length > 0) {
    if (rest[0] === 0x24) {
      if (rest.length < INTERLEAVED_HEADER_BYTES) break;
      const size = INTERLEAVED_HEADER_BYTES + rest.readUInt16BE(2);
      if (rest.length < size) break;
      rest = rest.subarray(size);
      continue;
    }
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [requestLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    requests.push({ method: requestLine.split(' ')[0] ?? '', headers });
    rest = rest.subarray(end + 4);
  }
  return { requests, rest };
}

export async function startRtspServer(): Promise<RtspTestServer> {
  const rtpPort = await freeUdpPort();
  const sdpPath = join(testArtifactsDir('rtsp'), `stream-${rtpPort}.sdp`);
  const encoder: ChildProcess = spawn(
    'ffmpeg',
    ['-loglevel', 'error', '-nostdin', '-y', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15',
      '-x264-params', 'repeat-headers=1', '-pix_fmt', 'yuv420p', '-f', 'rtp', '-sdp_file', sdpPath, `rtp://127.0.0.1:${rtpPort}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  encoder.stderr?.resume();
  const rtp: UdpSocket = createSocket('udp4');
  await new Promise<void>((resolve) => rtp.bind(rtpPort, '127.0.0.1', resolve));
  await waitFor(() => existsSync(sdpPath) && readFileSync(sdpPath, 'utf8').includes('m=video'), 10_000, 'the RTP sender to write its SDP');
  const media = readFileSync(sdpPath, 'utf8')
    .replace(/^c=IN IP4 .*$/m, 'c=IN IP4 0.0.0.0')
    .replace(/^m=video \d+/m, 'm=video 0')
    .trimEnd();
  const playing = new Set<Socket>();
  const clients = new Set<Socket>();

  rtp.on('message', (packet) => {
    const header = Buffer.from([0x24, RTP_CHANNEL, packet.length >> 8, packet.length & 0xff]);
    for (const client of playing) client.write(Buffer.concat([header, packet], INTERLEAVED_HEADER_BYTES + packet.length));
  });

  const server: Server = createServer((client) => {
    clients.add(client);
    let pending: Buffer = Buffer.alloc(0);
    client.on('error', () => client.destroy());
    client.on('close', () => {
      clients.delete(client);
      playing.delete(client);
    });
    client.on('data', (data) => {
      const { requests, rest } = parseRequests(Buffer.concat([pending, data]));
      pending = rest;
      for (const { method, headers } of requests) {
        const cseq = headers['cseq'] ?? '0';
        const reply = (extra: string[], body = '') =>
          client.write([`RTSP/1.0 200 OK`, `CSeq: ${cseq}`, ...extra, ...(body ? [`Content-Length: ${Buffer.byteLength(body)}`] : []), '', body].join('\r\n'));
        if (method === 'OPTIONS') reply(['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER']);
        else if (method === 'DESCRIBE') {
          const body = `${media}\r\na=control:trackID=0\r\n`;
          reply([`Content-Base: ${url}/`, 'Content-Type: application/sdp'], body);
        } else if (method === 'SETUP') reply([`Transport: RTP/AVP/TCP;unicast;interleaved=${RTP_CHANNEL}-${RTP_CHANNEL + 1}`, `Session: ${SESSION_ID}`]);
        else if (method === 'PLAY') {
          reply([`Session: ${SESSION_ID}`]);
          playing.add(client);
        } else if (method === 'TEARDOWN') {
          reply([`Session: ${SESSION_ID}`]);
          client.end();
        } else reply([`Session: ${SESSION_ID}`]);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `rtsp://127.0.0.1:${(server.address() as { port: number }).port}/stream`;

  return {
    url,
    dropClients() {
      for (const client of clients) client.destroy();
    },
    async close() {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rtp.close();
      await killAndWait(encoder);
    },
  };
}
