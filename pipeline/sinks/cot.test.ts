import { spawnSync } from 'node:child_process';
import { isGeolocError } from '../core/errors';
import type { FixFeature } from '../core/types';
import { repoRoot } from '../core/paths';
import { simulatedFixes } from '../../tests/support/simulatedFixes';
import { cotFormat, DEFAULT_COT_OPTIONS, type CotOptions } from './cot';
import { escapeXml } from './xml';

/** What @tak-ps/node-cot made of one event: its parsed tree and GeoJSON, or why it refused it. */
interface Parsed {
  error?: string;
  event?: {
    _attributes: Record<string, string>;
    point: { _attributes: Record<string, string> };
    detail: { track?: { _attributes: Record<string, string> }; contact: { _attributes: Record<string, string> }; remarks: { _text: string } };
  };
  geojson?: { geometry: { coordinates: number[] }; properties: Record<string, unknown> };
}

/** Parses events with @tak-ps/node-cot in a plain Node process: its ES modules (top-level await) do not load inside jest's sandbox. */
function parseWithNodeCot(events: string[]): Parsed[] {
  const script = `(async () => {
    const { default: CoT } = await import('@tak-ps/node-cot');
    const events = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const parsed = events.map((xml) => {
      try {
        const cot = new CoT(xml);
        return { event: cot.raw.event, geojson: cot.to_geojson() };
      } catch (err) {
        return { error: String(err.message) };
      }
    });
    process.stdout.write(JSON.stringify(parsed));
  })();`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: repoRoot(), input: JSON.stringify(events), encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`node-cot parse failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Parsed[];
}

const NOW = new Date(Date.UTC(2026, 2, 1, 12, 0, 0, 250));
const LATENCY_MS = 250;
const FIX_TIME = '2026-03-01T12:00:00.000Z';
/** a 95% radius over √(−2 ln 0.05): CoT's ce is a 1-σ */
const SIGMAS_PER_RADIUS_95 = Math.sqrt(-2 * Math.log(0.05));
const NASTY = '<x&"y>';

function fixFeature(flight: string, properties: Record<string, unknown> = {}): FixFeature {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [8.7654321, 47.1234567] },
    properties: { flight, frame: 3, t: 0.6, radiusM: 26.5, confidence: 0.9, lost: false, relocalizing: false, latencyMs: LATENCY_MS, speedMps: 5, headingDeg: 143.13, speedSigmaMps: 0.9, headingSigmaDeg: 6, ...properties },
  };
}

const text = (buffers: Buffer[]) => buffers.map((b) => b.toString('utf8'));

describe('cotFormat', () => {
  const flightFixes = simulatedFixes('flight-07', 4, LATENCY_MS);
  const events = {
    plain: text(cotFormat().encodeFix(fixFeature('flight-01'), NOW)),
    nasty: text(cotFormat().encodeFix(fixFeature(NASTY), NOW)),
    options: text(cotFormat({ type: 'a-f-A-M-H-Q', uid: `uid ${NASTY}`, callsign: `call ${NASTY}\n`, staleSeconds: 30 }).encodeFix(fixFeature('f'), NOW)),
    bare: text(cotFormat().encodeFix({ ...fixFeature('f'), properties: { flight: 'f', frame: 0, t: 0, radiusM: 40, confidence: 0.1, relocalizing: true } }, NOW)),
    flight: flightFixes.flatMap((f, i) => text(cotFormat().encodeFix(f, new Date(NOW.getTime() + i * 200)))),
  };
  /** the nasty event as it would be without escaping: the control that shows the parser is strict */
  const unescaped = events.nasty.map((xml) => xml.split(escapeXml(NASTY)).join(NASTY));
  let refusedUnescaped: Parsed[];
  let parsed: Record<keyof typeof events, Parsed[]>;

  beforeAll(() => {
    const results = parseWithNodeCot([...Object.values(events).flat(), ...unescaped]);
    let at = 0;
    parsed = Object.fromEntries(Object.entries(events).map(([name, list]) => [name, results.slice(at, (at += list.length))])) as typeof parsed;
    refusedUnescaped = results.slice(at);
  });

  test('one event per fix, each parsed by node-cot', () => {
    expect(events.plain).toHaveLength(1);
    for (const result of Object.values(parsed).flat()) expect(result.error).toBeUndefined();
    expect(parsed.flight).toHaveLength(flightFixes.length);
  });

  test('version 2.0, a friendly air track, machine-generated, at the fix\'s time, stale staleSeconds later', () => {
    const event = parsed.plain[0]!.event!;
    expect(event._attributes).toEqual({ version: '2.0', uid: 'geoloc-flight-01', type: DEFAULT_COT_OPTIONS.type, how: 'm-g', time: FIX_TIME, start: FIX_TIME, stale: '2026-03-01T12:00:10.000Z' });
    expect(DEFAULT_COT_OPTIONS.type).toBe('a-f-A');
  });

  test('the point: the fix\'s position, ce the 1-σ of its 95% radius, height unknown', () => {
    const { point } = parsed.plain[0]!.event!;
    expect(point._attributes).toEqual({ lat: '47.1234567', lon: '8.7654321', hae: '9999999.0', ce: (26.5 / SIGMAS_PER_RADIUS_95).toFixed(2), le: '9999999.0' });
    expect(parsed.plain[0]!.geojson!.geometry.coordinates.slice(0, 2)).toEqual([8.7654321, 47.1234567]);
  });

  test('the detail: track course and speed with their 1-σ, the flight as callsign, and remarks', () => {
    const { detail } = parsed.plain[0]!.event!;
    expect(detail.track!._attributes).toEqual({ course: '143.13', speed: '5.00', eCourse: '6.00', eSpeed: '0.90' });
    expect(detail.contact._attributes.callsign).toBe('flight-01');
    expect(detail.remarks._text).toContain('95% radius 26.50 m');
    expect(parsed.plain[0]!.geojson!.properties).toMatchObject({ course: 143.13, speed: 5, callsign: 'flight-01' });
  });

  test('a flight named <x&"y> still parses, and its name comes back as it was', () => {
    const event = parsed.nasty[0]!.event!;
    expect(event._attributes.uid).toBe(`geoloc-${NASTY}`);
    expect(event.detail.contact._attributes.callsign).toBe(NASTY);
    expect(events.nasty[0]).not.toContain(NASTY);
    expect(refusedUnescaped[0]!.error).toBeDefined();
  });

  test('type, uid, callsign and stale time are options; a newline in a callsign survives as one', () => {
    const event = parsed.options[0]!.event!;
    expect(event._attributes).toMatchObject({ type: 'a-f-A-M-H-Q', uid: `uid ${NASTY}`, stale: '2026-03-01T12:00:30.000Z' });
    expect(event.detail.contact._attributes.callsign).toBe(`call ${NASTY}\n`);
  });

  test('without motion there is no track; while re-localizing the remarks say so', () => {
    const { detail } = parsed.bare[0]!.event!;
    expect(detail.track).toBeUndefined();
    expect(detail.remarks._text).toContain('re-localizing');
  });

  test('a simulated flight: every event carries its fix\'s position, ce and time', () => {
    parsed.flight.forEach((result, i) => {
      const fix = flightFixes[i]!;
      const { point, _attributes } = result.event!;
      const [lon, lat] = fix.geometry.coordinates;
      expect([Number(point._attributes.lat), Number(point._attributes.lon)]).toEqual([Number(lat.toFixed(7)), Number(lon.toFixed(7))]);
      expect(Number(point._attributes.ce)).toBeCloseTo(fix.properties.radiusM / SIGMAS_PER_RADIUS_95, 2);
      expect(_attributes.time).toBe(new Date(NOW.getTime() + i * 200 - LATENCY_MS).toISOString());
    });
  });

  test.each<[keyof CotOptions, unknown]>([
    ['type', ''],
    ['uid', ''],
    ['callsign', ''],
    ['staleSeconds', 0],
  ])('option %s = %p: GEOLOC_ERR_OUTPUT_OPTIONS naming it', (name, value) => {
    let caught: unknown;
    try {
      cotFormat({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(isGeolocError(caught, 'GEOLOC_ERR_OUTPUT_OPTIONS')).toBe(true);
    expect((caught as Error).message).toContain(name);
  });
});
