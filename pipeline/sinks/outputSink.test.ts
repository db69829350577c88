import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordingLogger } from '../core/log';
import type { FixFeature } from '../core/types';
import { fixFeature } from '../../tests/support/fixFeatures';
import { udpReceiver, type UdpReceiver } from '../../tests/support/loopback';
import { waitFor } from '../../tests/support/processes';
import { scratchDir } from '../../tests/support/scratch';
import type { OutputFormat } from './outputFormat';
import { OutputSink } from './outputSink';
import { parseOutputTarget, transportFor } from './outputTarget';

const frame = (n: number): FixFeature => fixFeature(7.5, 46.5, { frame: n, t: n / 10 });
/** "frame <n>" and "end <n>": two messages a fix, without newlines */
const twoPerFix: OutputFormat = { name: 'frames', encodeFix: (f) => [Buffer.from(`frame ${f.properties.frame}`), Buffer.from(`end ${f.properties.frame}`)] };
const onePerFix: OutputFormat = { name: 'frames', encodeFix: (f) => [Buffer.from(`frame ${f.properties.frame}`)] };
const udp = (port: number) => transportFor(parseOutputTarget(`udp://127.0.0.1:${port}`), { lines: false });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST = 1000;
const WAIT_MS = 5000;

describe('OutputSink', () => {
  let receiver: UdpReceiver;
  const sinks: OutputSink[] = [];
  const open = (...args: ConstructorParameters<typeof OutputSink>) => {
    const sink = new OutputSink(...args);
    sinks.push(sink);
    return sink;
  };

  beforeEach(async () => {
    receiver = await udpReceiver();
  });

  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((s) => s.close()));
    await receiver.close();
  });

  test('UDP: one datagram per message, each counted as sent', async () => {
    const sink = open('frames', twoPerFix, udp(receiver.port), { maxRateHz: FAST });
    for (let n = 0; n < 5; n++) {
      sink.fix(frame(n));
      await sleep(5);
    }
    await waitFor(() => receiver.datagrams.length === 10, WAIT_MS, '10 datagrams');
    expect(receiver.datagrams.map(String)).toEqual([0, 1, 2, 3, 4].flatMap((n) => [`frame ${n}`, `end ${n}`]));
    expect(sink.stats()).toMatchObject({ name: 'frames', target: `udp://127.0.0.1:${receiver.port}`, sent: 10, dropped: 0, errors: 0, cutOffs: 0, connected: true });
  });

  test('the rate limit runs on the flight\'s clock: a fix goes when 1/rate of its time has passed since the last one sent, however fast fixes arrive', async () => {
    const sink = open('frames', onePerFix, udp(receiver.port), { maxRateHz: 4 });
    await waitFor(() => sink.stats().connected, WAIT_MS, 'the socket');
    // fixes 0.1 s apart in flight time, all handed over at once: every 0.25 s of flight time, one
    for (let n = 0; n < 12; n++) sink.fix(frame(n));
    // a source that starts again counts from 0: its first fix goes
    sink.fix(frame(0));
    await sink.close();
    await waitFor(() => receiver.datagrams.length === 5, WAIT_MS, '5 datagrams');
    expect(receiver.datagrams.map(String)).toEqual(['frame 0', 'frame 3', 'frame 6', 'frame 9', 'frame 0']);
    expect(sink.stats()).toMatchObject({ sent: 5, dropped: 0 });
  });

  test('at the default rate every fix of a 5 fps flight goes', async () => {
    const fiveFps = (n: number): FixFeature => fixFeature(7.5, 46.5, { frame: n, t: Number((n * 0.2).toFixed(3)) });
    const sink = open('frames', onePerFix, udp(receiver.port));
    await waitFor(() => sink.stats().connected, WAIT_MS, 'the socket');
    for (let n = 0; n < 50; n++) sink.fix(fiveFps(n));
    await sink.close();
    await waitFor(() => receiver.datagrams.length === 50, WAIT_MS, '50 datagrams');
    expect(sink.stats()).toMatchObject({ sent: 50, dropped: 0 });
  });

  test('a file: appended, one message a line for a text format', async () => {
    const scratch = scratchDir('output-file');
    try {
      const path = join(scratch.dir, 'fixes.nmea');
      writeFileSync(path, 'earlier\n');
      const sink = open('frames', twoPerFix, transportFor(parseOutputTarget(path), { lines: true }), { maxRateHz: FAST });
      sink.fix(frame(1));
      await sleep(20);
      sink.fix(frame(2));
      await sink.close();
      expect(readFileSync(path, 'utf8')).toBe('earlier\nframe 1\nend 1\nframe 2\nend 2\n');
      expect(sink.stats()).toMatchObject({ target: path, sent: 4, dropped: 0, errors: 0 });
    } finally {
      scratch.remove();
    }
  });

  test('periodic messages go out on their timer without fixes, and stop at close', async () => {
    const heartbeat: OutputFormat = { name: 'beat', encodeFix: () => [], periodic: { intervalMs: 20, encode: () => [Buffer.from('beat')] } };
    const sink = open('beat', heartbeat, udp(receiver.port));
    await waitFor(() => receiver.datagrams.length >= 3, WAIT_MS, '3 heartbeats');
    await sink.close();
    // what left before close() resolved arrives; nothing after it
    await waitFor(() => receiver.datagrams.length === sink.stats().sent, WAIT_MS, 'the last heartbeat');
    await sleep(100);
    expect(receiver.datagrams.length).toBe(sink.stats().sent);
    expect(new Set(receiver.datagrams.map(String))).toEqual(new Set(['beat']));
  });

  test('an encoder that throws costs its output an error, never the pipeline', async () => {
    const logger = new RecordingLogger();
    const broken: OutputFormat = {
      name: 'broken',
      encodeFix: () => {
        throw new Error('no');
      },
    };
    const sink = open('broken', broken, udp(receiver.port), { logger });
    expect(() => sink.fix(frame(0))).not.toThrow();
    expect(sink.stats().errors).toBe(1);
    expect(logger.records.some((r) => r.level === 'warn' && /encoder failed/.test(r.message))).toBe(true);
  });

  test('options out of range are refused with GEOLOC_ERR_OUTPUT_OPTIONS, naming the option', () => {
    const refused = (options: ConstructorParameters<typeof OutputSink>[3]) => () => new OutputSink('x', onePerFix, udp(receiver.port), options);
    expect(refused({ maxRateHz: 0 })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_OUTPUT_OPTIONS', message: expect.stringContaining('maxRateHz') }));
    expect(refused({ maxQueuedMessages: 0 })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_OUTPUT_OPTIONS' }));
    expect(refused({ maxBufferedBytes: 1.5 })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_OUTPUT_OPTIONS' }));
    expect(refused({ backoff: { initialDelayMs: 100, maxDelayMs: 10 } })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_OUTPUT_OPTIONS' }));
  });
});

describe('parseOutputTarget', () => {
  test('udp://, tcp:// (IPv6 in brackets) and file paths', () => {
    expect(parseOutputTarget('udp://127.0.0.1:10110')).toEqual({ kind: 'udp', host: '127.0.0.1', port: 10110 });
    expect(parseOutputTarget('TCP://[::1]:5760/')).toEqual({ kind: 'tcp', host: '::1', port: 5760 });
    expect(parseOutputTarget('fixes.nmea')).toEqual({ kind: 'file', path: 'fixes.nmea' });
  });

  test.each(['http://127.0.0.1:80', 'udp://127.0.0.1', 'udp://127.0.0.1:0', 'udp://127.0.0.1:70000', 'tcp://127.0.0.1:5760/path', 'udp://127.0.0.1:1?x=1', '-', '', '/no/such/folder/fixes.nmea'])(
    '%j is refused with GEOLOC_ERR_OUTPUT_URL',
    (text) => {
      expect(() => parseOutputTarget(text)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_OUTPUT_URL' }));
    },
  );
});
