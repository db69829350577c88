import { isGeolocError } from '../core/errors';
import { Georef, formatWorldFile, parseWorldFile } from './georef';

describe('world files', () => {
  test('centre-of-pixel origin becomes a corner-based affine, and back', () => {
    const text = '1.5\n0\n0\n-1.5\n1000.75\n2000.75\n';
    const affine = parseWorldFile(text);
    expect(affine).toEqual({ a: 1.5, b: 0, c: 1000, d: 0, e: -1.5, f: 2001.5 });
    expect(parseWorldFile(formatWorldFile(affine))).toEqual(affine);
  });

  test('a world file that is not six numbers is refused with its code', () => {
    for (const bad of ['1\n0\n0\n-1\n5', '1\n0\n0\n-1\nfive\n6', '']) {
      let caught: unknown;
      try {
        parseWorldFile(bad, 'bad.pgw');
      } catch (err) {
        caught = err;
      }
      expect(isGeolocError(caught, 'GEOLOC_ERR_WORLD_FILE')).toBe(true);
      expect((caught as Error).message).toContain('bad.pgw');
    }
  });

  test('pixel ↔ lon/lat inverts, in both CRSs', () => {
    const geographic = new Georef('EPSG:4326', { a: 1e-5, b: 0, c: 22.46, d: 0, e: -1e-5, f: 60.404 });
    const p = geographic.pixelToLonLat(123.4, 56.7);
    const px = geographic.lonLatToPixel(p);
    expect(px.px).toBeCloseTo(123.4, 6);
    expect(px.py).toBeCloseTo(56.7, 6);
    const mercator = new Georef('EPSG:3857', { a: 1.318, b: 0, c: 8570000, d: 0, e: -1.318, f: 3734000 });
    const q = mercator.pixelToLonLat(10, 20);
    const qx = mercator.lonLatToPixel(q);
    expect(qx.px).toBeCloseTo(10, 6);
    expect(qx.py).toBeCloseTo(20, 6);
  });
});
