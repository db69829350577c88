import { LocalFrame, bearingDegrees, destination, ecefToGeodetic, geodeticToEcef, haversineMeters } from './wgs84';

describe('WGS84 geodesy', () => {
  test('ECEF of reference points', () => {
    const [x0, y0, z0] = geodeticToEcef({ lat: 0, lon: 0, alt: 0 });
    expect(x0).toBeCloseTo(6378137.0, 6);
    expect(y0).toBeCloseTo(0, 6);
    expect(z0).toBeCloseTo(0, 6);
    const [, , zPole] = geodeticToEcef({ lat: 90, lon: 0, alt: 0 });
    expect(zPole).toBeCloseTo(6356752.314245, 4); // the WGS84 semi-minor axis
    const [, y90] = geodeticToEcef({ lat: 0, lon: 90, alt: 100 });
    expect(y90).toBeCloseTo(6378237.0, 6);
  });

  test('geodetic → ECEF → geodetic round trip', () => {
    for (const p of [{ lat: 60.4032, lon: 22.4621, alt: 120 }, { lat: -33.86, lon: 151.21, alt: 3000 }, { lat: 31.784, lon: 77.001, alt: 1325 }]) {
      const back = ecefToGeodetic(geodeticToEcef(p));
      expect(back.lat).toBeCloseTo(p.lat, 10);
      expect(back.lon).toBeCloseTo(p.lon, 10);
      expect(back.alt).toBeCloseTo(p.alt, 4);
    }
  });

  test('ENU matches the published lengths of a degree at 45°N', () => {
    // 1° of latitude at 45° is 111,132.954 m and 1° of longitude 78,846.8 m on WGS84.
    const frame = new LocalFrame({ lat: 45, lon: 10 });
    const north = frame.toEnu({ lat: 45.01, lon: 10 });
    const east = frame.toEnu({ lat: 45, lon: 10.01 });
    expect(north.n).toBeCloseTo(1111.33, 1);
    expect(Math.abs(north.e)).toBeLessThan(1e-6);
    expect(east.e).toBeCloseTo(788.47, 1);
    expect(east.u).toBeLessThan(0); // the Earth curves away from the tangent plane
  });

  test('ENU → geodetic inverts toEnu', () => {
    const frame = new LocalFrame({ lat: 31.78, lon: 77.0, alt: 1000 });
    const p = { lat: 31.7912, lon: 77.0133, alt: 1300 };
    const back = frame.fromEnu(frame.toEnu(p));
    expect(back.lat).toBeCloseTo(p.lat, 10);
    expect(back.lon).toBeCloseTo(p.lon, 10);
    expect(back.alt).toBeCloseTo(p.alt, 4);
  });

  test('haversine: Paris to London is about 343.5 km', () => {
    const d = haversineMeters({ lat: 48.8566, lon: 2.3522 }, { lat: 51.5074, lon: -0.1278 });
    expect(d / 1000).toBeCloseTo(343.5, 0);
    expect(haversineMeters({ lat: 10, lon: 10 }, { lat: 10, lon: 10 })).toBe(0);
  });

  test('bearing and destination agree', () => {
    expect(bearingDegrees({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(0, 9);
    expect(bearingDegrees({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(90, 9);
    const start = { lat: 60.4, lon: 22.46 };
    const end = destination(start, 123, 2500);
    expect(haversineMeters(start, end)).toBeCloseTo(2500, 6);
    expect(bearingDegrees(start, end)).toBeCloseTo(123, 6);
  });
});
