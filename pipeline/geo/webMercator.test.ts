import { MERCATOR_HALF_EXTENT_M, MERCATOR_MAX_LAT, lonLatToMercator, mercatorToLonLat, tileAt, tileBounds } from './webMercator';

describe('Web-Mercator', () => {
  test('the plane spans ±20037508.34 m', () => {
    expect(MERCATOR_HALF_EXTENT_M).toBeCloseTo(20037508.342789244, 6);
    const corner = lonLatToMercator({ lat: MERCATOR_MAX_LAT, lon: 180 });
    expect(corner.x).toBeCloseTo(20037508.342789244, 3);
    expect(corner.y).toBeCloseTo(20037508.342789244, 0);
  });

  test('known point and round trip', () => {
    // Null Island and a published EPSG:3857 value for 45°N (5,621,521.486 m).
    const origin = lonLatToMercator({ lat: 0, lon: 0 });
    expect(origin.x).toBeCloseTo(0, 6);
    expect(origin.y).toBeCloseTo(0, 6);
    expect(lonLatToMercator({ lat: 45, lon: 0 }).y).toBeCloseTo(5621521.486, 2);
    const p = { lat: 31.7841, lon: 77.0011 };
    const back = mercatorToLonLat(lonLatToMercator(p).x, lonLatToMercator(p).y);
    expect(back.lat).toBeCloseTo(p.lat, 10);
    expect(back.lon).toBeCloseTo(p.lon, 10);
  });

  test('tiles: bounds and lookup agree', () => {
    expect(tileBounds(0, 0, 0).north).toBeCloseTo(MERCATOR_MAX_LAT, 9);
    const b = tileBounds(1, 0, 0);
    expect([b.west, b.east, b.south]).toEqual([-180, 0, 0]);
    const z = 16;
    const t = tileAt(z, { lat: 60.4032, lon: 22.4621 });
    const tb = tileBounds(z, t.x, t.y);
    expect(60.4032).toBeGreaterThan(tb.south);
    expect(60.4032).toBeLessThan(tb.north);
    expect(22.4621).toBeGreaterThan(tb.west);
    expect(22.4621).toBeLessThan(tb.east);
  });
});
