import { createGateway, type Gateway } from './server';
import { isFix, type ServerMessage, type WireFix } from './protocol';
import { TestClient, isFixOfFrame, isType, makeFix, scrapeMetric } from '../tests/support/gatewayClients';

const isError = isType('error');
const isSnapshot = isType('snapshot');
const isFlights = isType('flights');
const isUnsubscribed = isType('unsubscribed');
const fixesOf = (client: TestClient, flight: string): WireFix[] =>
  client.messages.filter((m): m is WireFix => isFix(m) && m.properties.flight === flight);

describe('gateway protocol', () => {
  let gateway: Gateway;
  const clients: TestClient[] = [];
  const connect = async () => {
    const client = await TestClient.connect(gateway.wsUrl);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    gateway = await createGateway({ snapshotSize: 3 });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await gateway.close();
  });

  test('a new client gets the flight list, then a snapshot on subscribe, then each fix in order', async () => {
    const client = await connect();
    const hello = await client.waitFor(isFlights);
    expect(hello.flights).toEqual([]);

    client.send({ type: 'subscribe', flight: 'f1' });
    const snapshot = await client.waitFor(isSnapshot);
    expect(snapshot).toEqual({ type: 'snapshot', flight: 'f1', features: [] });

    const before = Date.now();
    for (let frame = 0; frame < 5; frame++) gateway.publish('f1', makeFix('f1', frame));
    await client.waitFor(isFixOfFrame(4, 'f1'));
    const fixes = fixesOf(client, 'f1');
    expect(fixes.map((f) => f.properties.frame)).toEqual([0, 1, 2, 3, 4]);
    expect(fixes[0]).toMatchObject({ type: 'Feature', geometry: { type: 'Point', coordinates: makeFix('f1', 0).geometry.coordinates } });
    expect(fixes[0]!.properties.sentAt).toBeGreaterThanOrEqual(before);

    const list = await client.waitFor(isFlights, 1);
    expect(list.flights).toEqual([expect.objectContaining({ flight: 'f1' })]);
  });

  test('the snapshot holds the last snapshotSize fixes, oldest first', async () => {
    for (let frame = 0; frame < 5; frame++) gateway.publish('f1', makeFix('f1', frame));
    const client = await connect();
    client.send({ type: 'subscribe', flight: 'f1' });
    const snapshot = await client.waitFor(isSnapshot);
    expect(snapshot.features.map((f) => f.properties.frame)).toEqual([2, 3, 4]);
    expect(snapshot.features.every((f) => typeof f.properties.sentAt === 'number')).toBe(true);
  });

  test('a client gets only the flights it subscribes to, and nothing after unsubscribing', async () => {
    const client = await connect();
    client.send({ type: 'subscribe', flight: 'a' });
    client.send({ type: 'subscribe', flight: 'b' });
    await client.waitFor((m): m is ServerMessage => isSnapshot(m) && m.flight === 'b');
    gateway.publish('a', makeFix('a', 0));
    gateway.publish('b', makeFix('b', 0));
    gateway.publish('c', makeFix('c', 0));
    await client.waitFor(isFixOfFrame(0, 'b'));

    client.send({ type: 'unsubscribe', flight: 'a' });
    await client.waitFor(isUnsubscribed);
    gateway.publish('a', makeFix('a', 1));
    gateway.publish('b', makeFix('b', 1));
    await client.waitFor(isFixOfFrame(1, 'b'));

    expect(fixesOf(client, 'a').map((f) => f.properties.frame)).toEqual([0]);
    expect(fixesOf(client, 'c')).toEqual([]);
  });

  test('/api/flights lists every published flight with its fix count', async () => {
    gateway.publish('a', makeFix('a', 0));
    gateway.publish('a', makeFix('a', 1));
    gateway.publish('b', makeFix('b', 0));
    const body = (await (await fetch(`${gateway.url}/api/flights`)).json()) as { flights: Array<{ flight: string; fixes: number }> };
    expect(body.flights.map(({ flight, fixes }) => ({ flight, fixes }))).toEqual([
      { flight: 'a', fixes: 2 },
      { flight: 'b', fixes: 1 },
    ]);
  });

  test.each([
    ['not JSON', '{"type": "subscribe", ', 'GEOLOC_ERR_WS_MALFORMED', 'malformed'],
    ['a JSON array', '[1, 2]', 'GEOLOC_ERR_WS_MALFORMED', 'malformed'],
    ['no flight', '{"type":"subscribe"}', 'GEOLOC_ERR_WS_MALFORMED', 'malformed'],
    ['a flight that is not a string', '{"type":"subscribe","flight":42}', 'GEOLOC_ERR_WS_MALFORMED', 'malformed'],
    ['a flight name longer than 128 characters', JSON.stringify({ type: 'subscribe', flight: 'f'.repeat(129) }), 'GEOLOC_ERR_WS_MALFORMED', 'malformed'],
    ['a type that is not a string', '{"type":7,"flight":"f1"}', 'GEOLOC_ERR_WS_MALFORMED', 'malformed'],
    ['an unknown type', '{"type":"launch","flight":"f1"}', 'GEOLOC_ERR_WS_UNKNOWN_TYPE', 'unknown_type'],
  ])('%s gets a coded error, is counted, and the connection keeps working', async (_what, frame, code, reason) => {
    const client = await connect();
    client.send(frame);
    const error = await client.waitFor(isError);
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(0);
    expect(await scrapeMetric(gateway.url, 'geoloc_ws_rejected_total', { reason })).toBe(1);

    client.send({ type: 'subscribe', flight: 'f1' });
    await client.waitFor(isSnapshot);
    gateway.publish('f1', makeFix('f1', 0));
    await client.waitFor(isFixOfFrame(0, 'f1'));
  });

  test('a binary frame is refused as malformed', async () => {
    const client = await connect();
    client.ws.send(Buffer.from('{"type":"subscribe","flight":"f1"}'), { binary: true });
    expect((await client.waitFor(isError)).code).toBe('GEOLOC_ERR_WS_MALFORMED');
  });

  test('subscriptions past maxSubscriptionsPerClient are refused with a code', async () => {
    await gateway.close();
    gateway = await createGateway({ maxSubscriptionsPerClient: 2 });
    const client = await connect();
    for (const flight of ['a', 'b', 'c']) client.send({ type: 'subscribe', flight });
    expect((await client.waitFor(isError)).code).toBe('GEOLOC_ERR_WS_TOO_MANY_SUBSCRIPTIONS');
    expect(client.messages.filter(isSnapshot).map((s) => s.flight)).toEqual(['a', 'b']);
    expect(await scrapeMetric(gateway.url, 'geoloc_ws_rejected_total', { reason: 'too_many_subscriptions' })).toBe(1);
  });

  test('fixes published and fixes sent are counted', async () => {
    const [one, two] = [await connect(), await connect()];
    for (const client of [one, two]) {
      client.send({ type: 'subscribe', flight: 'f1' });
      await client.waitFor(isSnapshot);
    }
    for (let frame = 0; frame < 3; frame++) gateway.publish('f1', makeFix('f1', frame));
    await Promise.all([one, two].map((c) => c.waitFor(isFixOfFrame(2, 'f1'))));
    expect(await scrapeMetric(gateway.url, 'geoloc_fixes_published_total')).toBe(3);
    expect(await scrapeMetric(gateway.url, 'geoloc_fixes_out_total')).toBe(6);
    expect(await scrapeMetric(gateway.url, 'geoloc_ws_clients')).toBe(2);
  });

  test('the pipeline counters it is handed show up in /metrics', async () => {
    gateway.metrics.framesIn.inc(10);
    gateway.metrics.framesDropped.inc(2);
    gateway.metrics.inferenceLatency.observe(42);
    expect(await scrapeMetric(gateway.url, 'geoloc_frames_in_total')).toBe(10);
    expect(await scrapeMetric(gateway.url, 'geoloc_frames_dropped_total')).toBe(2);
    expect(await scrapeMetric(gateway.url, 'geoloc_inference_latency_ms_count')).toBe(1);
    expect(await scrapeMetric(gateway.url, 'geoloc_inference_latency_ms_bucket', { le: '50' })).toBe(1);
    expect(await scrapeMetric(gateway.url, 'geoloc_inference_latency_ms_bucket', { le: '25' })).toBe(0);
  });

  test('close() says 1001 to clients, is idempotent, and publish after it is ignored', async () => {
    const client = await connect();
    await Promise.all([gateway.close(), gateway.close()]);
    expect(await client.waitForClose()).toBe(1001);
    expect(() => gateway.publish('f1', makeFix('f1', 0))).not.toThrow();
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
  });
});
