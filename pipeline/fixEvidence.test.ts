import { fixEvidence } from './fixEvidence';
import { LocalFrame } from './geo/wgs84';
import type { Measurement, TrackEstimate } from './tracking/types';

const AT = { lat: 47.1, lon: 8.9 };
const ESTIMATE: TrackEstimate = { frame: 3, t: 0.6, ...AT, radiusM: 20, confidence: 0.8, lost: false, relocalizing: false, method: 'retrieval', candidates: [] };
const TILE = { tileId: 41, score: 0.9, lat: 47.1002, lon: 8.9001, footprintM: 100 };
const MEASUREMENT: Measurement = { frame: 3, t: 0.6, candidates: [TILE], altitudeM: 100, headingDeg: 0, gimbalPitchDeg: -90 };
/** a square frame seeing 90° across: from 100 m straight down, 200 m of ground a side */
const CAMERA = { width: 360, height: 360, hfovDeg: 90 };

/** East and north metres of each corner of a closed GeoJSON ring from `origin`. */
function ringEnu(ring: [number, number][], origin = AT) {
  const frame = new LocalFrame(origin);
  return ring.map(([lon, lat]) => frame.toEnu({ lat, lon, alt: 0 }));
}

describe('fixEvidence', () => {
  test('without a registration, the footprint is the camera model at the estimate: a nadir square of the expected size, its top facing the heading', () => {
    const { evidence, matches } = fixEvidence(ESTIMATE, MEASUREMENT, CAMERA);
    expect(matches).toBeUndefined();
    expect(evidence).toMatchObject({ tile: { id: 41, search: 'global' }, footprintFrom: 'camera', matches: 0 });
    const ring = evidence.footprint!.coordinates[0]!;
    expect(ring).toHaveLength(5);
    expect(ring[4]).toEqual(ring[0]);
    const expected = [[-100, 100], [100, 100], [100, -100], [-100, -100]];
    ringEnu(ring).slice(0, 4).forEach((c, i) => {
      expect(c.e).toBeCloseTo(expected[i]![0]!, 0);
      expect(c.n).toBeCloseTo(expected[i]![1]!, 0);
    });

    const east = fixEvidence(ESTIMATE, { ...MEASUREMENT, headingDeg: 90, gimbalPitchDeg: -70 }, CAMERA).evidence;
    const [topLeft, topRight, bottomRight, bottomLeft] = ringEnu(east.footprint!.coordinates[0]!);
    // facing east and tilted forward: the top edge lies east of the drone and is longer than the bottom one
    expect(Math.min(topLeft!.e, topRight!.e)).toBeGreaterThan(Math.max(bottomLeft!.e, bottomRight!.e));
    expect(Math.hypot(topLeft!.e - topRight!.e, topLeft!.n - topRight!.n)).toBeGreaterThan(Math.hypot(bottomLeft!.e - bottomRight!.e, bottomLeft!.n - bottomRight!.n));
  });

  test('a footprint the camera model cannot draw is absent, saying why', () => {
    const { altitudeM: _, ...noAltitude } = MEASUREMENT;
    expect(fixEvidence(ESTIMATE, noAltitude, CAMERA).evidence).toEqual({ tile: { id: 41, search: 'global' }, footprintMissing: 'no altitude above ground from telemetry', matches: 0 });
    const { headingDeg: __, ...noHeading } = MEASUREMENT;
    expect(fixEvidence(ESTIMATE, noHeading, CAMERA).evidence.footprintMissing).toBe('no camera heading from telemetry');
    expect(fixEvidence(ESTIMATE, { ...MEASUREMENT, gimbalPitchDeg: -10 }, CAMERA).evidence.footprintMissing).toMatch(/camera model cannot project this frame: pitch=80°/);
  });

  test("a registered frame's footprint and matched points come from its registration; a failed one says why", () => {
    const footprint = [
      { lat: 47.101, lon: 8.899 },
      { lat: 47.101, lon: 8.901 },
      { lat: 47.099, lon: 8.901 },
      { lat: 47.099, lon: 8.899 },
    ];
    const points = [{ x: 10, y: 20, lat: 47.1004, lon: 8.8995 }];
    const registered = { ...MEASUREMENT, searchRegion: { ...AT, radiusM: 150 }, registrationEvidence: { frameWidth: 480, frameHeight: 360, footprint, proposedBy: 'track', points } };
    const { evidence, matches } = fixEvidence({ ...ESTIMATE, method: 'registered' }, registered, CAMERA);
    expect(evidence).toEqual({
      tile: { id: 41, search: 'region' },
      proposedBy: 'track',
      footprint: { type: 'Polygon', coordinates: [[...footprint, footprint[0]!].map((c) => [c.lon, c.lat])] },
      footprintFrom: 'registration',
      matches: 1,
    });
    expect(matches).toEqual({ frameWidth: 480, frameHeight: 360, points });

    const failed = fixEvidence(ESTIMATE, { ...MEASUREMENT, candidates: [], registration: { failed: 'the photo has 0 local features' } }, CAMERA).evidence;
    expect(failed).toMatchObject({ registrationFailed: 'the photo has 0 local features', footprintFrom: 'camera' });
    expect(failed).not.toHaveProperty('tile');
  });
});
