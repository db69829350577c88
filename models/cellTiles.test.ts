import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gdalTool, syntheticGeoTiff } from '../tests/support/gdalTools';
import { readCellTiles, type TileRead } from './cellTiles';
import { openImagery, type Imagery } from './imagerySource';
import { planTiles, type TilePlan } from './tiling';

const INPUT: [number, number] = [32, 32];
/** the first scale's lattice falls on whole pixels of its read; the second's does not */
const SCALES = [
  { altitudeM: 20, footprintM: 20, strideM: 10 },
  { altitudeM: 35, footprintM: 35, strideM: 13.3 },
];

/** A tile's pixels as the build takes them: written out of the window it was cropped from. */
function pixelsOf(tile: TileRead): Uint8Array {
  const rgb = new Uint8Array(INPUT[0] * INPUT[1] * 3);
  tile.writeRgb(rgb, 0);
  return rgb;
}

function meanDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('readCellTiles: one read per scale, tiles cropped from it', () => {
  let tmp: string;
  let imagery: Imagery;
  let holed: Imagery;
  let plans: TilePlan[];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-cell-tiles-'));
    const { tif } = await syntheticGeoTiff(tmp, { width: 240, height: 240, metersPerPixel: 0.5, north: 47, west: 8, seed: 9 });
    imagery = await openImagery(tif, () => undefined);
    plans = planTiles(imagery, SCALES);
    // the same raster with 30 m of nothing added on its west: tiles there are partly or wholly holes
    const withHole = join(tmp, 'hole.tif');
    const { west, south, east, north } = imagery.bounds;
    gdalTool('gdalwarp', '-q', '-dstalpha', '-te', String(west - 0.0004), String(south), String(east), String(north), tif, withHole);
    holed = await openImagery(withHole, () => undefined);
  });
  afterAll(() => {
    imagery.close();
    holed.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('every scale is read, and each tile matches the tile read on its own (GDAL resampling it straight to the input size)', async () => {
    expect(new Set(plans.map((p) => p.scale))).toEqual(new Set([0, 1]));
    const tiles = await readCellTiles(imagery, plans, INPUT);
    expect(tiles.map((t) => t.plan)).toEqual(plans);
    const differences = { onLattice: [] as number[], offLattice: [] as number[] };
    for (const tile of tiles) {
      if ('unreadable' in tile) throw tile.unreadable;
      const alone = await imagery.read(tile.plan.rect, INPUT[1], INPUT[0]);
      expect(tile.coverage).toBe(1);
      (tile.plan.scale === 0 ? differences.onLattice : differences.offLattice).push(meanDifference(pixelsOf(tile), alone.rgb));
    }
    expect(Math.max(...differences.onLattice)).toBe(0);
    // off by at most half an input pixel from the planned place: close, not equal, on a textured image
    expect(Math.max(...differences.offLattice)).toBeGreaterThan(0);
    expect(Math.max(...differences.offLattice)).toBeLessThan(10);
    expect(differences.offLattice.reduce((a, b) => a + b, 0) / differences.offLattice.length).toBeLessThan(5);
  });

  test('a crop is the tile, not its neighbour: tiles of one row differ from each other far more than from their own reads', async () => {
    const tiles = await readCellTiles(imagery, plans, INPUT);
    const row = tiles.filter((t) => t.plan.scale === 0 && t.plan.rect.top === plans[0]!.rect.top);
    expect(row.length).toBeGreaterThan(2);
    const [a, b] = row as TileRead[];
    const own = meanDifference(pixelsOf(a!), (await imagery.read(a!.plan.rect, INPUT[1], INPUT[0])).rgb);
    expect(meanDifference(pixelsOf(a!), pixelsOf(b!))).toBeGreaterThan(2 * own);
  });

  test('over a hole, a tile\'s share of valid pixels is the share its own read finds', async () => {
    const holedPlans = planTiles(holed, SCALES);
    const tiles = await readCellTiles(holed, holedPlans, INPUT);
    const coverages = tiles.map((t) => ('unreadable' in t ? -1 : t.coverage));
    expect(coverages.some((c) => c === 0)).toBe(true);
    expect(coverages.some((c) => c > 0 && c < 1)).toBe(true);
    expect(coverages.some((c) => c === 1)).toBe(true);
    for (const [i, plan] of holedPlans.entries()) {
      const alone = await holed.read(plan.rect, INPUT[1], INPUT[0]);
      expect(Math.abs(coverages[i]! - alone.coverage)).toBeLessThan(0.1);
    }
  });
});
