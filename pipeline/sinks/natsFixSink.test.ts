/**
 * The NATS fix sink against a real nats-server with JetStream: fixes stored in order with their
 * claim, a fix published twice stored once, and a server restarted mid-flight: the fixes made
 * meanwhile wait in the bounded buffer, go out in order once it is back, and those beyond the
 * buffer are dropped oldest first and counted.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { RecordingLogger } from '../core/log';
import { connectNats } from '../nats/connect';
import { FIXES_STREAM, fixMessageId, fixSubject } from '../nats/names';
import { ensureStreams } from '../nats/streams';
import { makeFix } from '../../tests/support/gatewayClients';
import { ensureNats, type NatsServer, startNats } from '../../tests/support/nats';
import { waitFor } from '../../tests/support/processes';
import { NatsFixSink } from './natsFixSink';

const WAIT_MS = 15_000;

/** Every fix stored for a flight, in stream order. */
async function storedFixes(nc: NatsConnection, flight: string): Promise<Array<Record<string, any>>> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(FIXES_STREAM, { subjects_filter: fixSubject(flight) });
  const count = (state.subjects as Record<string, number> | undefined)?.[fixSubject(flight)] ?? 0;
  const consumer = await jetstream(nc).consumers.get(FIXES_STREAM, { filter_subjects: fixSubject(flight), deliver_policy: DeliverPolicy.All });
  const fixes: Array<Record<string, any>> = [];
  if (count === 0) return fixes;
  for await (const msg of await consumer.consume()) {
    fixes.push(msg.json<Record<string, any>>());
    if (fixes.length === count) break;
  }
  return fixes;
}

describe('NatsFixSink', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    ensureNats();
    server = await startNats();
    nc = await connectNats(server.url, { logger });
    await ensureStreams(nc);
  });

  afterAll(async () => {
    await nc?.close();
    await server?.remove();
  });

  test('stores each fix once, in order, with its flight, claim and publish time', async () => {
    const sink = new NatsFixSink(jetstream(nc), { flight: 'order', claim: 2, logger });
    for (let frame = 0; frame < 20; frame += 1) sink.fix(makeFix('order', frame), 5);
    sink.fix(makeFix('order', 7), 5);
    await sink.flush(WAIT_MS);
    const fixes = await storedFixes(nc, 'order');
    expect(fixes.map((f) => f.properties.frame)).toEqual([...Array(20).keys()]);
    expect(fixes.every((f) => f.properties.claim === 2 && f.properties.flight === 'order' && typeof f.properties.emittedAt === 'number')).toBe(true);
    expect(sink.stats()).toMatchObject({ published: 21, buffered: 0, dropped: 0 });
    // the twenty-first was frame 7 again: JetStream kept the first
    const again = await jetstream(nc).publish(fixSubject('order'), '{}', { msgID: fixMessageId('order', 2, 7) });
    expect(again.duplicate).toBe(true);
  });

  test('a restarted server gets the buffered fixes in order; beyond the buffer the oldest are dropped and counted', async () => {
    const buffer = 5;
    const sink = new NatsFixSink(jetstream(nc), { flight: 'restart', claim: 1, maxBuffered: buffer, retry: { initialDelayMs: 50, maxDelayMs: 200 }, publishTimeoutMs: 500, logger });
    for (let frame = 0; frame < 5; frame += 1) sink.fix(makeFix('restart', frame), 5);
    await sink.flush(WAIT_MS);
    await server.stop();
    const during = 12;
    for (let frame = 5; frame < 5 + during; frame += 1) sink.fix(makeFix('restart', frame), 5);
    expect(sink.stats().buffered).toBeLessThanOrEqual(buffer);
    await server.restart();
    await waitFor(() => sink.stats().buffered === 0, WAIT_MS, 'the buffer to empty');
    const frames = (await storedFixes(nc, 'restart')).map((f) => f.properties.frame);
    // frame 5 was on its way when the server went (it may have been stored: it stays); the
    // buffer then held the newest four, the seven between were dropped
    const kept = [5, ...[...Array(buffer - 1).keys()].map((i) => 5 + during - (buffer - 1) + i)];
    expect(frames).toEqual([0, 1, 2, 3, 4, ...kept]);
    expect(sink.stats()).toMatchObject({ dropped: during - kept.length, buffered: 0 });
    expect(logger.withCode('GEOLOC_ERR_NATS_FIXES_DROPPED').length).toBeGreaterThan(0);
    expect(logger.withCode('GEOLOC_ERR_NATS_UNREACHABLE').length).toBeGreaterThan(0);
  });
});
