/**
 * The per-cell step that both building an index and adding imagery to one run: for each
 * partition cell still to do, its tiles read (one window per scale, the next cell's read
 * while this one's are embedded), embedded by the pool's workers while its reference
 * features are extracted in workers of their own, its FAISS file written and the cell
 * recorded as done in the resumable build folder (BuildWork); then every done cell
 * assembled into the index, swapped in for `out`.
 */
import type { GeoBounds } from '../pipeline/geo/geoImage';
import type { BuildWork } from './buildWork';
import { readCellTiles, type TilePixels } from './cellTiles';
import { embedCell, keptTile, type BuildTiming } from './embedCell';
import { EmbedderPool } from './embedderPool';
import type { IndexManifest } from './indexFiles';
import { assembleIndex, writeCellVectors, type IndexMeta } from './indexWriter';
import type { Imagery } from './imagerySource';
import { MapSampler } from './mapWindow';
import type { ModelInfo } from './modelInfo';
import { cellBounds, type PartitionGrid } from './partition';
import { ReferenceFeaturePass } from './referenceFeatures';
import { startIndexWorker } from './startIndexWorker';
import type { TilePlan } from './tiling';
import { startTogether } from './workerClient';

/** One partition cell's tiles, handed to a per-cell step once they are embedded. */
export interface CellStepInput {
  cell: number;
  /** the cell's box on the partition grid */
  bounds: GeoBounds;
  /** the cell's kept tiles, in the order of its FAISS rows, with their windows in the imagery */
  tiles: TilePlan[];
  imagery: Imagery;
  /** the build folder: a step writes its own per-cell files under it (they move with the index) */
  dir: string;
}

export interface CellBuildOptions {
  out: string;
  modelPath: string;
  model: ModelInfo;
  imagery: Imagery;
  grid: PartitionGrid;
  /** every planned tile of the index, by cell */
  cells: Map<number, TilePlan[]>;
  /** the cells to build now (the others are done in `work`) */
  todo: number[];
  work: BuildWork;
  /** the resolutions of the reference features, when the index has them */
  featureResolutions?: number[];
  batchSize: number;
  minCoverage: number;
  workers?: number;
  /** XFeat worker threads for the reference features (see ReferenceFeaturePass.start) */
  featureWorkers?: number;
  /** tiles read so far of all planned; `resumed` of them were done before this run */
  onProgress?: (done: number, total: number, resumed: number) => void;
  cellStep?: (input: CellStepInput) => Promise<void>;
  onTiming?: (timing: BuildTiming) => void;
  log: (line: string) => void;
}

/** Builds the cells to do, then assembles every done cell of `work` into the index at `out`. */
export async function buildCells(o: CellBuildOptions, meta: Omit<IndexMeta, 'build' | 'features'>): Promise<IndexManifest> {
  const { imagery, cells, todo, work, model, log } = o;
  const planned = [...cells.values()].reduce((n, plans) => n + plans.length, 0);
  const remaining = todo.reduce((n, cell) => n + cells.get(cell)!.length, 0);
  const resumed = planned - remaining;
  const timing: BuildTiming = { readMs: 0, embedMs: 0, featuresMs: 0, writeMs: 0 };
  const [pool, writer, features] = await startTogether([
    EmbedderPool.create({ modelPath: o.modelPath, ...(o.workers ? { workers: o.workers } : {}) }),
    startIndexWorker(`index writer for ${o.out}`),
    o.featureResolutions ? ReferenceFeaturePass.start(new MapSampler(imagery), o.featureResolutions, o.featureWorkers) : undefined,
  ] as const);
  let next: Promise<TilePixels[]> | undefined;
  let featuring: Promise<void> | undefined;
  try {
    log(`[index] embedding ${remaining} tiles in ${todo.length} cells with ${model.backbone} ${model.version} (${model.dim}-d) on ${pool.provider}, ${pool.size} worker${pool.size === 1 ? '' : 's'}`);
    let done = resumed;
    o.onProgress?.(done, planned, resumed);
    // the next cell's pixels are read (in GDAL's threads) while this cell's are embedded
    const read = (cell: number) => {
      const started = performance.now();
      const tiles = readCellTiles(imagery, cells.get(cell)!, pool.info.inputSize).finally(() => (timing.readMs += performance.now() - started));
      tiles.catch(() => undefined);
      return tiles;
    };
    next = todo.length > 0 ? read(todo[0]!) : undefined;
    for (const [i, cell] of todo.entries()) {
      const tiles = await next!;
      next = i + 1 < todo.length ? read(todo[i + 1]!) : undefined;
      const bounds = cellBounds(o.grid, cell);
      // the cell's features are extracted in their own worker while its tiles are embedded
      if (features && tiles.some((t) => keptTile(t, o.minCoverage))) {
        const started = performance.now();
        featuring = features.cell(work.dir, cell, bounds).finally(() => (timing.featuresMs += performance.now() - started));
        featuring.catch(() => undefined);
      }
      const embedded = await embedCell(pool, tiles, {
        batchSize: o.batchSize,
        minCoverage: o.minCoverage,
        timing,
        log,
        onTiles: (n) => o.onProgress?.((done += n), planned, resumed),
      });
      await featuring;
      featuring = undefined;
      await o.cellStep?.({ cell, bounds, tiles: embedded.tiles, imagery, dir: work.dir });
      const started = performance.now();
      if (embedded.tiles.length > 0) await writeCellVectors(writer, work.faissPath(cell), model.dim, embedded.vectors);
      await work.saveCell(cell, embedded.tiles.map(({ rect: _rect, ...geometry }) => geometry), { holes: embedded.holes, unreadable: embedded.unreadable });
      timing.writeMs += performance.now() - started;
    }
  } finally {
    // a read still in flight must end before its dataset is closed, features before their worker
    await Promise.all([next?.catch(() => undefined), featuring?.catch(() => undefined)]);
    await Promise.all([pool.close(), writer.close(), features?.close()]);
  }
  o.onTiming?.(timing);
  const build = work.counts(planned);
  if (build.holes + build.unreadable > 0) log(`[index] skipped ${build.holes} tiles over holes (under ${Math.round(o.minCoverage * 100)}% valid pixels) and ${build.unreadable} unreadable ones of ${planned}`);
  const cellTiles = await Promise.all([...work.done.keys()].map(async (cell) => ({ cell, tiles: await work.cellTiles(cell) })));
  const featuresManifest = await features?.manifest(work.dir, cellTiles.flatMap(({ cell, tiles }) => (tiles.length > 0 ? [cell] : [])), log);
  await work.strip();
  return await assembleIndex(work.dir, o.out, { ...meta, build, ...(featuresManifest && { features: featuresManifest }) }, cellTiles);
}
