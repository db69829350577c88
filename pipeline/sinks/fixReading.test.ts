import type { FixFeature } from '../core/types';
import { readFix } from './fixReading';

const NOW = new Date(Date.UTC(2026, 2, 1, 12, 0, 1));

function feature(properties: Record<string, unknown>): FixFeature {
  return { type: 'Feature', geometry: { type: 'Point', coordinates: [8.5, 47.25] }, properties: { flight: 'f', frame: 0, t: 0, radiusM: 30, confidence: 1, ...properties } };
}

describe('readFix', () => {
  test('the position, and the time less the latency', () => {
    const fix = readFix(feature({ latencyMs: 250 }), NOW);
    expect([fix.lat, fix.lon, fix.radiusM]).toEqual([47.25, 8.5, 30]);
    expect(fix.time.toISOString()).toBe('2026-03-01T12:00:00.750Z');
    expect(readFix(feature({}), NOW).time).toEqual(NOW);
  });

  test('tracking unless lost or re-localizing', () => {
    expect(readFix(feature({ lost: false, relocalizing: false }), NOW).tracking).toBe(true);
    expect(readFix(feature({ relocalizing: true }), NOW).tracking).toBe(false);
    expect(readFix(feature({ lost: true, relocalizing: true }), NOW).tracking).toBe(false);
  });

  test('malformed extras read as absent: a fix from a file or another producer cannot poison an encoder', () => {
    const fix = readFix(feature({ latencyMs: 'soon', speedMps: Number.NaN, velocityMps: [1], covarianceM2: [1, 0, null], velocityCovarianceM2s2: 'wide', headingDeg: 90 }), NOW);
    expect(fix).toMatchObject({ time: NOW, speedMps: undefined, velocityMps: undefined, covarianceM2: undefined, velocityCovarianceM2s2: undefined, headingDeg: 90 });
  });
});
