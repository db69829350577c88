import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gdalTool, syntheticGeoTiff } from '../tests/support/gdalTools';
import { openImagery, type Imagery } from './imagerySource';
import { openImageryStack } from './imageryStack';

/** about 100 m on a side at 0.5 m/px; the second lies over the first's south-east quarter and beyond */
const FIRST = { width: 200, height: 200, metersPerPixel: 0.5, north: 47, west: 8, seed: 5 };
const SECOND = { north: 46.99955, west: 8.00066 };
const RED = [255, 0, 0];

/** The colour at a ground point, read from a 3×3-pixel window around it, and whether it is valid. */
async function colourAt(imagery: Imagery, lat: number, lon: number): Promise<{ rgb: number[]; valid: boolean }> {
  const { px, py } = imagery.georef.lonLatToPixel({ lat, lon });
  const window = await imagery.read({ left: Math.round(px) - 1, top: Math.round(py) - 1, width: 3, height: 3 }, 3, 3);
  return { rgb: [...window.rgb.subarray(12, 15)], valid: window.valid[4] === 255 };
}

describe('imagery stacks', () => {
  let tmp: string;
  let first: string;
  let utm: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-stack-'));
    ({ tif: first } = await syntheticGeoTiff(tmp, FIRST));
    const red = join(tmp, 'red.tif');
    gdalTool('gdal_create', '-q', '-of', 'GTiff', '-outsize', '200', '200', '-bands', '3', '-burn', '255', '-burn', '0', '-burn', '0', '-a_srs', 'EPSG:4326', '-a_ullr', String(SECOND.west), String(SECOND.north), String(SECOND.west + 0.0013), String(SECOND.north - 0.0009), red);
    utm = join(tmp, 'red-utm.tif');
    gdalTool('gdalwarp', '-q', '-t_srs', 'EPSG:32632', '-dstalpha', red, utm);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test("a source in another CRS is warped into the first one's grid, on top where they overlap; ground neither covers is a hole", async () => {
    const alone = await openImagery(first, () => undefined);
    const stack = await openImageryStack([first, utm], () => undefined);
    try {
      expect(stack.crs).toBe(alone.crs);
      expect(stack.georef.affine.a).toBe(alone.georef.affine.a);
      expect(stack.layers![0]).toEqual({ left: 0, top: 0, width: alone.width, height: alone.height });
      expect(stack.width).toBeGreaterThan(alone.width);
      expect(stack.bounds.east).toBeGreaterThan(alone.bounds.east);
      const overlap = { lat: SECOND.north - 0.0002, lon: SECOND.west + 0.0002 };
      expect(await colourAt(stack, overlap.lat, overlap.lon)).toEqual({ rgb: RED, valid: true });
      const firstOnly = { lat: FIRST.north - 0.0002, lon: FIRST.west + 0.0002 };
      const fromStack = await colourAt(stack, firstOnly.lat, firstOnly.lon);
      const fromAlone = await colourAt(alone, firstOnly.lat, firstOnly.lon);
      expect(fromStack.valid).toBe(true);
      fromStack.rgb.forEach((v, i) => expect(Math.abs(v - fromAlone.rgb[i]!)).toBeLessThanOrEqual(1));
      expect((await colourAt(stack, FIRST.north - 0.00005, stack.bounds.east - 0.00005)).valid).toBe(false);
    } finally {
      stack.close();
      alone.close();
    }
  });

  test('the order decides which source lies on top', async () => {
    const stack = await openImageryStack([utm, first], () => undefined);
    try {
      expect(stack.crs).toBe('EPSG:3857');
      const overlap = await colourAt(stack, SECOND.north - 0.0002, SECOND.west + 0.0002);
      expect(overlap.valid).toBe(true);
      expect(overlap.rgb).not.toEqual(RED);
    } finally {
      stack.close();
    }
  });
});
