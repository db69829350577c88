/**
 * Outputs whose consumers misbehave, on loopback: a TCP server that refuses, then accepts, then
 * stalls; a UDP port nobody listens on. A source of fixes keeps its pace through all of it, a
 * healthy output beside them gets every fix, and every fault is bounded and counted.
 */
import { RecordingLogger } from '../core/log';
import { percentile } from '../core/stats';
import { straightFlight } from '../../tests/support/fixFeatures';
import { tcpConsumer, type TcpConsumer, udpReceiver, type UdpReceiver } from '../../tests/support/loopback';
import { freeTcpPort, freeUdpPort, waitFor } from '../../tests/support/processes';
import { nmeaFormat } from './nmea';
import type { OutputFormat } from './outputFormat';
import { OutputSink } from './outputSink';
import { parseOutputTarget, transportFor } from './outputTarget';

const RATE_HZ = 50;
const TICK_MS = 1000 / RATE_HZ;
/** a big message a fix, so that a stalled reader fills the kernel's buffers in a second or two */
const BULK = Buffer.alloc(64 * 1024, 'x');
const bulk: OutputFormat = { name: 'bulk', encodeFix: () => [BULK] };
const QUEUE = 8;
const MAX_BUFFERED = 1024 * 1024;
const PHASE_TIMEOUT_MS = 20_000;
const REFUSING_MS = 600;

const target = (url: string) => transportFor(parseOutputTarget(url), { lines: false });

describe('outputs whose consumers misbehave', () => {
  let consumer: TcpConsumer | undefined;
  let healthy: UdpReceiver;
  let sinks: OutputSink[] = [];
  let timer: NodeJS.Timeout | undefined;

  afterEach(async () => {
    clearInterval(timer);
    await Promise.all(sinks.map((s) => s.close()));
    await Promise.all([consumer?.close(), healthy?.close()]);
  });

  test('refusing, accepting, then stalling TCP and a deaf UDP port: the source keeps its pace, the faults are bounded and counted', async () => {
    const logger = new RecordingLogger();
    const tcpPort = await freeTcpPort();
    const deafPort = await freeUdpPort();
    healthy = await udpReceiver();
    const backoff = { initialDelayMs: 50, maxDelayMs: 200 };
    const tcp = new OutputSink('bulk', bulk, target(`tcp://127.0.0.1:${tcpPort}`), { maxRateHz: RATE_HZ * 2, maxQueuedMessages: QUEUE, maxBufferedBytes: MAX_BUFFERED, backoff, logger });
    const deaf = new OutputSink('nmea#1', nmeaFormat(), target(`udp://127.0.0.1:${deafPort}`), { maxRateHz: RATE_HZ * 2, logger });
    const good = new OutputSink('nmea#2', nmeaFormat(), target(`udp://127.0.0.1:${healthy.port}`), { maxRateHz: RATE_HZ * 2, logger });
    sinks = [tcp, deaf, good];

    // the source: a fix every TICK_MS into every sink, timing each hand-over
    const fixes = straightFlight(1000, { rateHz: RATE_HZ });
    const handOverMs: number[] = [];
    let emitted = 0;
    const started = performance.now();
    timer = setInterval(() => {
      const fix = fixes[emitted++ % fixes.length]!;
      const t0 = performance.now();
      for (const sink of sinks) sink.fix(fix);
      handOverMs.push(performance.now() - t0);
    }, TICK_MS);

    // 1. nobody listens on the TCP port: refusals counted, the queue holds the newest QUEUE messages
    await new Promise((r) => setTimeout(r, REFUSING_MS));
    const refusing = tcp.stats();
    expect(refusing.connected).toBe(false);
    expect(refusing.errors).toBeGreaterThanOrEqual(2);
    expect(refusing.queued).toBeLessThanOrEqual(QUEUE);
    expect(refusing.dropped).toBeGreaterThan(0);
    expect(refusing.sent).toBe(0);

    // 2. it accepts: the output reconnects by itself and its data flows
    consumer = await tcpConsumer(tcpPort);
    await waitFor(() => tcp.stats().connected && consumer!.bytes >= 4 * BULK.length, PHASE_TIMEOUT_MS, 'the TCP output to reconnect and deliver');
    expect(tcp.stats().sent).toBeGreaterThan(0);

    // 3. it stops reading: cut off once MAX_BUFFERED bytes sit unsent, its unsent messages dropped, reconnected
    consumer.stall();
    const before = tcp.stats();
    await waitFor(() => tcp.stats().cutOffs >= 1, PHASE_TIMEOUT_MS, 'the stalled consumer to be cut off');
    const cut = tcp.stats();
    expect(cut.dropped).toBeGreaterThan(before.dropped);
    expect(cut.errors).toBeGreaterThan(before.errors);
    expect(cut.bufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED + BULK.length);
    consumer.resume();
    await waitFor(() => consumer!.connections >= 2 && tcp.stats().connected, PHASE_TIMEOUT_MS, 'the TCP output to reconnect after the cut-off');
    expect(logger.withCode('GEOLOC_ERR_OUTPUT_STALLED').length).toBeGreaterThanOrEqual(1);

    clearInterval(timer);
    const elapsedMs = performance.now() - started;

    // the source kept its pace and never waited on an output
    const sorted = [...handOverMs].sort((a, b) => a - b);
    expect(emitted).toBeGreaterThan(0.7 * (elapsedMs / TICK_MS));
    expect(percentile(sorted, 95)).toBeLessThan(2);

    // the deaf UDP port: datagrams leave, the kernel's refusals are counted, once logged
    expect(deaf.stats()).toMatchObject({ connected: true, cutOffs: 0 });
    expect(deaf.stats().sent).toBeGreaterThan(0);
    expect(deaf.stats().errors).toBeGreaterThan(0);
    expect(logger.withCode('GEOLOC_ERR_OUTPUT_UNAVAILABLE').filter((r) => r.message.startsWith('nmea#1'))).toHaveLength(1);

    // the healthy output beside them got every fix
    await waitFor(() => healthy.datagrams.length >= emitted, PHASE_TIMEOUT_MS, 'the healthy output to deliver every fix');
    expect(good.stats()).toMatchObject({ dropped: 0, errors: 0, cutOffs: 0 });
  });
});
