import type { Socket } from 'node:net';
import { createGateway, type Gateway } from './server';
import { isFix, type WireFix } from './protocol';
import { TestClient, isFixOfFrame, isType, makeFix, scrapeMetric, waitUntil } from '../tests/support/gatewayClients';

const isSnapshot = isType('snapshot');
/** Big fixes fill the socket buffers quickly, so the test needs few of them. */
const PADDING = 'x'.repeat(4096);
const FIXES = 1500;

const frames = (client: TestClient) => client.messages.filter((m): m is WireFix => isFix(m)).map((m) => m.properties.frame);
/** The socket under a ws client: pausing it stops reading, as a stalled peer would. */
const socketOf = (client: TestClient) => (client.ws as unknown as { _socket: Socket })._socket;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const paddedFix = (frame: number) => {
  const fix = makeFix('f1', frame);
  return { ...fix, properties: { ...fix.properties, padding: PADDING } };
};

async function subscribed(gateway: Gateway, flight: string): Promise<TestClient> {
  const client = await TestClient.connect(gateway.wsUrl);
  client.send({ type: 'subscribe', flight });
  await client.waitFor(isSnapshot);
  return client;
}

describe('slow clients', () => {
  let gateway: Gateway;
  const clients: TestClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await gateway.close();
  });

  test('a stalled client skips to the latest fix while a healthy one gets every fix in order', async () => {
    gateway = await createGateway({ highWaterMark: 16 * 1024, hardLimit: 64 * 1024 * 1024, snapshotSize: 1 });
    const healthy = await subscribed(gateway, 'f1');
    const slow = await subscribed(gateway, 'f1');
    clients.push(healthy, slow);
    socketOf(slow).pause();

    for (let frame = 0; frame < FIXES; frame++) {
      gateway.publish('f1', paddedFix(frame));
      await nextTurn();
    }
    await healthy.waitFor(isFixOfFrame(FIXES - 1), 0, 20_000);
    expect(frames(healthy)).toEqual(Array.from({ length: FIXES }, (_, i) => i));

    const skipped = await scrapeMetric(gateway.url, 'geoloc_ws_messages_skipped_total');
    expect(skipped).toBeGreaterThan(0);
    expect(await scrapeMetric(gateway.url, 'geoloc_ws_bytes_queued')).toBeGreaterThan(16 * 1024);

    socketOf(slow).resume();
    await slow.waitFor(isFixOfFrame(FIXES - 1), 0, 20_000);
    const received = frames(slow);
    expect(received.at(-1)).toBe(FIXES - 1);
    expect(received.length).toBeLessThan(FIXES);
    expect(received.every((frame, i) => i === 0 || frame > received[i - 1]!)).toBe(true);
    // Every fix was either delivered to the slow client or counted as skipped.
    expect(received.length + skipped).toBe(FIXES);
  });

  test('a client whose queue passes the hard limit is closed and counted; the others carry on', async () => {
    gateway = await createGateway({ highWaterMark: 8 * 1024, hardLimit: 256 * 1024, snapshotSize: 200, maxPayload: 1024 });
    for (let frame = 0; frame < 200; frame++) {
      gateway.publish('f1', paddedFix(frame));
    }
    const healthy = await subscribed(gateway, 'f1');
    const greedy = await TestClient.connect(gateway.wsUrl);
    clients.push(healthy, greedy);
    socketOf(greedy).pause();
    // Each subscribe asks for an ~800 KB snapshot the stalled client never reads.
    while ((await scrapeMetric(gateway.url, 'geoloc_ws_terminated_total', { reason: 'hard_limit' })) === 0) {
      greedy.send({ type: 'subscribe', flight: 'f1' });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitUntil(() => gateway.clientCount() === 1);

    gateway.publish('f1', makeFix('f1', 200));
    await healthy.waitFor(isFixOfFrame(200));
  });
});
