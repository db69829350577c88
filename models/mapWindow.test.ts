import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticGeoTiff } from '../tests/support/gdalTools';
import { openImagery, type Imagery } from './imagerySource';
import { MapSampler, type MapWindow, type WindowSpec } from './mapWindow';

const WIDTH = 64;
const HEIGHT = 96;

function largestDifference(a: MapWindow, b: MapWindow): number {
  let largest = 0;
  for (let i = 0; i < a.rgb.length; i++) largest = Math.max(largest, Math.abs(a.rgb[i]! - b.rgb[i]!));
  return largest;
}

function meanDifference(a: MapWindow, b: MapWindow): number {
  let sum = 0;
  for (let i = 0; i < a.rgb.length; i++) sum += Math.abs(a.rgb[i]! - b.rgb[i]!);
  return sum / a.rgb.length;
}

describe('MapSampler: windows cut from one read', () => {
  let tmp: string;
  let imagery: Imagery;
  let sampler: MapSampler;
  /** a row of `n` windows across the middle of the imagery, `stepM` apart */
  let row: (n: number, metersPerPixel: number, headingDeg: number) => WindowSpec[];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-windows-'));
    const { tif } = await syntheticGeoTiff(tmp, { width: 400, height: 400, metersPerPixel: 0.5, north: 47, west: 8, seed: 5 });
    imagery = await openImagery(tif, () => undefined);
    sampler = new MapSampler(imagery);
    const { north, south, west, east } = imagery.bounds;
    row = (n, metersPerPixel, headingDeg) =>
      Array.from({ length: n }, (_, i) => ({
        centre: { lat: (north + south) / 2, lon: west + ((east - west) * (i + 1)) / (n + 1) },
        headingDeg,
        metersPerPixel,
        width: WIDTH,
        height: HEIGHT,
      }));
  });
  afterAll(() => {
    imagery.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('at the imagery resolution, a row read at once gives the windows read one by one', async () => {
    const specs = row(3, imagery.metersPerPixel, 0);
    const together = await sampler.windows(specs);
    expect(together).toHaveLength(3);
    for (const [i, spec] of specs.entries()) {
      const alone = await sampler.window(spec);
      expect(together[i]!.coverage).toBeCloseTo(alone.coverage, 6);
      expect(together[i]!.coverage).toBeGreaterThan(0.99);
      // the same raster pixels sampled at the same points: at most rounding apart
      expect(largestDifference(together[i]!, alone)).toBeLessThanOrEqual(1);
    }
  });

  test('coarser and turned, the windows agree with those read alone within the averaging of a read level', async () => {
    const specs = row(2, 2.2 * imagery.metersPerPixel, 30);
    const together = await sampler.windows(specs);
    for (const [i, spec] of specs.entries()) {
      const alone = await sampler.window(spec);
      expect(together[i]!.headingDeg).toBe(30);
      expect(together[i]!.coverage).toBeGreaterThan(0.99);
      expect(meanDifference(together[i]!, alone)).toBeLessThan(3);
    }
  });

  test('a window off the imagery comes back uncovered beside those on it; windows of two resolutions are refused', async () => {
    const [on] = row(1, imagery.metersPerPixel, 0);
    const off = { ...on!, centre: { lat: imagery.bounds.north + 0.01, lon: on!.centre.lon } };
    const [a, b] = await sampler.windows([on!, off]);
    expect(a!.coverage).toBeGreaterThan(0.99);
    expect(b!.coverage).toBe(0);
    expect(b!.rgb.every((v) => v === 0)).toBe(true);
    await expect(sampler.windows([on!, { ...on!, metersPerPixel: 2 }])).rejects.toThrow(/one ground resolution/);
    await expect(sampler.windows([])).resolves.toEqual([]);
  });
});
