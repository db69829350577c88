import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Georef, writeWorldFile, type Affine } from '../pipeline/geo/georef';
import { MERCATOR_HALF_EXTENT_M, lonLatToMercator, mercatorToLonLat, tileAt } from '../pipeline/geo/webMercator';
import { createGateway, type Gateway } from './server';
import type { ImageryInfo } from './tiles';
import { scrapeMetric } from '../tests/support/gatewayClients';
import { gdalTool } from '../tests/support/gdalTools';

/** A smooth but steep pattern: half a pixel of misregistration shifts a channel by several levels. */
const WIDTH = 600;
const HEIGHT = 400;
const PERIOD_X = 64;
const PERIOD_Y = 48;
const redAt = (u: number) => 128 + 120 * Math.sin((2 * Math.PI * u) / PERIOD_X);
const greenAt = (v: number) => 128 + 120 * Math.sin((2 * Math.PI * v) / PERIOD_Y);
/** bilinear interpolation of a smooth pattern + PNG rounding */
const CHANNEL_TOLERANCE = 3;
/** EPSG:4326, ~1.1 m pixels near Zürich; pixel (0,0) corner at lon 8.5, lat 47.4 */
const AFFINE: Affine = { a: 1e-5, b: 0, c: 8.5, d: 0, e: -1e-5, f: 47.4 };
/** The same corner in EPSG:3857 (Web-Mercator metres), 1.2 Mercator metres a pixel. */
const MERCATOR_CORNER = lonLatToMercator({ lat: 47.4, lon: 8.5 });
const MERCATOR_AFFINE: Affine = { a: 1.2, b: 0, c: MERCATOR_CORNER.x, d: 0, e: -1.2, f: MERCATOR_CORNER.y };
const TILE = 256;

async function writeImagery(dir: string, name: string, affine: Affine): Promise<string> {
  const rgb = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      rgb[i] = Math.round(redAt(x));
      rgb[i + 1] = Math.round(greenAt(y));
      rgb[i + 2] = 200;
    }
  }
  const path = join(dir, `${name}.png`);
  await sharp(rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).png().toFile(path);
  writeWorldFile(join(dir, `${name}.pgw`), affine);
  return path;
}

/**
 * Fetches the tile at the imagery's centre at its native zoom and checks a grid of its pixels
 * against the pattern at the same lon/lat, worked out independently of the tile code.
 * Returns how many pixels were compared.
 */
async function expectTileMatchesPattern(baseUrl: string, georef: Georef, info: ImageryInfo): Promise<number> {
  const z = info.nativeZoom;
  const centre = georef.pixelToLonLat(WIDTH / 2, HEIGHT / 2);
  const { x, y } = tileAt(z, centre);
  const res = await rawGet(baseUrl, `/tiles/${z}/${x}/${y}.png`);
  expect(res.status).toBe(200);
  expect(res.type).toBe('image/png');
  const { data, info: png } = await sharp(res.body).raw().toBuffer({ resolveWithObject: true });
  expect([png.width, png.height, png.channels]).toEqual([TILE, TILE, 4]);
  const mercatorPerPixel = (2 * MERCATOR_HALF_EXTENT_M) / (2 ** z * TILE);
  let compared = 0;
  for (let row = 8; row < TILE; row += 31) {
    for (let col = 5; col < TILE; col += 29) {
      const lonLat = mercatorToLonLat(-MERCATOR_HALF_EXTENT_M + (x * TILE + col + 0.5) * mercatorPerPixel, MERCATOR_HALF_EXTENT_M - (y * TILE + row + 0.5) * mercatorPerPixel);
      const { px, py } = georef.lonLatToPixel(lonLat);
      const at = (row * TILE + col) * 4;
      if (px < 1 || py < 1 || px > WIDTH - 1 || py > HEIGHT - 1) continue;
      expect(Math.abs(data[at]! - redAt(px - 0.5))).toBeLessThanOrEqual(CHANNEL_TOLERANCE);
      expect(Math.abs(data[at + 1]! - greenAt(py - 0.5))).toBeLessThanOrEqual(CHANNEL_TOLERANCE);
      expect(data[at + 2]).toBe(200);
      expect(data[at + 3]).toBe(255);
      compared++;
    }
  }
  return compared;
}

/** The raw path goes on the wire as written: no client-side normalisation of `..`. */
function rawGet(baseUrl: string, path: string): Promise<{ status: number; body: Buffer; type: string | undefined }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

const codeOf = (body: Buffer) => (JSON.parse(body.toString()) as { code: string }).code;

describe('map tiles cut from the imagery', () => {
  let dir: string;
  let imageryPath: string;
  let gateway: Gateway;
  let info: ImageryInfo;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'geoloc-tiles-'));
    imageryPath = await writeImagery(dir, 'imagery', AFFINE);
    gateway = await createGateway({ imagery: { imagery: imageryPath } });
    info = ((await (await fetch(`${gateway.url}/api/imagery`)).json()) as { imagery: ImageryInfo }).imagery;
  });

  afterAll(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/api/imagery describes the bounds and a native zoom that matches the pixel size', () => {
    expect(info.bounds.west).toBeCloseTo(8.5, 9);
    expect(info.bounds.north).toBeCloseTo(47.4, 9);
    expect(info.bounds.east).toBeCloseTo(8.5 + WIDTH * 1e-5, 9);
    expect(info.bounds.south).toBeCloseTo(47.4 - HEIGHT * 1e-5, 9);
    // The native zoom is the first whose tile pixels are no coarser than the imagery's.
    const tilePixelM = (z: number) => ((2 * MERCATOR_HALF_EXTENT_M) / (TILE * 2 ** z)) * Math.cos((info.bounds.north * Math.PI) / 180);
    expect(info.metersPerPixel).toBeGreaterThan(0.75);
    expect(info.metersPerPixel).toBeLessThan(1.12);
    expect(tilePixelM(info.nativeZoom)).toBeLessThanOrEqual(info.metersPerPixel * 1.001);
    expect(tilePixelM(info.nativeZoom - 1)).toBeGreaterThan(info.metersPerPixel);
    expect(info.maxZoom).toBeGreaterThan(info.nativeZoom);
  });

  test('a tile inside EPSG:4326 imagery is a 256×256 PNG whose pixels match the source at the same lon/lat', async () => {
    expect(await expectTileMatchesPattern(gateway.url, new Georef('EPSG:4326', AFFINE), info)).toBeGreaterThan(40);
  });

  test('so is a tile inside EPSG:3857 imagery', async () => {
    const mercatorGateway = await createGateway({ imagery: { imagery: await writeImagery(dir, 'mercator', MERCATOR_AFFINE) } });
    try {
      const described = ((await (await fetch(`${mercatorGateway.url}/api/imagery`)).json()) as { imagery: ImageryInfo }).imagery;
      expect(await expectTileMatchesPattern(mercatorGateway.url, new Georef('EPSG:3857', MERCATOR_AFFINE), described)).toBeGreaterThan(40);
    } finally {
      await mercatorGateway.close();
    }
  });

  test('a tile on the edge of the imagery is transparent outside it', async () => {
    const z = info.nativeZoom;
    const { x, y } = tileAt(z, { lat: info.bounds.north, lon: info.bounds.west });
    const res = await rawGet(gateway.url, `/tiles/${z}/${x}/${y}.png`);
    expect(res.status).toBe(200);
    const { data } = await sharp(res.body).raw().toBuffer({ resolveWithObject: true });
    const alphas = new Set<number>();
    for (let i = 3; i < data.length; i += 4) alphas.add(data[i]!);
    expect([...alphas].sort((a, b) => a - b)).toEqual([0, 255]);
  });

  test('a zoomed-out tile is drawn from the pyramid and still covers the imagery', async () => {
    const z = info.nativeZoom - 4;
    const { x, y } = tileAt(z, { lat: info.bounds.north, lon: info.bounds.west });
    const res = await rawGet(gateway.url, `/tiles/${z}/${x}/${y}.png`);
    expect(res.status).toBe(200);
  });

  test('every zoom /api/imagery names shows the imagery; below minZoom the imagery is too small to show', async () => {
    // The imagery (600 × 400 pixels of ~1 m) is narrower than one tile pixel up to zoom 7.
    expect(info.minZoom).toBeGreaterThan(0);
    // The tile under the imagery's centre (in Mercator, where tiles are cut) holds a pixel centre on it once it spans a pixel.
    const southWest = lonLatToMercator({ lat: info.bounds.south, lon: info.bounds.west });
    const northEast = lonLatToMercator({ lat: info.bounds.north, lon: info.bounds.east });
    const centre = mercatorToLonLat((southWest.x + northEast.x) / 2, (southWest.y + northEast.y) / 2);
    const statusAt = async (z: number) => {
      const { x, y } = tileAt(z, centre);
      return (await rawGet(gateway.url, `/tiles/${z}/${x}/${y}.png`)).status;
    };
    const zooms = Array.from({ length: info.maxZoom - info.minZoom + 1 }, (_, i) => info.minZoom + i);
    const statuses = await Promise.all(zooms.map(statusAt));
    expect(Object.fromEntries(zooms.map((z, i) => [z, statuses[i]]))).toEqual(Object.fromEntries(zooms.map((z) => [z, 200])));
    expect(await statusAt(info.minZoom - 1)).toBe(404);
  });

  test.each([
    ['far outside the imagery', () => `/tiles/${info.nativeZoom}/0/0.png`],
    ['past the deepest zoom served', () => `/tiles/${info.maxZoom + 1}/0/0.png`],
  ])('a tile %s is 404 GEOLOC_ERR_TILE_NOT_FOUND', async (_what, path) => {
    const before = await scrapeMetric(gateway.url, 'geoloc_http_rejected_total', { reason: 'tile_not_found' });
    const res = await rawGet(gateway.url, path());
    expect(res.status).toBe(404);
    expect(codeOf(res.body)).toBe('GEOLOC_ERR_TILE_NOT_FOUND');
    expect(await scrapeMetric(gateway.url, 'geoloc_http_rejected_total', { reason: 'tile_not_found' })).toBe(before + 1);
  });

  test.each([
    '/tiles/../../etc/passwd',
    '/tiles/..%2f..%2fetc/passwd',
    '/tiles/%2e%2e/1/1.png',
    '/tiles/1/1/1.png/../../../package.json',
    '/tiles/1/1/1.jpg',
    '/tiles/-1/0/0.png',
    '/tiles/1/2/0.png',
    '/tiles/25/0/0.png',
    '/tiles/1/0x1/0.png',
    '/tiles/1/1/1.png%00',
  ])('%s is 400 GEOLOC_ERR_TILE_BAD_PATH', async (path) => {
    const before = await scrapeMetric(gateway.url, 'geoloc_http_rejected_total', { reason: 'tile_bad_path' });
    const res = await rawGet(gateway.url, path);
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('GEOLOC_ERR_TILE_BAD_PATH');
    expect(await scrapeMetric(gateway.url, 'geoloc_http_rejected_total', { reason: 'tile_bad_path' })).toBe(before + 1);
  });

  test('a gateway without imagery answers tiles with 404 and a hint', async () => {
    const bare = await createGateway({});
    try {
      const res = await rawGet(bare.url, '/tiles/1/0/0.png');
      expect(res.status).toBe(404);
      expect(codeOf(res.body)).toBe('GEOLOC_ERR_TILE_NOT_FOUND');
      expect(((await (await fetch(`${bare.url}/api/imagery`)).json()) as { imagery: unknown }).imagery).toBeNull();
    } finally {
      await bare.close();
    }
  });

  test('a folder of images with a corner CSV is tiled across the seam between them', async () => {
    const folder = join(dir, 'folder');
    mkdirSync(folder, { recursive: true });
    const solid = (r: number, g: number, b: number) => sharp({ create: { width: 200, height: 200, channels: 3, background: { r, g, b } } }).png();
    await solid(255, 0, 0).toFile(join(folder, 'west.png'));
    await solid(0, 0, 255).toFile(join(folder, 'east.png'));
    writeFileSync(
      join(folder, 'map.csv'),
      ['Filename,Top_left_lat,Top_left_lon,Bottom_right_lat,Bottom_right_lon', 'west.png,47.402,8.5,47.4,8.502', 'east.png,47.402,8.502,47.4,8.504'].join('\n'),
    );
    const tiled = await createGateway({ imagery: { imagery: folder } });
    try {
      const described = ((await (await fetch(`${tiled.url}/api/imagery`)).json()) as { imagery: ImageryInfo }).imagery;
      expect(described.bounds.west).toBeCloseTo(8.5, 9);
      expect(described.bounds.east).toBeCloseTo(8.504, 9);
      const { x, y } = tileAt(described.nativeZoom, { lat: 47.401, lon: 8.502 });
      const res = await rawGet(tiled.url, `/tiles/${described.nativeZoom}/${x}/${y}.png`);
      expect(res.status).toBe(200);
      const { data } = await sharp(res.body).raw().toBuffer({ resolveWithObject: true });
      const colours = new Set<string>();
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] === 255) colours.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
      expect(colours.has('255,0,0')).toBe(true);
      expect(colours.has('0,0,255')).toBe(true);
    } finally {
      await tiled.close();
    }
  });

  describe('imagery named by an index manifest', () => {
    const indexDir = () => join(dir, 'index');

    test('a relative imagery.path is read from beside the manifest', async () => {
      rmSync(indexDir(), { recursive: true, force: true });
      mkdirSync(indexDir());
      writeFileSync(join(indexDir(), 'manifest.json'), JSON.stringify({ imagery: { path: '../imagery.png', crs: 'EPSG:4326' } }));
      const fromIndex = await createGateway({ imagery: { index: indexDir() } });
      try {
        const described = ((await (await fetch(`${fromIndex.url}/api/imagery`)).json()) as { imagery: ImageryInfo }).imagery;
        expect(described.bounds).toEqual(info.bounds);
      } finally {
        await fromIndex.close();
      }
    });

    test('a manifest without imagery, or no manifest, is refused with a code', async () => {
      writeFileSync(join(indexDir(), 'manifest.json'), JSON.stringify({ dimension: 128 }));
      await expect(createGateway({ imagery: { index: indexDir() } })).rejects.toMatchObject({ code: 'GEOLOC_ERR_IMAGERY_MANIFEST' });
      await expect(createGateway({ imagery: { index: join(dir, 'no-such-index') } })).rejects.toMatchObject({ code: 'GEOLOC_ERR_FILE_NOT_FOUND' });
    });
  });

  describe('tile caches and warped imagery', () => {
    let mercator: string;

    beforeAll(async () => {
      const png = await writeImagery(dir, 'cache-source', MERCATOR_AFFINE);
      mercator = join(dir, 'cache-source.tif');
      gdalTool('gdal_translate', '-q', '-a_srs', 'EPSG:3857', png, mercator);
    });

    /** The tile over the imagery's centre at zoom z (default its native zoom), as the gateway serves it. */
    const centreTile = async (url: string, zoom?: number) => {
      const described = ((await (await fetch(`${url}/api/imagery`)).json()) as { imagery: ImageryInfo }).imagery;
      const b = described.bounds;
      const z = zoom ?? described.nativeZoom;
      const { x, y } = tileAt(z, { lat: (b.north + b.south) / 2, lon: (b.west + b.east) / 2 });
      return { z, x, y, res: await rawGet(url, `/tiles/${z}/${x}/${y}.png`) };
    };

    test('an XYZ folder and an MBTiles serve their stored tiles byte for byte', async () => {
      const xyz = join(dir, 'xyz');
      gdalTool('gdal2tiles.py', '-q', '--xyz', '-z', '16-17', '-w', 'none', mercator, xyz);
      const mbtiles = join(dir, 'cache.mbtiles');
      gdalTool('gdal_translate', '-q', '-of', 'MBTiles', mercator, mbtiles);
      const sql = (query: string) => gdalTool('/usr/bin/python3', '-c', `import sqlite3; print(sqlite3.connect('${mbtiles}').execute('${query}').fetchone()[0])`).trim();
      const deepest = { [xyz]: 17, [mbtiles]: Number(sql('SELECT max(zoom_level) FROM tiles')) };
      for (const [imagery, stored] of [
        [xyz, (z: number, x: number, y: number) => readFileSync(join(xyz, String(z), String(x), `${y}.png`))],
        [mbtiles, (z: number, x: number, y: number) => Buffer.from(sql(`SELECT hex(tile_data) FROM tiles WHERE zoom_level=${z} AND tile_column=${x} AND tile_row=${2 ** z - 1 - y}`), 'hex')],
      ] as const) {
        const served = await createGateway({ imagery: { imagery } });
        try {
          const { z, x, y, res } = await centreTile(served.url, deepest[imagery]);
          expect([imagery, res.status, res.type]).toEqual([imagery, 200, 'image/png']);
          expect(res.body.equals(stored(z, x, y))).toBe(true);
        } finally {
          await served.close();
        }
      }
    });

    test('a COG in UTM is cut by windows into tiles of the same ground as the source', async () => {
      const utm = join(dir, 'utm.tif');
      gdalTool('gdalwarp', '-q', '-t_srs', 'EPSG:32632', '-r', 'bilinear', '-of', 'COG', mercator, utm);
      const warped = await createGateway({ imagery: { imagery: utm } });
      const plain = await createGateway({ imagery: { imagery: mercator } });
      try {
        const [a, b] = [await centreTile(warped.url), await centreTile(plain.url)];
        expect([a.res.status, b.res.status]).toEqual([200, 200]);
        const [pa, pb] = await Promise.all([a, b].map(async (t) => (await sharp(t.res.body).raw().toBuffer()) as Buffer));
        let diff = 0;
        for (let i = 0; i < pa!.length; i += 4) if (pa![i + 3] === 255 && pb![i + 3] === 255) diff += Math.abs(pa![i]! - pb![i]!);
        // a smooth pattern warped twice by bilinear steps: within a few levels on average
        expect(diff / (pa!.length / 4)).toBeLessThan(6);
      } finally {
        await Promise.all([warped.close(), plain.close()]);
      }
    });
  });
});
