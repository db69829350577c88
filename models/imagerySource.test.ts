import { mkdirSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sharedDataPath } from '../pipeline/core/paths';
import { writeWorldFile } from '../pipeline/geo/georef';
import { coded } from '../tests/support/coded';
import { gdalTool, syntheticGeoTiff } from '../tests/support/gdalTools';
import { describeIfSharedData } from '../tests/support/sharedData';
import { syntheticRgb } from '../tests/support/syntheticImagery';
import { readCornerCsv } from './cornerCsv';
import { imageryFingerprint, openImagery, readGeoImage, type Imagery } from './imagerySource';

const CSV_HEADER = 'Filename, Top_left_lat,Top_left_lon,Bottom_right_lat,Bottom_right_long';
const quiet = () => undefined;
/** 300 × 300 px at 1 m/px near 47° N (EPSG:4326 PNG + world file) */
const IMAGE = { width: 300, height: 300, metersPerPixel: 1, north: 47.0, west: 8.0, seed: 5 };
/** mean colour of a window of the same ground, across formats and resamplings */
const MEAN_TOLERANCE = 6;

async function writePng(path: string, width: number, height: number, seed: number): Promise<void> {
  await sharp(await syntheticRgb(width, height, seed), { raw: { width, height, channels: 3 } }).png().toFile(path);
}

/** The mean RGB of the imagery over a ground box (lon/lat), read as a 32 × 32 window. */
async function meanOver(imagery: Imagery, box: { west: number; north: number; east: number; south: number }): Promise<number[]> {
  const a = imagery.georef.lonLatToPixel({ lat: box.north, lon: box.west });
  const b = imagery.georef.lonLatToPixel({ lat: box.south, lon: box.east });
  const left = Math.round(Math.min(a.px, b.px));
  const top = Math.round(Math.min(a.py, b.py));
  const window = await imagery.read({ left, top, width: Math.round(Math.abs(b.px - a.px)), height: Math.round(Math.abs(b.py - a.py)) }, 32, 32);
  expect(window.coverage).toBe(1);
  const sum = [0, 0, 0];
  for (let i = 0; i < window.rgb.length; i++) sum[i % 3]! += window.rgb[i]!;
  return sum.map((v) => v / (32 * 32));
}

describe('imagery through GDAL', () => {
  let tmp: string;
  let png: string;
  let tif: string;
  let reference: Imagery;
  let box: { west: number; north: number; east: number; south: number };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-imagery-'));
    ({ png, tif } = await syntheticGeoTiff(tmp, IMAGE));
    reference = await openImagery(png, quiet);
    const centre = reference.georef.pixelToLonLat(150, 150);
    const d = reference.georef.pixelToLonLat(190, 190);
    box = { west: centre.lon, north: centre.lat, east: d.lon, south: d.lat };
  });
  afterAll(() => {
    reference.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a PNG with a world file is read by windows, with its bounds, resolution and CRS', async () => {
    expect([reference.kind, reference.crs, reference.width, reference.height]).toEqual(['raster', 'EPSG:4326', 300, 300]);
    expect(reference.sourceCrs).toContain('guessed from the world file');
    expect(reference.metersPerPixel).toBeCloseTo(1, 2);
    expect(reference.bounds.west).toBeCloseTo(8, 12);
    expect(reference.bounds.north).toBeCloseTo(47, 12);
    const rgb = await syntheticRgb(300, 300, IMAGE.seed);
    const window = await reference.read({ left: 10, top: 20, width: 5, height: 4 }, 5, 4);
    expect([...window.rgb.subarray(0, 15)]).toEqual([...rgb.subarray((20 * 300 + 10) * 3, (20 * 300 + 15) * 3)]);
    expect(window.coverage).toBe(1);
    const whole = await readGeoImage(png);
    expect(whole.rgb.equals(rgb)).toBe(true);
  });

  test('GeoTIFF, COG, JPEG2000, VRT, MBTiles and an XYZ folder show the same ground', async () => {
    const cog = join(tmp, 'cog.tif');
    gdalTool('gdal_translate', '-q', '-of', 'COG', '-co', 'BLOCKSIZE=128', tif, cog);
    const jp2 = join(tmp, 'image.jp2');
    gdalTool('gdal_translate', '-q', '-of', 'JP2OpenJPEG', '-co', 'QUALITY=100', '-co', 'REVERSIBLE=YES', tif, jp2);
    const vrt = join(tmp, 'image.vrt');
    gdalTool('gdalbuildvrt', '-q', vrt, tif);
    const mercator = join(tmp, 'mercator.tif');
    gdalTool('gdalwarp', '-q', '-t_srs', 'EPSG:3857', '-r', 'bilinear', tif, mercator);
    const mbtiles = join(tmp, 'image.mbtiles');
    gdalTool('gdal_translate', '-q', '-of', 'MBTiles', mercator, mbtiles);
    const xyz = join(tmp, 'xyz');
    gdalTool('gdal2tiles.py', '-q', '--xyz', '-z', '17', '-r', 'bilinear', '-w', 'none', mercator, xyz);
    const expected = await meanOver(reference, box);
    for (const [path, kind, crs] of [
      [tif, 'raster', 'EPSG:4326'],
      [cog, 'raster', 'EPSG:4326'],
      [jp2, 'raster', 'EPSG:4326'],
      [vrt, 'raster', 'EPSG:4326'],
      [mbtiles, 'mbtiles', 'EPSG:3857'],
      [xyz, 'xyz-folder', 'EPSG:3857'],
    ] as const) {
      const imagery = await openImagery(path, quiet);
      try {
        expect([path, imagery.kind, imagery.crs]).toEqual([path, kind, crs]);
        const mean = await meanOver(imagery, box);
        mean.forEach((v, c) => expect([path, c, Math.abs(v - expected[c]!) <= MEAN_TOLERANCE]).toEqual([path, c, true]));
      } finally {
        imagery.close();
      }
    }
  });

  test('a raster in UTM is warped on the fly into EPSG:3857 and shows the same ground', async () => {
    const utm = join(tmp, 'utm.tif');
    gdalTool('gdalwarp', '-q', '-t_srs', 'EPSG:32632', '-r', 'bilinear', '-of', 'COG', tif, utm);
    const imagery = await openImagery(utm, quiet);
    try {
      expect([imagery.crs, imagery.sourceCrs]).toEqual(['EPSG:3857', 'EPSG:32632']);
      expect(imagery.metersPerPixel).toBeGreaterThan(0.9);
      expect(imagery.metersPerPixel).toBeLessThan(1.1);
      const expected = await meanOver(reference, box);
      (await meanOver(imagery, box)).forEach((v, c) => expect(Math.abs(v - expected[c]!)).toBeLessThanOrEqual(MEAN_TOLERANCE));
      // the warped raster's corners lie outside the source: holes, not black ground
      expect((await imagery.read({ left: 0, top: 0, width: 3, height: 3 }, 3, 3)).coverage).toBe(0);
    } finally {
      imagery.close();
    }
  });

  test('a raster with no CRS, an unknown CRS, only nodata, no georeferencing or a malformed world file: each its coded error naming the file', async () => {
    const noCrs = join(tmp, 'no-crs.tif');
    gdalTool('gdal_translate', '-q', '-a_ullr', '8', '47', '8.004', '46.997', await plainPng(join(tmp, 'plain.png')), noCrs);
    await expect(openImagery(noCrs, quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_IMAGERY_NO_CRS', noCrs));
    const local = join(tmp, 'local.tif');
    gdalTool('gdal_translate', '-q', '-a_srs', 'LOCAL_CS["site grid",UNIT["metre",1]]', '-a_ullr', '0', '300', '300', '0', join(tmp, 'plain.png'), local);
    await expect(openImagery(local, quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_CRS_UNSUPPORTED', local));
    const empty = join(tmp, 'empty.tif');
    gdalTool('gdal_translate', '-q', '-scale', '0', '255', '0', '0', '-a_nodata', '0', tif, empty);
    await expect(openImagery(empty, quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_IMAGERY_EMPTY', empty));
    await expect(openImagery(join(tmp, 'plain.png'), quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_IMAGERY_NOT_GEOREFERENCED', 'plain.png'));
    const badWorld = await plainPng(join(tmp, 'bad-world.png'));
    writeFileSync(join(tmp, 'bad-world.pgw'), 'not a world file');
    await expect(openImagery(badWorld, quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_WORLD_FILE', 'bad-world.pgw'));
    await expect(openImagery(join(tmp, 'absent.tif'), quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_FILE_NOT_FOUND', 'absent.tif'));
  });

  test('a VRT pointing at missing files and an MBTiles with a wrong schema are refused by name', async () => {
    const source = join(tmp, 'doomed.tif');
    gdalTool('gdal_translate', '-q', tif, source);
    const vrt = join(tmp, 'dangling.vrt');
    gdalTool('gdalbuildvrt', '-q', vrt, source);
    rmSync(source);
    await expect(openImagery(vrt, quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_VRT_MISSING_SOURCE', 'doomed.tif'));
    const csv = join(tmp, 'rows.csv');
    writeFileSync(csv, 'name,value\na,1\n');
    const wrong = join(tmp, 'wrong.mbtiles');
    gdalTool('ogr2ogr', '-f', 'SQLite', wrong, csv);
    await expect(openImagery(wrong, quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_MBTILES_SCHEMA', wrong));
  });

  test('a corrupt block of a COG fails only the windows over it, with a coded error naming the file', async () => {
    const cog = join(tmp, 'corrupt.tif');
    gdalTool('gdal_translate', '-q', '-of', 'COG', '-co', 'BLOCKSIZE=64', '-co', 'COMPRESS=DEFLATE', '-co', 'OVERVIEWS=NONE', tif, cog);
    const size = statSync(cog).size;
    const fd = openSync(cog, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(size * 0.6));
    closeSync(fd);
    const imagery = await openImagery(cog, quiet);
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 25 }, (_, i) => imagery.read({ left: (i % 5) * 60, top: Math.floor(i / 5) * 60, width: 60, height: 60 }, 60, 60)),
      );
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.length).toBeLessThan(results.length);
      for (const f of failed) expect(f.reason).toMatchObject(coded('GEOLOC_ERR_IMAGERY_CORRUPT_TILE', cog));
    } finally {
      imagery.close();
    }
  });

  test('a corrupt tile inside an MBTiles reads as a hole under it only: GDAL drops the tile, the build counts what lies over it', async () => {
    const mercator = join(tmp, 'mercator-for-mbtiles.tif');
    gdalTool('gdalwarp', '-q', '-t_srs', 'EPSG:3857', '-r', 'bilinear', tif, mercator);
    const mbtiles = join(tmp, 'corrupt.mbtiles');
    gdalTool('gdal_translate', '-q', '-of', 'MBTiles', mercator, mbtiles);
    const before = await readCoverage(mbtiles);
    expect(before).toBeGreaterThan(0.8);
    const changed = gdalTool('/usr/bin/python3', '-c', `import sqlite3
c = sqlite3.connect('${mbtiles}')
z = c.execute('SELECT max(zoom_level) FROM tiles').fetchone()[0]
row = c.execute('SELECT tile_column, tile_row FROM tiles WHERE zoom_level = ? ORDER BY tile_column, tile_row LIMIT 1', (z,)).fetchone()
c.execute('UPDATE tiles SET tile_data = ? WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?', (b'\\x89PNG garbage', z, row[0], row[1]))
c.commit()
print(c.total_changes)`);
    expect(changed.trim()).toBe('1');
    const after = await readCoverage(mbtiles);
    // one 256-px tile of a raster a few tiles wide: some of it is lost, not the rest
    expect(after).toBeLessThan(before - 0.01);
    expect(after).toBeGreaterThan(before / 2);
  });

  test('a folder of rasters at different resolutions is refused, naming both', async () => {
    const dir = join(tmp, 'mixed');
    mkdirSync(dir);
    gdalTool('gdal_translate', '-q', tif, join(dir, 'fine.tif'));
    gdalTool('gdal_translate', '-q', '-outsize', '50%', '50%', tif, join(dir, 'coarse.tif'));
    await expect(openImagery(dir, quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_IMAGERY_MIXED_RESOLUTION', 'coarse.tif'));
  });
});

/** The share of valid pixels of a whole raster. */
async function readCoverage(path: string): Promise<number> {
  const imagery = await openImagery(path, quiet);
  try {
    return (await imagery.read({ left: 0, top: 0, width: imagery.width, height: imagery.height }, imagery.width, imagery.height)).coverage;
  } finally {
    imagery.close();
  }
}

/** A PNG with no world file. */
async function plainPng(path: string): Promise<string> {
  await writePng(path, 300, 300, 9);
  return path;
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

  test('reads the wildnav layout as one mosaic: windows cross image borders, ground no image covers is a hole, absent files are skipped', async () => {
    const dir = folder(
      'good',
      [CSV_HEADER, '"a.png",   60.404,    22.460,   60.402,    22.464', '"b.png",  60.404,  22.464,  60.402,  22.468', '"c.png",  60.402,  22.460,  60.400,  22.464', '"gone.png",  60.402,  22.464,  60.400,  22.468', ''].join('\n'),
    );
    await writePng(join(dir, 'a.png'), 300, 200, 1);
    await writePng(join(dir, 'b.png'), 300, 200, 2);
    await writePng(join(dir, 'c.png'), 300, 200, 3);
    const log: string[] = [];
    const imagery = await openImagery(dir, (l) => log.push(l));
    try {
      expect([imagery.kind, imagery.crs, imagery.images, imagery.width, imagery.height]).toEqual(['corner-folder', 'EPSG:4326', 3, 600, 400]);
      expect(imagery.bounds.west).toBeCloseTo(22.46, 12);
      expect(imagery.bounds.east).toBeCloseTo(22.468, 12);
      expect(imagery.bounds.south).toBeCloseTo(60.4, 12);
      expect(imagery.bounds.north).toBeCloseTo(60.404, 12);
      const a = await syntheticRgb(300, 200, 1);
      const b = await syntheticRgb(300, 200, 2);
      // a window across the a|b border: its left half is a's right edge, its right half b's left edge
      const across = await imagery.read({ left: 290, top: 50, width: 20, height: 1 }, 20, 1);
      expect([...across.rgb.subarray(0, 30)]).toEqual([...a.subarray((50 * 300 + 290) * 3, (50 * 300 + 300) * 3)]);
      expect([...across.rgb.subarray(30, 60)]).toEqual([...b.subarray(50 * 300 * 3, (50 * 300 + 10) * 3)]);
      expect(across.coverage).toBe(1);
      // the missing quarter reads as a hole
      expect((await imagery.read({ left: 350, top: 250, width: 100, height: 100 }, 50, 50)).coverage).toBe(0);
      expect(log.join('\n')).toContain('gone.png');
    } finally {
      imagery.close();
    }
  });

  test('a changed image changes the fingerprint', async () => {
    const dir = folder('fingerprint', [CSV_HEADER, 'x.png, 60.404, 22.460, 60.402, 22.464'].join('\n'));
    await writePng(join(dir, 'x.png'), 50, 50, 1);
    const before = await imageryFingerprint(dir);
    expect(await imageryFingerprint(dir)).toBe(before);
    await writePng(join(dir, 'x.png'), 50, 50, 2);
    expect(await imageryFingerprint(dir)).not.toBe(before);
  });

  test('a folder without a CSV or raster, a CSV without a column, a bad number, or no image present: GEOLOC_ERR_TILE_FOLDER', async () => {
    await expect(openImagery(folder('empty'), quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'map.csv'));
    await expect(readCornerCsv(folder('nocol', 'Filename,Top_left_lat,Top_left_lon,Bottom_right_lat\na.png,1,2,0\n'))).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'bottomRightLon'));
    await expect(readCornerCsv(folder('badnum', `${CSV_HEADER}\na.png,60.4,22.46,sixty,22.47\n`))).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'line 2'));
    await expect(readCornerCsv(folder('flipped', `${CSV_HEADER}\na.png,60.3,22.46,60.4,22.47\n`))).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'north-west'));
    await expect(openImagery(folder('absent', `${CSV_HEADER}\nnope.png,60.4,22.46,60.3,22.47\n`), quiet)).rejects.toMatchObject(coded('GEOLOC_ERR_TILE_FOLDER', 'none of the images'));
  });
});

describeIfSharedData(['wildnav-finland', 'map.csv'], 'real tiles (wildnav-finland)', () => {
  test('the 12 orthophotos become one mosaic whose missing tiles are holes', async () => {
    const imagery = await openImagery(sharedDataPath('wildnav-finland'), quiet);
    try {
      expect(imagery.images).toBe(12);
      expect(imagery.metersPerPixel).toBeGreaterThan(0.1);
      expect(imagery.metersPerPixel).toBeLessThan(0.2);
      const overview = await imagery.read({ left: 0, top: 0, width: imagery.width, height: imagery.height }, 200, 200);
      expect(overview.coverage).toBeGreaterThan(0.6);
      expect(overview.coverage).toBeLessThan(0.95);
    } finally {
      imagery.close();
    }
  });
});

describeIfSharedData(['mandi-flight', 'satellite_map.pgw'], 'the real Web-Mercator map', () => {
  test('covers 31.777–31.786 N, 76.992–77.007 E at 1.318 m/px, as its README says', async () => {
    const image = await readGeoImage(sharedDataPath('mandi-flight', 'satellite_map.png'));
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

test('world files are still written and read as the corner-based affine (symlinked image and its world file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoloc-link-'));
  try {
    await writePng(join(dir, 'real.png'), 40, 20, 4);
    symlinkSync(join(dir, 'real.png'), join(dir, 'map.png'));
    writeWorldFile(join(dir, 'map.pgw'), { a: 1e-4, b: 0, c: 10, d: 0, e: -1e-4, f: 50 });
    const image = await readGeoImage(join(dir, 'map.png'));
    expect([image.width, image.height]).toEqual([40, 20]);
    expect(image.bounds.west).toBeCloseTo(10, 12);
    expect(image.bounds.east).toBeCloseTo(10.004, 12);
    expect(image.bounds.south).toBeCloseTo(49.998, 12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
