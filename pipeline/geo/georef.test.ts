import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describeIfSharedData } from '../../tests/support/sharedData';
import { isGeolocError } from '../core/errors';
import { sharedDataPath } from '../core/paths';
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

/** Runs `body` in a plain Node process: geotiff's ES modules do not load inside jest's sandbox. */
function inNode(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `const { loadGeoImage } = require(${JSON.stringify(join(__dirname, 'geoImage.js'))});\n(async () => { ${body} })().catch((e) => { console.log(JSON.stringify({ code: e.code, message: e.message })); });`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
}

describe('GeoTIFF', () => {
  test('tie point and pixel scale give the georeferencing; a projected CRS other than Web-Mercator is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoloc-geotiff-'));
    const result = inNode(`
      const { writeArrayBuffer } = await import('geotiff');
      const fs = require('node:fs');
      const pixels = Array.from({ length: 8 * 4 * 3 }, (_, i) => (i * 7) % 256);
      const write = (path, keys) => fs.writeFileSync(path, Buffer.from(writeArrayBuffer(pixels, {
        width: 8, height: 4, SamplesPerPixel: 3, BitsPerSample: [8, 8, 8], PhotometricInterpretation: 2, PlanarConfiguration: 1,
        ModelPixelScale: [2, 2, 0], ModelTiepoint: [0, 0, 0, 1000000, 6000000, 0], GTModelTypeGeoKey: 1, GTRasterTypeGeoKey: 1, ...keys })));
      write(${JSON.stringify(join(dir, 'mercator.tif'))}, { ProjectedCSTypeGeoKey: 3857 });
      write(${JSON.stringify(join(dir, 'utm.tif'))}, { ProjectedCSTypeGeoKey: 32632 });
      const image = await loadGeoImage(${JSON.stringify(join(dir, 'mercator.tif'))});
      const refused = await loadGeoImage(${JSON.stringify(join(dir, 'utm.tif'))}).then(() => null, (e) => e.code);
      console.log(JSON.stringify({ crs: image.georef.crs, topLeft: image.georef.pixelToCrs(0, 0), bottomRight: image.georef.pixelToCrs(8, 4),
        firstPixels: [...image.rgb.subarray(0, 6)], expected: pixels.slice(0, 6), refused }));`);
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout);
    expect(out.crs).toBe('EPSG:3857');
    expect(out.topLeft).toEqual({ x: 1_000_000, y: 6_000_000 });
    expect(out.bottomRight).toEqual({ x: 1_000_016, y: 5_999_992 });
    expect(out.firstPixels).toEqual(out.expected);
    expect(out.refused).toBe('GEOLOC_ERR_CRS_UNSUPPORTED');
  });
});
