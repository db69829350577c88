/**
 * Connections that never finish a request (slowloris), and the requests node's parser
 * refuses. Every socket these tests open is on loopback and closed before the test ends.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { get, maxHeaderSize } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../pipeline/core/paths';
import { startGatewayProcess } from '../tests/support/gatewayProcess';
import { GATEWAY_DEFAULTS } from './options';
import { createGateway, type Gateway } from './server';
import { TestClient, isType, scrapeMetric, waitUntil } from '../tests/support/gatewayClients';
import { Trickler, startTricklerProcess, type TrickleCounts } from '../tests/support/trickler';

/** With 64 WebSocket clients the gateway keeps 64 + 256 = 320 connections: the tester's 320 tricklers. */
const MAX_CLIENTS = 64;
const TRICKLERS = 1000;
/** Trickler processes, each with its own loopback source addresses (and descriptor table). */
const TRICKLER_PROCESSES = 2;
const ADDRESSES_PER_PROCESS = 8;
/** Also how long a closed trickler waits before it reconnects: a persistent attacker, not a CPU flood. */
const TRICKLE_INTERVAL_MS = 1000;
/** How long the gateway is probed while the tricklers trickle; well under headersTimeoutMs. */
const TRICKLE_MS = 3000;
const PROBE_INTERVAL_MS = 100;
/** Probed at least this often, however slowly a loaded machine answers. */
const MIN_PROBES = 10;
const BASELINE_PROBES = 5;
/**
 * A probe not answered by then fails. Idle, probes take milliseconds; with the CPUs starved, a
 * new connection can wait seconds in the kernel's accept queue behind the tricklers' reconnects.
 */
const PROBE_TIMEOUT_MS = 5000;
const ARTIFACTS = join(repoRoot(), 'test-artifacts');

interface Probe {
  status: number | string;
  ms: number;
}

/** GET /healthz on a fresh connection; the status, or the error code of a connection that failed. */
function probeHealthz(port: number, localAddress = '127.0.0.1'): Promise<Probe> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, localAddress, path: '/healthz', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: elapsed() }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? err.message, ms: elapsed() }));
    req.setTimeout(PROBE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('probe timed out'), { code: 'TIMEOUT' })));
  });
}

/** 127.0.0.<first>, 127.0.0.<first + 1>, ... */
const loopbackAddresses = (first: number, count: number) => Array.from({ length: count }, (_, i) => `127.0.0.${first + i}`);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

describe('slow and malformed clients', () => {
  test(`the gateway answers /healthz and WebSocket connects while ${TRICKLERS} sockets from ${TRICKLER_PROCESSES * ADDRESSES_PER_PROCESS} addresses trickle headers`, async () => {
    const gateway = await startGatewayProcess({ maxClients: MAX_CLIENTS });
    const baseline: Probe[] = [];
    for (let i = 0; i < BASELINE_PROBES; i++) baseline.push(await probeHealthz(gateway.port));
    const tricklers = await Promise.all(
      Array.from({ length: TRICKLER_PROCESSES }, (_, i) =>
        startTricklerProcess({
          port: gateway.port,
          sockets: TRICKLERS / TRICKLER_PROCESSES,
          localAddresses: loopbackAddresses(2 + i * ADDRESSES_PER_PROCESS, ADDRESSES_PER_PROCESS),
          intervalMs: TRICKLE_INTERVAL_MS,
          reconnect: true,
        }),
      ),
    );
    let counts: TrickleCounts[] = [];
    try {
      const probes: Probe[] = [];
      const deadline = performance.now() + TRICKLE_MS;
      let webSocket: string | undefined;
      const wsProbe = TestClient.connect(gateway.wsUrl).then(async (client) => {
        client.send({ type: 'subscribe', flight: 'f1' });
        await client.waitFor(isType('snapshot'));
        await client.close();
        webSocket = 'subscribed';
      }, (err: Error) => (webSocket = err.message));
      while (performance.now() < deadline || probes.length < MIN_PROBES) {
        probes.push(await probeHealthz(gateway.port));
        await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
      }
      await wsProbe;
      counts = await Promise.all(tricklers.map((t) => t.stop()));
      // undefined for a metric the gateway lacks: the figures are written either way, the expectations fail.
      const metric = (name: string, labels?: Record<string, string>) => scrapeMetric(gateway.url, name, labels).catch(() => undefined);
      const gatewayCounts = {
        evicted: await metric('geoloc_http_connections_evicted_total'),
        refusedPerAddress: await metric('geoloc_http_connections_refused_total', { limit: 'per_address' }),
        refusedTotal: await metric('geoloc_http_connections_refused_total', { limit: 'total' }),
        headersTimeouts: await metric('geoloc_http_client_errors_total', { reason: 'headers_timeout' }),
      };
      const latencies = probes.map((p) => p.ms).sort((a, b) => a - b);
      const figures = {
        tricklers: TRICKLERS,
        gatewayConnectionLimit: MAX_CLIENTS + 256,
        baselineHealthzMs: baseline.map((p) => p.ms),
        probes: probes.length,
        failed: probes.filter((p) => p.status !== 200),
        healthzMs: { p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), max: latencies.at(-1) },
        webSocket,
        gateway: gatewayCounts,
        trickle: counts,
      };
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, 'gateway-slowloris.json'), `${JSON.stringify(figures, null, 2)}\n`);

      expect(figures.failed).toEqual([]);
      expect(webSocket).toBe('subscribed');
      // The gateway was held at its limit, and made room by closing tricklers ...
      expect(gatewayCounts.evicted).toBeGreaterThan(0);
      expect(counts.reduce((sum, c) => sum + c.closedByGateway, 0)).toBeGreaterThan(0);
      // ... not because an address went over its limit (none had enough sockets to) or a trickle ran out of time.
      expect(Math.ceil(TRICKLERS / (TRICKLER_PROCESSES * ADDRESSES_PER_PROCESS))).toBeLessThanOrEqual(GATEWAY_DEFAULTS.maxConnectionsPerAddress);
      expect(gatewayCounts.refusedPerAddress).toBe(0);
      expect(gatewayCounts.headersTimeouts).toBe(0);
    } finally {
      if (counts.length === 0) await Promise.all(tricklers.map((t) => t.stop()));
      await gateway.stop();
    }
  });

  describe('in this process', () => {
    let gateway: Gateway | undefined;

    afterEach(async () => {
      await gateway?.close();
      gateway = undefined;
    });

    test('an address past maxConnectionsPerAddress has its next connections closed at once, and counted; other addresses are served', async () => {
      const over = 3;
      const limit = GATEWAY_DEFAULTS.maxConnectionsPerAddress;
      gateway = await createGateway({});
      const trickler = new Trickler({ port: gateway.port, sockets: limit + over, localAddresses: ['127.0.0.2'], intervalMs: TRICKLE_INTERVAL_MS, reconnect: false });
      try {
        await trickler.settled();
        const gw = gateway;
        await waitUntil(() => trickler.counts.closedByGateway === over);
        expect(await scrapeMetric(gw.url, 'geoloc_http_connections_refused_total', { limit: 'per_address' })).toBe(over);
        expect(trickler.connected).toBe(limit);
        // Closed before its request is read: a reset, or a broken pipe if the request was still being written.
        expect(['ECONNRESET', 'EPIPE']).toContain((await probeHealthz(gw.port, '127.0.0.2')).status);
        expect((await probeHealthz(gw.port, '127.0.0.3')).status).toBe(200);
      } finally {
        await trickler.stop();
      }
    });

    test('headers not all in within headersTimeoutMs are answered 408 with a code, and counted', async () => {
      const headersTimeoutMs = 300;
      gateway = await createGateway({ headersTimeoutMs, requestTimeoutMs: headersTimeoutMs * 2 });
      const trickler = new Trickler({ port: gateway.port, sockets: 2, localAddresses: ['127.0.0.2'], intervalMs: headersTimeoutMs / 3, reconnect: false });
      try {
        await trickler.settled();
        await waitUntil(() => trickler.counts.closedByGateway === 2, headersTimeoutMs * 10);
        expect(trickler.counts.answers).toEqual({ 'HTTP/1.1 408 Request Timeout': 2 });
        expect(await scrapeMetric(gateway.url, 'geoloc_http_client_errors_total', { reason: 'headers_timeout' })).toBe(2);
      } finally {
        await trickler.stop();
      }
    });

    test('a body still trickling in at requestTimeoutMs is cut off, and counted apart from header timeouts', async () => {
      const headersTimeoutMs = 300;
      gateway = await createGateway({ headersTimeoutMs, requestTimeoutMs: headersTimeoutMs * 2 });
      const socket = connect({ host: '127.0.0.1', port: gateway.port });
      let answer = '';
      let closed = false;
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('error', () => undefined); // cut off with the body unread: a reset
      socket.once('close', () => (closed = true));
      socket.write('POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n');
      const trickle = setInterval(() => socket.writable && socket.write('x'), headersTimeoutMs / 3);
      try {
        await waitUntil(() => closed, headersTimeoutMs * 10);
      } finally {
        clearInterval(trickle);
        socket.destroy();
      }
      // The request was refused (405) as soon as its headers were in; the timeout only ends the connection.
      expect(answer.split('\r\n', 1)[0]).toBe('HTTP/1.1 405 Method Not Allowed');
      expect(await scrapeMetric(gateway.url, 'geoloc_http_client_errors_total', { reason: 'request_timeout' })).toBe(1);
      expect(await scrapeMetric(gateway.url, 'geoloc_http_client_errors_total', { reason: 'headers_timeout' })).toBe(0);
    });

    test.each([
      ['a request line that is not HTTP', 400, 'malformed', 'NOT HTTP AT ALL\r\n\r\n'],
      ['a header without a colon', 400, 'malformed', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n'],
      ['headers past maxHeaderSize', 431, 'header_overflow', `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'x'.repeat(maxHeaderSize + 1)}\r\n\r\n`],
    ])('%s is answered %d with a code, and counted as %s', async (_what, status, reason, request) => {
      gateway = await createGateway({});
      const answer = await rawExchange(gateway.port, request);
      expect(answer.split('\r\n', 1)[0]).toBe(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Request Header Fields Too Large'}`);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'GEOLOC_ERR_HTTP_MALFORMED' });
      expect(await scrapeMetric(gateway.url, 'geoloc_http_client_errors_total', { reason })).toBe(1);
    });

    test('a refused upgrade is closed by the gateway even when its client never closes', async () => {
      gateway = await createGateway({});
      const socket = connect({ host: '127.0.0.1', port: gateway.port, allowHalfOpen: true });
      const answer = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      socket.write('GET /not-ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      try {
        expect(await answer).toMatch(/^HTTP\/1.1 404/);
        // Only the scrape's own connection is left.
        const deadline = Date.now() + PROBE_TIMEOUT_MS;
        let open = await scrapeMetric(gateway.url, 'geoloc_http_connections');
        while (open !== 1 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
          open = await scrapeMetric(gateway.url, 'geoloc_http_connections');
        }
        expect(open).toBe(1);
      } finally {
        socket.destroy();
      }
    });
  });
});

/**
 * Writes raw bytes and resolves with everything the gateway sends back before closing. Bytes
 * the parser never read make that close a reset, which arrives after the answer.
 */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
  });
}
