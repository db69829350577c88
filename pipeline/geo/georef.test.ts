import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describeIfSharedData } from '../../tests/support/sharedData';
import { isGeolocError } from '../errors';
import { sharedDataPath } from '../paths';
import { loadGeoImage } from './geoImage';
import { Georef, formatWorldFile, parseWorldFile, writeWorldFile } from './georef';

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

  test('an image with a world file loads with its bounds; one without is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoloc-georef-'));
    const png = join(dir, 'map.png');
    await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toFile(png);
    let caught: unknown;
    try {
      await loadGeoImage(png);
    } catch (err) {
      caught = err;
    }
    expect(isGeolocError(caught, 'GEOLOC_ERR_IMAGERY_NOT_GEOREFERENCED')).toBe(true);
    writeWorldFile(join(dir, 'map.pgw'), { a: 1e-4, b: 0, c: 10, d: 0, e: -1e-4, f: 50 });
    const image = await loadGeoImage(png);
    expect([image.width, image.height, image.rgb.length]).toEqual([40, 20, 40 * 20 * 3]);
    expect(image.bounds.west).toBeCloseTo(10, 12);
    expect(image.bounds.east).toBeCloseTo(10.004, 12);
    expect(image.bounds.north).toBeCloseTo(50, 12);
    expect(image.bounds.south).toBeCloseTo(49.998, 12);
    expect(image.rgb[1]).toBe(200);
    writeFileSync(join(dir, 'map.pgw'), 'not a world file');
    await expect(loadGeoImage(png)).rejects.toMatchObject({ code: 'GEOLOC_ERR_WORLD_FILE' });
  });
});

describeIfSharedData(['mandi-flight', 'satellite_map.pgw'], 'the real Web-Mercator map', () => {
  test('covers 31.777–31.786 N, 76.992–77.007 E at 1.318 m/px, as its README says', async () => {
    const image = await loadGeoImage(sharedDataPath('mandi-flight', 'satellite_map.png'));
    expect(image.georef.crs).toBe('EPSG:3857');
    expect([image.width, image.height]).toEqual([1271, 839]);
    expect(image.bounds.south).toBeGreaterThan(31.776);
    expect(image.bounds.north).toBeLessThan(31.787);
    expect(image.bounds.west).toBeGreaterThan(76.991);
    expect(image.bounds.east).toBeLessThan(77.008);
    // Mercator metres shrink by cos(latitude) on the ground.
    expect(image.metersPerPixel).toBeCloseTo(1.318 * Math.cos((31.78 * Math.PI) / 180), 2);
  });
});
