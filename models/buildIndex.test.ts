import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { gdalTool, syntheticGeoTiff } from '../tests/support/gdalTools';
import { indexBytes, indexDifferences } from '../tests/support/indexBytes';
import { syntheticRgb } from '../tests/support/syntheticImagery';
import { projectionModelPath } from '../tests/support/tinyModel';
import { buildIndex, type BuildIndexOptions } from './buildIndex';
import { CATALOG_FILE, CELLS_FILE, readCatalog, readManifest } from './indexFiles';

const CSV_HEADER = 'Filename,Top_left_lat,Top_left_lon,Bottom_right_lat,Bottom_right_lon';
/** three 200 × 200 px images of about 0.6 m/px in an L: the fourth quarter is a hole */
const IMAGES = [
  { file: 'nw.png', north: 47.0, west: 8.0, seed: 1 },
  { file: 'ne.png', north: 47.0, west: 8.0016, seed: 2 },
  { file: 'sw.png', north: 46.9989, west: 8.0, seed: 3 },
];
const SIDE_DEG_LAT = 0.0011;
const SIDE_DEG_LON = 0.0016;

describe('index build through GDAL', () => {
  let tmp: string;
  let folder: string;
  let base: Omit<BuildIndexOptions, 'out'>;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-build-'));
    folder = join(tmp, 'tiles');
    mkdirSync(folder);
    const rows = [CSV_HEADER];
    for (const i of IMAGES) {
      await sharp(await syntheticRgb(200, 200, i.seed), { raw: { width: 200, height: 200, channels: 3 } }).png().toFile(join(folder, i.file));
      rows.push(`${i.file},${i.north},${i.west},${i.north - SIDE_DEG_LAT},${i.west + SIDE_DEG_LON}`);
    }
    writeFileSync(join(folder, 'map.csv'), rows.join('\n') + '\n');
    base = { imagery: folder, modelPath: await projectionModelPath(), altitudesM: [40], cellSizeM: 60, batchSize: 4, log: () => undefined };
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('tiles are cut across image borders; tiles over the missing image are skipped and counted', async () => {
    const out = join(tmp, 'mosaic');
    const manifest = await buildIndex({ ...base, out });
    const tiles = await readCatalog(out, manifest);
    const border = IMAGES[1]!.west;
    expect(tiles.some((t) => t.bounds.west < border && t.bounds.east > border)).toBe(true);
    expect(manifest.imagery.images).toBe(3);
    expect(manifest.build!.holes).toBeGreaterThan(0);
    expect(manifest.build!.unreadable).toBe(0);
    expect(manifest.tiles + manifest.build!.holes).toBe(manifest.build!.planned);
    // no kept tile lies over the hole (the south-east quarter)
    const hole = { west: border, north: IMAGES[2]!.north };
    for (const t of tiles) expect(t.bounds.west >= hole.west + 1e-6 && t.bounds.north <= hole.north - 1e-6).toBe(false);
  });

  test('a build killed partway continues on rerun, embeds no finished cell again, and ends identical to an uninterrupted build', async () => {
    const whole = join(tmp, 'whole');
    let wholeSteps = 0;
    const wholeManifest = await buildIndex({ ...base, out: whole, cellStep: async () => void wholeSteps++ });
    expect(wholeSteps).toBeGreaterThan(3);

    const resumed = join(tmp, 'resumed');
    let stepped = 0;
    const killAfter = 2;
    const kill = new Error('killed');
    await expect(
      buildIndex({
        ...base,
        out: resumed,
        cellStep: async () => {
          if (++stepped > killAfter) throw kill;
        },
      }),
    ).rejects.toBe(kill);
    let rerunSteps = 0;
    let resumedTiles = -1;
    const manifest = await buildIndex({
      ...base,
      out: resumed,
      cellStep: async () => void rerunSteps++,
      onProgress: (_done, _total, resumedCount) => (resumedTiles = resumedCount),
    });
    expect(resumedTiles).toBeGreaterThan(0);
    // the cells the first run finished are not embedded again
    expect(rerunSteps).toBe(wholeSteps - killAfter);
    expect(manifest.tiles).toBe(wholeManifest.tiles);
    expect(manifest.build).toEqual(wholeManifest.build);
    expect(indexDifferences(whole, resumed)).toEqual([]);
    expect([...indexBytes(whole).keys()]).toEqual(expect.arrayContaining([CATALOG_FILE, CELLS_FILE]));
    expect(readdirSync(tmp).filter((n) => n.startsWith('.resumed.building'))).toEqual([]);
  });

  test('the reference features do not depend on how many workers extract them', async () => {
    const one = join(tmp, 'one-worker');
    const two = join(tmp, 'two-workers');
    const oneManifest = await buildIndex({ ...base, out: one, featureWorkers: 1 });
    await buildIndex({ ...base, out: two, featureWorkers: 2 });
    const featureFiles = oneManifest.features!.files.map((f) => f.file);
    expect(featureFiles.length).toBeGreaterThan(3);
    const files = indexBytes(one);
    expect(featureFiles.filter((f) => !files.has(f))).toEqual([]);
    expect(indexDifferences(one, two)).toEqual([]);
  });

  test('a corrupt block of a COG costs only the tiles over it: they are skipped and counted, the build completes', async () => {
    const { tif } = await syntheticGeoTiff(join(tmp, 'cog'), { width: 300, height: 300, metersPerPixel: 0.5, north: 47, west: 8, seed: 7 });
    const cog = join(tmp, 'cog', 'corrupt.tif');
    gdalTool('gdal_translate', '-q', '-of', 'COG', '-co', 'BLOCKSIZE=64', '-co', 'COMPRESS=DEFLATE', '-co', 'OVERVIEWS=NONE', tif, cog);
    const fd = openSync(cog, 'r+');
    writeSync(fd, Buffer.alloc(2048, 0x5a), 0, 2048, Math.floor(statSync(cog).size * 0.5));
    closeSync(fd);
    const log: string[] = [];
    const out = join(tmp, 'corrupt-index');
    const manifest = await buildIndex({ ...base, imagery: cog, out, log: (l) => log.push(l) });
    expect(manifest.build!.unreadable).toBeGreaterThan(0);
    expect(manifest.tiles).toBeGreaterThan(0);
    expect(manifest.tiles + manifest.build!.unreadable + manifest.build!.holes).toBe(manifest.build!.planned);
    expect(log.join('\n')).toContain('GEOLOC_ERR_IMAGERY_CORRUPT_TILE');
    expect((await readManifest(out)).build).toEqual(manifest.build);
  });
});
