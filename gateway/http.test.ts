import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { repoRoot } from '../pipeline/core/paths';
import { createGateway, type Gateway } from './server';
import { scrapeMetric } from '../tests/support/gatewayClients';

function rawRequest(baseUrl: string, path: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('gateway HTTP endpoints', () => {
  let gateway: Gateway;

  beforeAll(async () => {
    gateway = await createGateway({});
  });

  afterAll(() => gateway.close());

  test('/healthz reports ok with the client and flight counts', async () => {
    const res = await fetch(`${gateway.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', clients: 0, flights: 0, imagery: false });
  });

  test('/ is the map page, with a content policy that keeps it on this origin', async () => {
    const res = await fetch(`${gateway.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toContain('/vendor/leaflet/leaflet.js');
    expect(html).toContain('/map.js');
  });

  test.each(['/map.js', '/map.css', '/vendor/leaflet/leaflet.js', '/vendor/leaflet/leaflet.css', '/vendor/leaflet/images/marker-icon.png'])(
    '%s is served from the allow-list',
    async (path) => {
      const res = await rawRequest(gateway.url, path);
      expect(res.status).toBe(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    },
  );

  test('Leaflet is served from node_modules, byte for byte', async () => {
    const served = Buffer.from(await (await fetch(`${gateway.url}/vendor/leaflet/leaflet.js`)).arrayBuffer());
    expect(served.equals(readFileSync(join(repoRoot(), 'node_modules/leaflet/dist/leaflet.js')))).toBe(true);
  });

  test.each(['/static/../package.json', '/vendor/leaflet/../../../package.json', '/..%2fpackage.json', '/%2e%2e/package.json', '/vendor\\leaflet\\leaflet.js'])(
    '%s is refused as a bad path',
    async (path) => {
      const before = await scrapeMetric(gateway.url, 'geoloc_http_rejected_total', { reason: 'bad_path' });
      const res = await rawRequest(gateway.url, path);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).code).toBe('GEOLOC_ERR_HTTP_BAD_PATH');
      expect(res.body).not.toContain('"name": "geoloc"');
      expect(await scrapeMetric(gateway.url, 'geoloc_http_rejected_total', { reason: 'bad_path' })).toBe(before + 1);
    },
  );

  test.each(['/package.json', '/gateway/public/map.js', '/node_modules/leaflet/dist/leaflet.js', '/index.html.bak'])('%s is not served', async (path) => {
    const res = await rawRequest(gateway.url, path);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).code).toBe('GEOLOC_ERR_HTTP_NOT_FOUND');
  });

  test('methods other than GET and HEAD get 405 with Allow', async () => {
    const res = await rawRequest(gateway.url, '/api/flights', 'POST');
    expect(res.status).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD');
    expect(JSON.parse(res.body).code).toBe('GEOLOC_ERR_HTTP_METHOD');
    expect(await scrapeMetric(gateway.url, 'geoloc_http_rejected_total', { reason: 'method' })).toBe(1);
    const head = await rawRequest(gateway.url, '/healthz', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  test('/metrics lists every gateway metric', async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    for (const name of [
      'geoloc_frames_in_total',
      'geoloc_frames_dropped_total',
      'geoloc_inference_latency_ms_bucket',
      'geoloc_fixes_published_total',
      'geoloc_fixes_out_total',
      'geoloc_ws_clients',
      'geoloc_ws_bytes_queued',
      'geoloc_ws_messages_skipped_total',
      'geoloc_ws_rejected_total{reason="payload_too_large"}',
      'geoloc_ws_terminated_total{reason="heartbeat"}',
      'geoloc_http_rejected_total{reason="tile_bad_path"}',
      'geoloc_process_resident_memory_bytes',
    ]) {
      expect(text).toContain(`\n${name}`);
    }
  });
});
