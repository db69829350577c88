/**
 * Writes a satellite index folder (layout in indexFiles.ts) from tiles and their vectors.
 * Everything is written into a staging folder beside `out` and swapped in at the end, so
 * a failed build leaves the previous index as it was.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GeolocError } from '../pipeline/core/errors';
import { CATALOG_FILE, CELL_DIR, CELLS_FILE, INDEX_FORMAT_VERSION, MANIFEST_FILE, cellFile, encodeCatalog, type BuildSettings, type CellRange, type IndexManifest, type ScaleSpec, type TileRecord } from './indexFiles';
import type { IndexRequest } from './indexWorker';
import type { ModelInfo } from './modelInfo';
import { cellOf, makeGrid, unionBounds, type PartitionGrid } from './partition';
import type { FeaturesManifest } from './referenceFeatures';
import { startIndexWorker } from './startIndexWorker';

export type TileGeometry = Omit<TileRecord, 'id' | 'cell'>;

export interface IndexContent {
  model: Pick<ModelInfo, 'sha256' | 'dim' | 'backbone' | 'inputSize'>;
  scales: ScaleSpec[];
  settings: BuildSettings;
  imagery: IndexManifest['imagery'];
  tiles: TileGeometry[];
  /** tiles.length·dim, row i belongs to tiles[i] */
  vectors: Float32Array;
}

/** Refuses to overwrite a folder that holds something other than an index. */
export async function checkOutputFolder(out: string): Promise<void> {
  if (!existsSync(out) || existsSync(join(out, MANIFEST_FILE))) return;
  if ((await readdir(out)).length > 0) {
    throw new GeolocError('GEOLOC_ERR_USAGE', `output folder ${out} is not empty and holds no index (no ${MANIFEST_FILE}); choose an empty or new folder`);
  }
}

export interface CellTiles {
  cell: number;
  /** the cell's tiles, in the order of the rows of its FAISS file (already in the staging folder) */
  tiles: TileGeometry[];
}

export type IndexMeta = Omit<IndexContent, 'tiles' | 'vectors'> & { grid: PartitionGrid; build?: IndexManifest['build']; features?: FeaturesManifest };

/** A fresh staging folder beside `out`, to be swapped in by assembleIndex. */
export function stagingFolder(out: string, label = `${process.pid}-${Date.now()}`): string {
  return join(dirname(resolve(out)), `.${basename(out)}.building-${label}`);
}

export async function writeIndex(out: string, content: IndexContent): Promise<IndexManifest> {
  const { dim } = content.model;
  if (content.tiles.length === 0) throw new GeolocError('GEOLOC_ERR_INDEX_NO_TILES', `no tiles to write into ${out}`);
  if (content.vectors.length !== content.tiles.length * dim) {
    throw new GeolocError('GEOLOC_ERR_INDEX_DIM_MISMATCH', `${content.tiles.length} tiles need ${content.tiles.length}×${dim} floats, got ${content.vectors.length}`);
  }
  await checkOutputFolder(out);
  const grid = makeGrid(unionBounds(content.tiles.map((t) => t.bounds)), content.settings.cellSizeM);
  const byCell = new Map<number, number[]>();
  content.tiles.forEach((t, i) => {
    const cell = cellOf(grid, t);
    const members = byCell.get(cell);
    if (members) members.push(i);
    else byCell.set(cell, [i]);
  });
  const staging = stagingFolder(out);
  await mkdir(join(staging, CELL_DIR), { recursive: true });
  const worker = await startIndexWorker(`index writer for ${out}`);
  try {
    const cells: CellTiles[] = [];
    for (const cell of [...byCell.keys()].sort((a, b) => a - b)) {
      const members = byCell.get(cell)!;
      const vectors = new Float32Array(members.length * dim);
      members.forEach((src, r) => vectors.set(content.vectors.subarray(src * dim, (src + 1) * dim), r * dim));
      await writeCellVectors(worker, join(staging, cellFile(cell)), dim, vectors);
      cells.push({ cell, tiles: members.map((i) => content.tiles[i]!) });
    }
    return await assembleIndex(staging, out, { ...content, grid }, cells);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  } finally {
    await worker.close();
  }
}

export type IndexWriterWorker = Awaited<ReturnType<typeof startIndexWorker>>;

export async function writeCellVectors(worker: IndexWriterWorker, file: string, dim: number, vectors: Float32Array<ArrayBuffer>): Promise<void> {
  await worker.request({ type: 'write', file, dim, vectors } satisfies IndexRequest, [vectors.buffer]);
}

/**
 * Numbers the tiles cell by cell (each cell one contiguous id range, rows in its FAISS file's
 * order), writes the catalog, the cell list and the manifest into the staging folder, which
 * already holds the cells' FAISS files, and swaps it in for `out`.
 */
export async function assembleIndex(staging: string, out: string, meta: IndexMeta, cellTiles: CellTiles[]): Promise<IndexManifest> {
  const { dim } = meta.model;
  const tiles: TileRecord[] = [];
  const cells: CellRange[] = [];
  for (const { cell, tiles: members } of [...cellTiles].sort((a, b) => a.cell - b.cell)) {
    if (members.length === 0) continue;
    cells.push({ cell, start: tiles.length, count: members.length, file: cellFile(cell) });
    for (const t of members) tiles.push({ id: tiles.length, ...t, cell });
  }
  if (tiles.length === 0) throw new GeolocError('GEOLOC_ERR_INDEX_NO_TILES', `no tiles to write into ${out}: every planned tile was a hole`);
  await writeFile(join(staging, CATALOG_FILE), encodeCatalog(tiles));
  await writeFile(join(staging, CELLS_FILE), JSON.stringify({ cells }, null, 1) + '\n');
  const manifest: IndexManifest = {
    version: INDEX_FORMAT_VERSION,
    model: { sha256: meta.model.sha256, dim, backbone: meta.model.backbone, inputSize: meta.model.inputSize },
    dim,
    metric: 'inner_product',
    tiles: tiles.length,
    scales: meta.scales,
    bounds: unionBounds(tiles.map((t) => t.bounds)),
    crs: 'EPSG:4326',
    imagery: meta.imagery,
    partition: { ...meta.grid, cells: cells.length },
    settings: meta.settings,
    ...(meta.build ? { build: meta.build } : {}),
    ...(meta.features ? { features: meta.features } : {}),
    createdAt: new Date().toISOString(),
  };
  // The manifest goes last: a folder without one is never taken for a finished index.
  await writeFile(join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  await swapIn(staging, out);
  return manifest;
}

async function swapIn(staging: string, out: string): Promise<void> {
  if (!existsSync(out)) {
    await mkdir(dirname(resolve(out)), { recursive: true });
    await rename(staging, out);
    return;
  }
  const previous = `${staging}.previous`;
  await rename(out, previous);
  try {
    await rename(staging, out);
  } catch (err) {
    await rename(previous, out);
    throw err;
  }
  await rm(previous, { recursive: true, force: true });
}
