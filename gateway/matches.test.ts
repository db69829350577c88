import type { FixFeature, FixMatches } from '../pipeline/core/types';
import { gatewaySink } from './pipelineSink';
import { createGateway, type Gateway } from './server';

const TOKEN = 'evidence-token';

function fix(flight: string, frame: number): FixFeature {
  return { type: 'Feature', geometry: { type: 'Point', coordinates: [8.9, 47.1] }, properties: { flight, frame, t: frame / 5, radiusM: 5, confidence: 0.9, evidence: { matches: 1 } } };
}

function matches(frame: number): FixMatches {
  return { frameWidth: 480, frameHeight: 360, points: [{ x: frame, y: 20, lat: 47.1, lon: 8.9 }] };
}

describe("the gateway's matched points of a fix", () => {
  let gateway: Gateway;
  const get = (path: string, token = TOKEN) => fetch(`${gateway.url}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

  beforeAll(async () => {
    gateway = await createGateway({ token: TOKEN, evidenceSize: 2, log: () => undefined });
  });
  afterAll(() => gateway.close());

  test('are served for the last evidenceSize registered fixes of a flight, by its URI-encoded name', async () => {
    const sink = gatewaySink(gateway, 'flight one');
    for (const frame of [0, 5, 10]) sink.fix!(fix('flight one', frame), 12, matches(frame));
    sink.fix!(fix('flight one', 15), 12);
    const res = await get('/api/flights/flight%20one/fixes/10/matches');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ flight: 'flight one', frame: 10, ...matches(10) });
    expect((await get('/api/flights/flight%20one/fixes/5/matches')).status).toBe(200);

    for (const [path, why] of [
      ['/api/flights/flight%20one/fixes/0/matches', 'older than the last two'],
      ['/api/flights/flight%20one/fixes/15/matches', 'did not register'],
      ['/api/flights/elsewhere/fixes/10/matches', 'unknown flight'],
    ] as const) {
      const missing = await get(path);
      expect({ why, status: missing.status }).toEqual({ why, status: 404 });
      const body = await missing.json();
      expect(body.code).toBe('GEOLOC_ERR_MATCHES_NOT_FOUND');
      expect(body.message).toMatch(/no matched points are kept for frame \d+ of flight/);
    }
  });

  test('need the token, and a flight name that decodes', async () => {
    gateway.publish('f', fix('f', 1), matches(1));
    const anonymous = await get('/api/flights/f/fixes/1/matches', '');
    expect(anonymous.status).toBe(401);
    const garbled = await get('/api/flights/%E0%A4%A/fixes/1/matches');
    expect(garbled.status).toBe(400);
    expect((await garbled.json()).code).toBe('GEOLOC_ERR_HTTP_BAD_PATH');
    // the gateway keeps serving after both
    expect((await get('/api/flights/f/fixes/1/matches')).status).toBe(200);
  });
});
