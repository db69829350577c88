import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sharedDataPath } from '../pipeline/core/paths';
import { coded } from '../tests/support/coded';
import { describeIfSharedData } from '../tests/support/sharedData';
import { syntheticRgb } from '../tests/support/syntheticImagery';
import { projectionModelPath } from '../tests/support/tinyModel';
import { buildIndex } from './buildIndex';
import { imageryFingerprint, openImagery, readCornerCsv } from './imagerySource';
import { SatelliteIndex } from './satelliteIndex';

const CSV_HEADER = 'Filename, Top_left_lat,Top_left_lon,Bottom_right_lat,Bottom_right_long';

async function writePng(path: string, width: number, height: number, seed: number): Promise<void> {
  await sharp(await syntheticRgb(width, height, seed), { raw: { width, height, channels: 3 } }).png().toFile(path);
}

describe('tile folder with corner coordinates', () => {
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-tiles-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  function folder(name: string, csv?: string): string {
    const dir = join(tmp, name);
    mkdirSync(dir);
    if (csv !== undefined) writeFileSync(join(dir, 'map.csv'), csv);
    return dir;
  }

  test('reads the wildnav layout, georeferences each image by its corners and skips listed files that are absent', async () => {
    const dir = folder(
      'good',
      [CSV_HEADER, '"a.png",   60.404,    22.460,   60.402,    22.464', '"b.png",  60.404,  22.464,  60.402,  22.468', '"gone.png",  60.402,  22.460,  60.400,  22.464', ''].join('\n'),
    );
    await writePng(join(dir, 'a.png'), 300, 200, 1);
    await writePng(join(dir, 'b.png'), 320, 220, 2);
    const log: string[] = [];
    const imagery = await openImagery(dir, (l) => log.push(l));
    expect(imagery.rasters.map((r) => [r.width, r.height])).toEqual([
      [300, 200],
      [320, 220],
    ]);
    const a = imagery.rasters[0]!;
    expect(a.georef.pixelToLonLat(0, 0)).toEqual({ lon: 22.46, lat: 60.404 });
    expect(a.georef.pixelToLonLat(300, 200).lon).toBeCloseTo(22.464, 12);
    expect(a.georef.pixelToLonLat(300, 200).lat).toBeCloseTo(60.402, 12);
    expect(imagery.bounds).toEqual({ west: 22.46, south: 60.402, east: 22.468, north: 60.404 });
    expect((await a.rgb()).length).toBe(300 * 200 * 3);
    expect(log.join('\n')).toContain('gone.png');
  });

  test('a changed image changes the fingerprint', async () => {
    const dir = folder('fingerprint', [CSV_HEADER, 'x.png, 60.404, 22.460, 60.402, 22.464'].join('\n'));
    await writePng(join(dir, 'x.png'), 50, 50, 1);
    const before = await imageryFingerprint(dir);
    expect(await imageryFingerprint(dir)).toBe(before);
    await writePng(join(dir, 'x.png'), 50, 50, 2);
    expect(await imageryFingerprint(dir)).not.toBe(before);
  });

  test('a folder without a CSV, a CSV without a column, a bad number, or no image present: GEOLOC_ERR_TILE_FOLDER', async () => {
    await expect(openImagery(folder('empty'), () => undefined)).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'map.csv'));
    await expect(readCornerCsv(folder('nocol', 'Filename,Top_left_lat,Top_left_lon,Bottom_right_lat\na.png,1,2,0\n'))).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'bottomRightLon'));
    await expect(readCornerCsv(folder('badnum', `${CSV_HEADER}\na.png,60.4,22.46,sixty,22.47\n`))).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'line 2'));
    await expect(readCornerCsv(folder('flipped', `${CSV_HEADER}\na.png,60.3,22.46,60.4,22.47\n`))).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'north-west'));
    await expect(openImagery(folder('absent', `${CSV_HEADER}\nnope.png,60.4,22.46,60.3,22.47\n`), () => undefined)).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'none of the images'));
  });
});

describeIfSharedData(['wildnav-finland', 'map.csv'], 'real tiles (wildnav-finland)', () => {
  const SOURCE_TILES = ['sat_map_00.png', 'sat_map_01.png', 'sat_map_02.png'];
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-wildnav-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('an index of three real tiles puts every tile inside its source image', async () => {
    // A folder of links to three of the real tiles, with their rows of the real map.csv.
    const dir = join(tmp, 'tiles');
    mkdirSync(dir);
    const real = await readCornerCsv(sharedDataPath('wildnav-finland'));
    const rows = real.rows.filter((r) => SOURCE_TILES.includes(r.file));
    expect(rows).toHaveLength(SOURCE_TILES.length);
    for (const r of rows) symlinkSync(sharedDataPath('wildnav-finland', r.file), join(dir, r.file));
    writeFileSync(join(dir, 'map.csv'), [CSV_HEADER, ...rows.map((r) => `"${r.file}", ${r.topLeftLat}, ${r.topLeftLon}, ${r.bottomRightLat}, ${r.bottomRightLon}`)].join('\n'));

    const out = join(tmp, 'index');
    const manifest = await buildIndex({ imagery: dir, modelPath: await projectionModelPath(), out, altitudesM: [60, 100], log: () => undefined });
    expect(manifest.imagery.images).toBe(SOURCE_TILES.length);
    const index = await SatelliteIndex.open(out);
    try {
      expect(index.tiles.length).toBeGreaterThan(SOURCE_TILES.length);
      const eps = 1e-9;
      for (const t of index.tiles) {
        const source = rows.find((r) => t.lat <= r.topLeftLat && t.lat >= r.bottomRightLat && t.lon >= r.topLeftLon && t.lon <= r.bottomRightLon);
        expect(source).toBeDefined();
        expect(t.bounds.north).toBeLessThanOrEqual(source!.topLeftLat + eps);
        expect(t.bounds.south).toBeGreaterThanOrEqual(source!.bottomRightLat - eps);
        expect(t.bounds.west).toBeGreaterThanOrEqual(source!.topLeftLon - eps);
        expect(t.bounds.east).toBeLessThanOrEqual(source!.bottomRightLon + eps);
      }
    } finally {
      await index.close();
    }
  });
});
