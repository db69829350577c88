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
import { cellOf, makeGrid, unionBounds } from './partition';
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

export async function writeIndex(out: string, content: IndexContent): Promise<IndexManifest> {
  const { dim } = content.model;
  if (content.tiles.length === 0) throw new GeolocError('GEOLOC_ERR_INDEX_NO_TILES', `no tiles to write into ${out}`);
  if (content.vectors.length !== content.tiles.length * dim) {
    throw new GeolocError('GEOLOC_ERR_INDEX_DIM_MISMATCH', `${content.tiles.length} tiles need ${content.tiles.length}×${dim} floats, got ${content.vectors.length}`);
  }
  await checkOutputFolder(out);
  const bounds = unionBounds(content.tiles.map((t) => t.bounds));
  const grid = makeGrid(bounds, content.settings.cellSizeM);

  // Number tiles cell by cell so each cell is one contiguous id range.
  const cellOfTile = content.tiles.map((t) => cellOf(grid, t));
  const order = content.tiles.map((_, i) => i).sort((a, b) => cellOfTile[a]! - cellOfTile[b]! || a - b);
  const tiles: TileRecord[] = order.map((src, id) => ({ id, ...content.tiles[src]!, cell: cellOfTile[src]! }));
  const cells: CellRange[] = [];
  for (const t of tiles) {
    const last = cells[cells.length - 1];
    if (last && last.cell === t.cell) last.count++;
    else cells.push({ cell: t.cell, start: t.id, count: 1, file: cellFile(t.cell) });
  }

  const staging = join(dirname(resolve(out)), `.${basename(out)}.building-${process.pid}-${Date.now()}`);
  await mkdir(join(staging, CELL_DIR), { recursive: true });
  const worker = await startIndexWorker(`index writer for ${out}`);
  try {
    for (const c of cells) {
      const vectors = new Float32Array(c.count * dim);
      for (let r = 0; r < c.count; r++) {
        const src = order[c.start + r]!;
        vectors.set(content.vectors.subarray(src * dim, (src + 1) * dim), r * dim);
      }
      await worker.request({ type: 'write', file: join(staging, c.file), dim, vectors } satisfies IndexRequest, [vectors.buffer]);
    }
    await writeFile(join(staging, CATALOG_FILE), encodeCatalog(tiles));
    await writeFile(join(staging, CELLS_FILE), JSON.stringify({ cells }, null, 1) + '\n');
    const manifest: IndexManifest = {
      version: INDEX_FORMAT_VERSION,
      model: { sha256: content.model.sha256, dim, backbone: content.model.backbone, inputSize: content.model.inputSize },
      dim,
      metric: 'inner_product',
      tiles: tiles.length,
      scales: content.scales,
      bounds,
      crs: 'EPSG:4326',
      imagery: content.imagery,
      partition: { ...grid, cells: cells.length },
      settings: content.settings,
      createdAt: new Date().toISOString(),
    };
    // The manifest goes last: a folder without one is never taken for a finished index.
    await writeFile(join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    await swapIn(staging, out);
    return manifest;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  } finally {
    await worker.close();
  }
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
