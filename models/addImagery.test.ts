import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gdalTool, syntheticGeoTiff } from '../tests/support/gdalTools';
import { indexDifferences } from '../tests/support/indexBytes';
import { projectionModelPath } from '../tests/support/tinyModel';
import { addImagery } from './addImagery';
import { buildIndex, type BuildIndexOptions } from './buildIndex';
import { parseFlatIndex } from './faissFlatFile';
import { cellFile, readCatalog, readCells, readManifest, type IndexManifest } from './indexFiles';
import { openIndexImagery } from './imageryStack';
import { cellOf, renumberCell } from './partition';
import { featureFile } from './referenceFeatures';
import { SatelliteIndex } from './satelliteIndex';

/** a 240 × 120 m world at 0.6 m/px, cut into a west and an east half */
const WORLD = { width: 400, height: 200, metersPerPixel: 0.6, north: 47, west: 8, seed: 11 };
const HALF_PX = WORLD.width / 2;
/** tile coordinates agree to about a millimetre; embeddings of the same pixels read through a stack to float noise */
const COORD_DIGITS = 8;
const VECTOR_TOLERANCE = 1e-3;

/** Each tile's vector, by its scale and centre. */
async function tileVectors(dir: string): Promise<Map<string, Float32Array>> {
  const manifest = await readManifest(dir);
  const tiles = await readCatalog(dir, manifest);
  const out = new Map<string, Float32Array>();
  for (const c of await readCells(dir, manifest)) {
    const { vectors, dim } = parseFlatIndex(readFileSync(join(dir, c.file)));
    for (let r = 0; r < c.count; r++) {
      const t = tiles[c.start + r]!;
      out.set(`${t.scale}:${t.lat.toFixed(COORD_DIGITS)},${t.lon.toFixed(COORD_DIGITS)}`, vectors.slice(r * dim, (r + 1) * dim));
    }
  }
  return out;
}

/** A cell's files (FAISS and features), each with its bytes and mtime. */
function cellFileStates(dir: string, manifest: IndexManifest, cell: number): { bytes: Buffer; mtimeMs: number }[] {
  const files = [cellFile(cell), ...manifest.features!.metersPerPixel.map((_, s) => featureFile(cell, s))];
  return files.map((f) => ({ bytes: readFileSync(join(dir, f)), mtimeMs: statSync(join(dir, f)).mtimeMs }));
}

describe('index add: new imagery into an existing index', () => {
  let tmp: string;
  let west: string;
  let east: string;
  let base: Omit<BuildIndexOptions, 'out' | 'imagery'>;
  let halfIndex: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-add-'));
    const { tif } = await syntheticGeoTiff(join(tmp, 'world'), WORLD);
    west = join(tmp, 'west.tif');
    east = join(tmp, 'east.tif');
    gdalTool('gdal_translate', '-q', '-srcwin', '0', '0', String(HALF_PX), String(WORLD.height), tif, west);
    gdalTool('gdal_translate', '-q', '-srcwin', String(HALF_PX), '0', String(HALF_PX), String(WORLD.height), tif, east);
    base = { modelPath: await projectionModelPath(), altitudesM: [40], cellSizeM: 40, batchSize: 4, log: () => undefined };
    halfIndex = join(tmp, 'west-index');
    await buildIndex({ ...base, imagery: west, out: halfIndex });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('only the cells the new imagery touches are re-cut; the result has the tiles and embeddings of a build from both at once', async () => {
    let bothSteps = 0;
    const both = join(tmp, 'both');
    const built = await buildIndex({ ...base, imagery: [west, east], out: both, cellStep: async () => void bothSteps++ });
    const extended = join(tmp, 'extended');
    cpSync(halfIndex, extended, { recursive: true, preserveTimestamps: true });
    const before = await readManifest(extended);
    // the cells of the half index that no tile of the whole reaches into the east half from
    const boundary = before.imagery.bounds.east;
    const reaching = new Set((await readCatalog(both, built)).filter((t) => t.bounds.east > boundary).map((t) => cellOf(before.partition, t)));
    const untouched = (await readCells(extended, before)).map((c) => c.cell).filter((cell) => !reaching.has(cell));
    expect(untouched.length).toBeGreaterThan(0);
    const states = new Map(untouched.map((cell) => [cell, cellFileStates(extended, before, cell)]));

    let steps = 0;
    const after = await addImagery({ ...base, index: extended, imagery: east, cellStep: async () => void steps++ });

    expect(steps).toBeGreaterThan(0);
    expect(steps + untouched.length).toBeLessThanOrEqual(bothSteps);
    for (const [cell, was] of states) expect(cellFileStates(extended, after, renumberCell(before.partition, after.partition, cell))).toEqual(was);

    expect(after.imagery.sources!.map((s) => s.path)).toEqual([west, east]);
    expect(after.tiles).toBe(built.tiles);
    expect(after.build).toMatchObject({ planned: built.build!.planned, holes: built.build!.holes, unreadable: built.build!.unreadable });
    const added = await tileVectors(extended);
    const whole = await tileVectors(both);
    expect([...added.keys()].sort()).toEqual([...whole.keys()].sort());
    for (const [key, vector] of whole) {
      const other = added.get(key)!;
      expect(Math.max(...vector.map((v, i) => Math.abs(v - other[i]!)))).toBeLessThan(VECTOR_TOLERANCE);
    }
    // each searches alike: a tile's vector finds the same tile first in both
    const [a, b] = await Promise.all([SatelliteIndex.open(extended), SatelliteIndex.open(both)]);
    try {
      const queries = [...whole.values()].filter((_, i) => i % 7 === 0);
      const flat = new Float32Array(queries.flatMap((q) => [...q]));
      const [fromAdded, fromBoth] = await Promise.all([a.search(flat, queries.length, 1), b.search(flat, queries.length, 1)]);
      const place = (index: SatelliteIndex, hits: { tileId: number }[][]) => hits.map(([hit]) => index.tiles[hit!.tileId]!).map((t) => `${t.lat.toFixed(COORD_DIGITS)},${t.lon.toFixed(COORD_DIGITS)}`);
      expect(place(a, fromAdded)).toEqual(place(b, fromBoth));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('an add killed partway continues on rerun and ends identical to an uninterrupted add', async () => {
    const clean = join(tmp, 'clean-add');
    const killed = join(tmp, 'killed-add');
    cpSync(halfIndex, clean, { recursive: true });
    cpSync(halfIndex, killed, { recursive: true });
    let wholeSteps = 0;
    await addImagery({ ...base, index: clean, imagery: east, cellStep: async () => void wholeSteps++ });
    const kill = new Error('killed');
    let stepped = 0;
    await expect(addImagery({ ...base, index: killed, imagery: east, cellStep: async () => { if (++stepped > 1) throw kill; } })).rejects.toBe(kill);
    // the index is as it was until the add completes
    expect((await readManifest(killed)).imagery.sources).toHaveLength(1);
    let rerunSteps = 0;
    await addImagery({ ...base, index: killed, imagery: east, cellStep: async () => void rerunSteps++ });
    expect(rerunSteps).toBe(wholeSteps - 1);
    expect(indexDifferences(clean, killed)).toEqual([]);
    expect((await readManifest(killed)).build).toEqual((await readManifest(clean)).build);
    expect(existsSync(join(tmp, '.killed-add.building-resumable'))).toBe(false);
  });

  test('imagery already in the index, and a recorded source that is gone, are refused with their codes', async () => {
    const index = join(tmp, 'refusals');
    cpSync(halfIndex, index, { recursive: true });
    await expect(addImagery({ ...base, index, imagery: west })).rejects.toMatchObject({ code: 'GEOLOC_ERR_INDEX_IMAGERY_PRESENT', message: expect.stringContaining(west) });
    const moved = `${west}.moved`;
    renameSync(west, moved);
    try {
      const manifest = await readManifest(index);
      const gone = { code: 'GEOLOC_ERR_INDEX_IMAGERY_MISSING', message: expect.stringMatching(new RegExp(`${west}, which is gone; put it back`)) };
      await expect(openIndexImagery(index, manifest, () => undefined)).rejects.toMatchObject(gone);
      await expect(addImagery({ ...base, index, imagery: east })).rejects.toMatchObject(gone);
    } finally {
      renameSync(moved, west);
    }
  });
});
