import { createGateway, type Gateway } from './server';
import type { GatewayOptions } from './options';
import { TestClient, httpGet, isType, scrapeMetric, waitUntil } from '../tests/support/gatewayClients';

const isSnapshot = isType('snapshot');

/** Resolves with the HTTP status (and coded body) of a refused upgrade; fails if the upgrade succeeds. */
async function refusedUpgrade(url: string, options: Parameters<typeof TestClient.connect>[1] = {}): Promise<{ status: number; code: string }> {
  try {
    const client = await TestClient.connect(url, options);
    await client.close();
  } catch (err) {
    const { status, body } = err as { status?: number; body?: string };
    if (status === undefined || body === undefined) throw err;
    return { status, code: (JSON.parse(body) as { code: string }).code };
  }
  throw new Error(`upgrade to ${url} was accepted`);
}

describe('gateway security and limits', () => {
  let gateway: Gateway | undefined;
  const clients: TestClient[] = [];
  const start = async (options: GatewayOptions) => {
    gateway = await createGateway(options);
    return gateway;
  };
  const connect = async (url: string, options = {}) => {
    const client = await TestClient.connect(url, options);
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await gateway?.close();
    gateway = undefined;
  });

  test('a frame over maxPayload closes the connection with 1009 and is counted', async () => {
    const gw = await start({ maxPayload: 256 });
    const client = await connect(gw.wsUrl);
    client.send({ type: 'subscribe', flight: 'x'.repeat(300) });
    expect(await client.waitForClose()).toBe(1009);
    expect(await scrapeMetric(gw.url, 'geoloc_ws_rejected_total', { reason: 'payload_too_large' })).toBe(1);
    const healthy = await connect(gw.wsUrl);
    healthy.send({ type: 'subscribe', flight: 'f1' });
    await healthy.waitFor(isSnapshot);
  });

  describe('with a token', () => {
    const token = 's3cret-token';

    test('a missing or wrong token is refused with 401, a right one is let in by header or query', async () => {
      const gw = await start({ token });
      expect(await refusedUpgrade(gw.wsUrl)).toEqual({ status: 401, code: 'GEOLOC_ERR_WS_UNAUTHORIZED' });
      expect(await refusedUpgrade(gw.wsUrl, { headers: { Authorization: 'Bearer wrong' } })).toEqual({ status: 401, code: 'GEOLOC_ERR_WS_UNAUTHORIZED' });
      expect(await refusedUpgrade(`${gw.wsUrl}?token=${token}x`)).toEqual({ status: 401, code: 'GEOLOC_ERR_WS_UNAUTHORIZED' });
      expect(await scrapeMetric(gw.url, 'geoloc_ws_rejected_total', { reason: 'unauthorized' })).toBe(3);

      await connect(gw.wsUrl, { headers: { Authorization: `Bearer ${token}` } });
      await connect(`${gw.wsUrl}?token=${encodeURIComponent(token)}`);
      expect(gw.clientCount()).toBe(2);
    });

    test('/api/flights needs the token too', async () => {
      const gw = await start({ token });
      const refused = await fetch(`${gw.url}/api/flights`);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { code: string }).code).toBe('GEOLOC_ERR_WS_UNAUTHORIZED');
      expect(await scrapeMetric(gw.url, 'geoloc_http_rejected_total', { reason: 'unauthorized' })).toBe(1);
      const allowed = await fetch(`${gw.url}/api/flights`, { headers: { Authorization: `Bearer ${token}` } });
      expect(allowed.status).toBe(200);
    });
  });

  describe('hosts (DNS rebinding)', () => {
    test('a request naming a Host the gateway was not told about is refused with 403 and counted, HTTP and WebSocket alike', async () => {
      const gw = await start({});
      // What a page on attacker.example, re-pointed at 127.0.0.1, sends: its own name as Host and Origin.
      const host = `attacker.example:${gw.port}`;
      const flights = await httpGet(gw.url, '/api/flights', { Host: host });
      expect(flights.status).toBe(403);
      expect(JSON.parse(flights.body)).toEqual({ code: 'GEOLOC_ERR_HTTP_HOST', message: expect.stringContaining('--allowed-hosts attacker.example') });
      expect((await httpGet(gw.url, '/healthz', { Host: host })).status).toBe(403);
      expect(await refusedUpgrade(gw.wsUrl, { headers: { Host: host }, origin: `http://${host}` })).toEqual({ status: 403, code: 'GEOLOC_ERR_HTTP_HOST' });
      expect(await scrapeMetric(gw.url, 'geoloc_http_rejected_total', { reason: 'host' })).toBe(2);
      expect(await scrapeMetric(gw.url, 'geoloc_ws_rejected_total', { reason: 'host' })).toBe(1);
    });

    test('listening on loopback, localhost, 127.0.0.1 and [::1] are answered, at any port', async () => {
      const gw = await start({});
      for (const host of [`localhost:${gw.port}`, `127.0.0.1:${gw.port}`, `[::1]:${gw.port}`, 'localhost']) {
        expect([host, (await httpGet(gw.url, '/api/flights', { Host: host })).status]).toEqual([host, 200]);
      }
    });

    test('publicUrl and allowedHosts name more hosts; publicUrl\'s origin may open a WebSocket', async () => {
      const gw = await start({ publicUrl: 'https://ground.example', allowedHosts: ['map.lan'] });
      expect((await httpGet(gw.url, '/healthz', { Host: 'ground.example' })).status).toBe(200);
      expect((await httpGet(gw.url, '/healthz', { Host: `map.lan:${gw.port}` })).status).toBe(200);
      expect((await httpGet(gw.url, '/healthz', { Host: 'other.example' })).status).toBe(403);
      await connect(gw.wsUrl, { headers: { Host: 'ground.example' }, origin: 'https://ground.example' });
      expect(await refusedUpgrade(gw.wsUrl, { headers: { Host: 'ground.example' }, origin: 'https://other.example' })).toEqual({ status: 403, code: 'GEOLOC_ERR_WS_ORIGIN' });
    });
  });

  describe('origins', () => {
    test('by default the allowed hosts at the gateway\'s port (or no origin) may connect; not another local port', async () => {
      const gw = await start({});
      expect(await refusedUpgrade(gw.wsUrl, { origin: 'http://evil.example' })).toEqual({ status: 403, code: 'GEOLOC_ERR_WS_ORIGIN' });
      expect(await refusedUpgrade(gw.wsUrl, { origin: 'http://localhost:3000' })).toEqual({ status: 403, code: 'GEOLOC_ERR_WS_ORIGIN' });
      await connect(gw.wsUrl, { origin: gw.url });
      await connect(gw.wsUrl, { origin: `http://localhost:${gw.port}` });
      await connect(gw.wsUrl);
      expect(await scrapeMetric(gw.url, 'geoloc_ws_rejected_total', { reason: 'origin' })).toBe(2);
    });

    test('an allow-list lets in exactly its origins', async () => {
      const gw = await start({ allowedOrigins: ['https://ground.example'] });
      await connect(gw.wsUrl, { origin: 'https://ground.example' });
      expect((await refusedUpgrade(gw.wsUrl, { origin: 'https://ground.example.evil' })).status).toBe(403);
      expect((await refusedUpgrade(gw.wsUrl, { origin: gw.url })).status).toBe(403);
    });
  });

  test('a client that never answers pings is terminated; one that does stays', async () => {
    const heartbeatIntervalMs = 100;
    const gw = await start({ heartbeatIntervalMs });
    const silent = await connect(gw.wsUrl, { autoPong: false });
    const lively = await connect(gw.wsUrl);
    await silent.waitForClose(heartbeatIntervalMs * 20);
    expect(silent.closeCode).toBe(1006);
    expect(await scrapeMetric(gw.url, 'geoloc_ws_terminated_total', { reason: 'heartbeat' })).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, heartbeatIntervalMs * 3));
    expect(lively.closeCode).toBeUndefined();
    expect(gw.clientCount()).toBe(1);
  });

  test('a flood of connections past maxClients is refused with 503, counted, and room frees up', async () => {
    const maxClients = 3;
    const flood = 12;
    const gw = await start({ maxClients });
    const attempts = await Promise.allSettled(Array.from({ length: flood }, () => TestClient.connect(gw.wsUrl)));
    const accepted = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    clients.push(...accepted);
    const refused = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as { status?: number; body?: string }] : []));
    expect(accepted).toHaveLength(maxClients);
    expect(refused.map((r) => r.status)).toEqual(Array(flood - maxClients).fill(503));
    expect(refused.every((r) => JSON.parse(r.body!).code === 'GEOLOC_ERR_WS_TOO_MANY_CONNECTIONS')).toBe(true);
    expect(await scrapeMetric(gw.url, 'geoloc_ws_rejected_total', { reason: 'too_many_connections' })).toBe(flood - maxClients);

    await accepted[0]!.close();
    await waitUntil(() => gw.clientCount() < maxClients);
    const late = await connect(gw.wsUrl);
    late.send({ type: 'subscribe', flight: 'f1' });
    await late.waitFor(isSnapshot);
  });

  test('an upgrade on a path other than /ws gets 404', async () => {
    const gw = await start({});
    expect(await refusedUpgrade(`${gw.url.replace('http', 'ws')}/socket`)).toEqual({ status: 404, code: 'GEOLOC_ERR_WS_NOT_FOUND' });
    expect(await scrapeMetric(gw.url, 'geoloc_ws_rejected_total', { reason: 'not_found' })).toBe(1);
  });

  test('impossible options are refused with a code', async () => {
    await expect(createGateway({ highWaterMark: 1000, hardLimit: 500 })).rejects.toMatchObject({ code: 'GEOLOC_ERR_GATEWAY_OPTIONS' });
    await expect(createGateway({ port: 70000 })).rejects.toMatchObject({ code: 'GEOLOC_ERR_GATEWAY_OPTIONS' });
    await expect(createGateway({ token: '' })).rejects.toMatchObject({ code: 'GEOLOC_ERR_GATEWAY_OPTIONS' });
    await expect(createGateway({ publicUrl: 'ground.example' })).rejects.toMatchObject({ code: 'GEOLOC_ERR_GATEWAY_OPTIONS' });
    await expect(createGateway({ allowedHosts: ['http://ground.example'] })).rejects.toMatchObject({ code: 'GEOLOC_ERR_GATEWAY_OPTIONS' });
    await expect(createGateway({ headersTimeoutMs: 5000, requestTimeoutMs: 1000 })).rejects.toMatchObject({ code: 'GEOLOC_ERR_GATEWAY_OPTIONS' });
    await expect(createGateway({ maxConnectionsPerAddress: 0 })).rejects.toMatchObject({ code: 'GEOLOC_ERR_GATEWAY_OPTIONS' });
  });

  test('a port in use is refused with a code', async () => {
    const gw = await start({});
    await expect(createGateway({ port: gw.port })).rejects.toMatchObject({ code: 'GEOLOC_ERR_GATEWAY_LISTEN' });
  });
});
