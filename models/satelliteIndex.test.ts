import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImagery, type Imagery } from './imagerySource';
import { haversineMeters } from '../pipeline/geo/wgs84';
import { coded } from '../tests/support/coded';
import { writeSyntheticGeoImage } from '../tests/support/syntheticImagery';
import { projectionModelPath } from '../tests/support/tinyModel';
import { buildIndex, indexIsCurrent, type BuildIndexOptions } from './buildIndex';
import { EmbedderPool } from './embedderPool';
import { CATALOG_FILE, CELLS_FILE, MANIFEST_FILE, type CellRange } from './indexFiles';
import { loadModelInfo, siblingJsonPath, type ModelInfo } from './modelInfo';
import { SatelliteIndex } from './satelliteIndex';
import { imageTensorLength, rgbToTensor } from './tensor';
import { scaleLadder } from './indexCamera';
import { planTiles, type TilePlan } from './tiling';

const ALTITUDES_M = [60, 100];
const HFOV_DEG = 60;
/** wide enough that the two altitudes are the only scales */
const SCALE_STEP = 2;
const OVERLAP = 0.5;
const CELL_SIZE_M = 150;
const IMAGE = { width: 480, height: 480, metersPerPixel: 1, north: 47.0, west: 8.0, seed: 11 };

describe('satellite index', () => {
  let tmp: string;
  let model: ModelInfo;
  let imagery: Imagery;
  let plans: TilePlan[];
  let options: BuildIndexOptions;
  let index: SatelliteIndex;
  let pool: EmbedderPool;
  const logLines: string[] = [];

  /** The embedding of a planned tile, read from the imagery again by its own window. */
  async function embedPlan(plan: TilePlan): Promise<Float32Array> {
    const crop = (await imagery.read(plan.rect, model.inputSize[1], model.inputSize[0])).rgb;
    const tensor = rgbToTensor(crop, model.inputSize[1], model.inputSize[0], model, new Float32Array(imageTensorLength(model)));
    return (await pool.embed(tensor, 1)).descriptors;
  }

  /** The catalog id of a planned tile (same centre). */
  const idOf = (plan: TilePlan) => index.tiles.find((t) => Math.abs(t.lat - plan.lat) < 1e-12 && Math.abs(t.lon - plan.lon) < 1e-12 && t.scale === plan.scale)!.id;

  /** A copy of the built index to damage. */
  function copyIndex(name: string): string {
    const dir = join(tmp, name);
    cpSync(options.out, dir, { recursive: true });
    return dir;
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-index-'));
    const modelPath = await projectionModelPath();
    model = await loadModelInfo(modelPath);
    const imageryPath = await writeSyntheticGeoImage(tmp, IMAGE);
    imagery = await openImagery(imageryPath, () => undefined);
    plans = planTiles(imagery, scaleLadder({ hfovDeg: [HFOV_DEG, HFOV_DEG], aspect: 1 }, ALTITUDES_M, SCALE_STEP, OVERLAP));
    options = { imagery: imageryPath, modelPath, out: join(tmp, 'index'), altitudesM: ALTITUDES_M, hfovDeg: HFOV_DEG, aspect: 1, scaleStep: SCALE_STEP, overlap: OVERLAP, referenceFeatures: false, cellSizeM: CELL_SIZE_M, log: (l) => logLines.push(l) };
    await buildIndex(options);
    index = await SatelliteIndex.open(options.out, { model });
    pool = await EmbedderPool.create({ modelPath, providers: ['cpu'] });
  });
  afterAll(async () => {
    await index?.close();
    await pool?.close();
    imagery?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('writes every planned tile at every scale, with catalog and manifest', () => {
    const m = index.manifest;
    expect(m.tiles).toBe(plans.length);
    expect(index.tiles).toHaveLength(plans.length);
    expect(index.tiles.map((t) => t.id)).toEqual(plans.map((_, i) => i));
    expect(m.dim).toBe(model.dim);
    expect(m.model).toEqual({ sha256: model.sha256, dim: model.dim, backbone: model.backbone, inputSize: model.inputSize });
    expect(m.scales.map((s) => s.footprintM)).toEqual(ALTITUDES_M.map((a) => expect.closeTo(2 * a * Math.tan(Math.PI / 6), 9)));
    for (const i of m.scales.keys()) expect(index.tiles.filter((t) => t.scale === i).length).toBe(plans.filter((p) => p.scale === i).length);
    expect(m.partition.cells).toBeGreaterThan(4);
    expect(m.imagery).toMatchObject({ sources: [{ path: options.imagery, sourceCrs: 'EPSG:4326 (guessed from the world file)' }], crs: 'EPSG:4326', width: IMAGE.width, height: IMAGE.height, images: 1 });
    for (const t of index.tiles) {
      expect(t.lat).toBeGreaterThan(imagery.bounds.south);
      expect(t.lat).toBeLessThan(imagery.bounds.north);
      expect(t.lon).toBeGreaterThan(imagery.bounds.west);
      expect(t.lon).toBeLessThan(imagery.bounds.east);
    }
  });

  test("a tile's own embedding finds that tile first", async () => {
    const picks = [0, 17, 60, plans.length - 30, plans.length - 1].map((i) => plans[i]!);
    for (const plan of picks) {
      const [best] = (await index.search(await embedPlan(plan), 1, 3))[0]!;
      expect(best!.tileId).toBe(idOf(plan));
      // the build cropped the tile from its cell's read, up to half an input pixel from where this
      // read cuts it on its own: nearly the same view, not the same pixels
      expect(best!.score).toBeGreaterThan(0.995);
      expect(best).toMatchObject({ lat: plan.lat, lon: plan.lon, footprintM: plan.footprintM });
    }
  });

  test('a batch of queries gets one ranked list each', async () => {
    const a = await embedPlan(plans[5]!);
    const b = await embedPlan(plans[90]!);
    const both = new Float32Array([...a, ...b]);
    const [first, second] = await index.search(both, 2, 4);
    expect(first!.map((c) => c.tileId)).toEqual((await index.search(a, 1, 4))[0]!.map((c) => c.tileId));
    expect(second![0]!.tileId).toBe(idOf(plans[90]!));
    expect(first!.map((c) => c.score)).toEqual([...first!.map((c) => c.score)].sort((x, y) => y - x));
  });

  test('a region search returns only tiles within the region, the same as the global search restricted to them', async () => {
    const centre = index.tiles[Math.floor(index.tiles.length / 3)]!;
    const region = { lat: centre.lat, lon: centre.lon, radiusM: 95 };
    const k = 6;
    const query = await embedPlan(plans[3]!);
    const regional = (await index.search(query, 1, k, region))[0]!;
    expect(regional).toHaveLength(k);
    for (const c of regional) expect(haversineMeters(region, c)).toBeLessThanOrEqual(region.radiusM);
    const everything = (await index.search(query, 1, index.tiles.length))[0]!;
    const restricted = everything.filter((c) => haversineMeters(region, c) <= region.radiusM).slice(0, k);
    expect(regional.map((c) => c.tileId)).toEqual(restricted.map((c) => c.tileId));
    expect(regional.map((c) => c.score)).toEqual(restricted.map((c) => expect.closeTo(c.score, 5)));
  });

  test('a region holding fewer than k tiles returns them all; one off the map returns none', async () => {
    const t = index.tiles[0]!;
    const tiny = (await index.search(await embedPlan(plans[0]!), 1, 50, { lat: t.lat, lon: t.lon, radiusM: 1 }))[0]!;
    expect(tiny.map((c) => c.tileId)).toEqual(index.tiles.filter((o) => haversineMeters(t, o) <= 1).map((o) => o.id));
    expect((await index.search(await embedPlan(plans[0]!), 1, 5, { lat: 10, lon: 10, radiusM: 500 }))[0]).toEqual([]);
  });

  test('a current index is not rebuilt; changed settings or imagery are not current', async () => {
    const before = readFileSync(join(options.out, MANIFEST_FILE), 'utf8');
    expect(await indexIsCurrent(options)).toBe(true);
    await buildIndex(options);
    expect(readFileSync(join(options.out, MANIFEST_FILE), 'utf8')).toBe(before);
    expect(logLines.some((l) => l.includes('is current'))).toBe(true);
    expect(await indexIsCurrent({ ...options, overlap: 0.4 })).toBe(false);
    const otherImagery = join(tmp, 'other.png');
    const source = options.imagery as string;
    copyFileSync(source, otherImagery);
    copyFileSync(source.replace(/\.png$/, '.pgw'), otherImagery.replace(/\.png$/, '.pgw'));
    appendFileSync(otherImagery.replace(/\.png$/, '.pgw'), '\n');
    expect(await indexIsCurrent({ ...options, imagery: otherImagery })).toBe(false);
  });

  test('a model with another hash: GEOLOC_ERR_INDEX_MODEL_MISMATCH, saying what to do', async () => {
    const other = join(tmp, 'other-model.onnx');
    copyFileSync(model.path, other);
    copyFileSync(siblingJsonPath(model.path), siblingJsonPath(other));
    // An unknown protobuf field (20, varint 1): still a valid model, different bytes.
    appendFileSync(other, Buffer.from([0xa0, 0x01, 0x01]));
    const otherInfo = await loadModelInfo(other);
    await expect(SatelliteIndex.open(options.out, { model: otherInfo })).rejects.toMatchObject(coded('GEOLOC_ERR_INDEX_MODEL_MISMATCH', 'rebuild the index with this model'));
  });

  test('a model of another dimension: GEOLOC_ERR_INDEX_DIM_MISMATCH; so is a query of the wrong length', async () => {
    const wider = await loadModelInfo(await projectionModelPath({ dim: model.dim * 2 }));
    expect(wider.dim).toBe(model.dim * 2);
    await expect(SatelliteIndex.open(options.out, { model: wider })).rejects.toMatchObject(coded('GEOLOC_ERR_INDEX_DIM_MISMATCH', `${model.dim * 2}-d`));
    await expect(index.search(new Float32Array(model.dim * 2), 1, 3)).rejects.toMatchObject(coded('GEOLOC_ERR_INDEX_DIM_MISMATCH'));
  });

  test('an index folder missing a file: GEOLOC_ERR_INDEX_MISSING_FILE naming it', async () => {
    const cells = JSON.parse(readFileSync(join(options.out, CELLS_FILE), 'utf8')).cells as CellRange[];
    for (const file of [MANIFEST_FILE, CELLS_FILE, CATALOG_FILE, cells[2]!.file]) {
      const dir = copyIndex(`missing-${file.replace(/\W/g, '_')}`);
      unlinkSync(join(dir, file));
      await expect(SatelliteIndex.open(dir, { model })).rejects.toMatchObject(coded('GEOLOC_ERR_INDEX_MISSING_FILE', file));
    }
    await expect(SatelliteIndex.open(join(tmp, 'no-such-index'))).rejects.toMatchObject(coded('GEOLOC_ERR_FILE_NOT_FOUND'));
  });

  test('a corrupt manifest, cell list, catalog or FAISS file: GEOLOC_ERR_INDEX_CORRUPT naming it', async () => {
    const cells = JSON.parse(readFileSync(join(options.out, CELLS_FILE), 'utf8')).cells as CellRange[];
    const damage: [string, (dir: string) => void][] = [
      [MANIFEST_FILE, (dir) => writeFileSync(join(dir, MANIFEST_FILE), '{"version": 1, "model": ')],
      [MANIFEST_FILE, (dir) => writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ ...index.manifest, dim: 3 }))],
      [CELLS_FILE, (dir) => writeFileSync(join(dir, CELLS_FILE), JSON.stringify({ cells: cells.slice(1) }))],
      [CATALOG_FILE, (dir) => truncateSync(join(dir, CATALOG_FILE), 100)],
      [cells[1]!.file, (dir) => truncateSync(join(dir, cells[1]!.file), 200)],
      [cells[1]!.file, (dir) => writeFileSync(join(dir, cells[1]!.file), 'not faiss at all')],
      [cells[1]!.file, (dir) => copyFileSync(join(dir, cells.find((c) => c.count !== cells[1]!.count)!.file), join(dir, cells[1]!.file))],
    ];
    for (const [i, [file, harm]] of damage.entries()) {
      const dir = copyIndex(`corrupt-${i}`);
      harm(dir);
      await expect(SatelliteIndex.open(dir, { model })).rejects.toMatchObject(coded('GEOLOC_ERR_INDEX_CORRUPT', file));
    }
  });

  test('close() is safe twice and a search after it fails with GEOLOC_ERR_WORKER_CLOSED', async () => {
    const own = await SatelliteIndex.open(options.out);
    await Promise.all([own.close(), own.close()]);
    await expect(own.search(new Float32Array(model.dim), 1, 1)).rejects.toMatchObject(coded('GEOLOC_ERR_WORKER_CLOSED'));
  });

  test('imagery smaller than every footprint: GEOLOC_ERR_INDEX_NO_TILES', async () => {
    await expect(buildIndex({ ...options, out: join(tmp, 'too-high'), altitudesM: [1000] })).rejects.toMatchObject(coded('GEOLOC_ERR_INDEX_NO_TILES', '--altitudes'));
  });

  test('an output folder holding something else is refused and left alone', async () => {
    const busy = join(tmp, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    await expect(buildIndex({ ...options, out: busy })).rejects.toMatchObject(coded('GEOLOC_ERR_USAGE', busy));
    expect(readFileSync(join(busy, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
