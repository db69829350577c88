import { Georef } from '../pipeline/geo/georef';
import { haversineMeters } from '../pipeline/geo/wgs84';
import { scaleLadder } from './indexCamera';
import { planTiles } from './tiling';

/** one square camera of `hfovDeg`: a tile scale per altitude (a step no gap here exceeds) */
const scaleSpecs = (altitudesM: number[], hfovDeg: number, overlap: number) => scaleLadder({ hfovDeg: [hfovDeg, hfovDeg], aspect: 1 }, altitudesM, 10, overlap);

// 1000 × 600 px at 0.5 m/px (EPSG:4326 near 47° N, square ground pixels).
const METERS_PER_DEGREE = 111_195.08;
const LAT = 47;
const degLat = 0.5 / METERS_PER_DEGREE;
const degLon = degLat / Math.cos((LAT * Math.PI) / 180);
const raster = { width: 1000, height: 600, georef: new Georef('EPSG:4326', { a: degLon, b: 0, c: 8, d: 0, e: -degLat, f: LAT }) };

describe('tiling', () => {
  test('footprint is 2·alt·tan(hfov/2) and stride footprint·(1 − overlap)', () => {
    const [s] = scaleSpecs([120], 60, 0.25);
    expect(s!.footprintM).toBeCloseTo(2 * 120 * Math.tan(Math.PI / 6), 9);
    expect(s!.strideM).toBeCloseTo(0.75 * s!.footprintM, 9);
  });

  test('tiles are square on the ground, inside the image, evenly stepped and centred', () => {
    const scales = scaleSpecs([100], 60, 0.5);
    const tiles = planTiles(raster, scales);
    const sidePx = Math.round(scales[0]!.footprintM / 0.5);
    const stridePx = scales[0]!.strideM / 0.5;
    const across = Math.floor((1000 - sidePx) / stridePx) + 1;
    const down = Math.floor((600 - sidePx) / stridePx) + 1;
    expect(tiles).toHaveLength(across * down);
    for (const t of tiles) {
      expect(t.rect.width).toBe(sidePx);
      expect(t.rect.height).toBe(sidePx);
      expect(t.rect.left).toBeGreaterThanOrEqual(0);
      expect(t.rect.top).toBeGreaterThanOrEqual(0);
      expect(t.rect.left + t.rect.width).toBeLessThanOrEqual(1000);
      expect(t.rect.top + t.rect.height).toBeLessThanOrEqual(600);
      const groundWidth = haversineMeters({ lat: t.lat, lon: t.bounds.west }, { lat: t.lat, lon: t.bounds.east });
      expect(groundWidth).toBeCloseTo(scales[0]!.footprintM, -1);
    }
    const firstRow = tiles.slice(0, across);
    for (let i = 1; i < across; i++) expect(Math.abs(firstRow[i]!.rect.left - firstRow[i - 1]!.rect.left - stridePx)).toBeLessThanOrEqual(1);
    // The unused margin is split between both sides.
    const right = 1000 - (firstRow[across - 1]!.rect.left + sidePx);
    expect(Math.abs(firstRow[0]!.rect.left - right)).toBeLessThanOrEqual(1);
  });

  test('a scale whose footprint exceeds the image yields no tiles', () => {
    const tiles = planTiles(raster, scaleSpecs([100, 1000], 60, 0.5));
    expect(tiles.every((t) => t.scale === 0)).toBe(true);
  });
});
