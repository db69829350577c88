/**
 * Adds an imagery source to an existing index without rebuilding the rest: the new source is
 * stacked on the index's (on top where they overlap), tiles are planned over the stack on the
 * lattice the first source anchors (so every tile planned before keeps its place), and the
 * partition grid grows by whole cells where the new ground reaches past it. Only the cells the
 * new imagery touches (a tile over it, or a tile that did not fit before) are re-cut,
 * re-embedded and get their reference features again, by the same per-cell step a build runs
 * (cellBuild.ts), resumable after a kill; every other cell's files are linked in unchanged.
 * Cells are numbered on the grown grid: a cell keeps its ground, its number follows the grid
 * (renumberCell).
 */
import { resolve } from 'node:path';
import { GeolocError } from '../pipeline/core/errors';
import { BuildWork } from './buildWork';
import { buildCells, type CellStepInput } from './cellBuild';
import { DEFAULT_BATCH_SIZE, DEFAULT_MIN_COVERAGE } from './buildIndex';
import type { BuildTiming } from './embedCell';
import { cellFile, readCatalog, readManifest, type CellSkipped, type ImagerySourceRecord, type IndexManifest, type TileRecord } from './indexFiles';
import { imageryRecord, sourceRecord } from './imageryRecord';
import { existingIndexImagery, openImageryStack, pixelRectOf } from './imageryStack';
import { defaultModelPath, loadModelInfo } from './modelInfo';
import { cellOf, growGrid, groupByCell, renumberCell, unionBounds } from './partition';
import { currentExtractor, featureFile } from './referenceFeatures';
import { rebuildCommand } from './referenceStore';
import { checkModelMatches } from './satelliteIndex';
import { planTiles, type PixelRect } from './tiling';

export interface AddImageryOptions {
  /** the index folder to extend */
  index: string;
  /** the source to add: any raster or folder openImagery reads */
  imagery: string;
  /** the model the index was built with (default: the embedded model) */
  modelPath?: string;
  batchSize?: number;
  workers?: number;
  featureWorkers?: number;
  /** the share of valid pixels below which a tile is a hole: the index's build's (default 0.95) */
  minCoverage?: number;
  onProgress?: (done: number, total: number, resumed: number) => void;
  cellStep?: (input: CellStepInput) => Promise<void>;
  onTiming?: (timing: BuildTiming) => void;
  log?: (line: string) => void;
}

const stderrLine = (line: string) => void process.stderr.write(line + '\n');

const overlaps = (a: PixelRect, b: PixelRect) => a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;
const inside = (a: PixelRect, b: PixelRect) => a.left >= b.left && a.top >= b.top && a.left + a.width <= b.left + b.width && a.top + a.height <= b.top + b.height;

/** The sources the manifest records; an index from before sources were listed has its one. */
function recordedSources(manifest: IndexManifest): ImagerySourceRecord[] {
  const { path, fingerprint, sourceCrs, crs, bounds } = manifest.imagery;
  return manifest.imagery.sources ?? [{ path: path!, fingerprint, sourceCrs: sourceCrs ?? crs, bounds }];
}

async function refusePresent(dir: string, manifest: IndexManifest, paths: string[], added: ImagerySourceRecord, given: string): Promise<void> {
  const recorded = recordedSources(manifest);
  const same = recorded.findIndex((s, i) => resolve(paths[i]!) === resolve(given) || s.fingerprint === added.fingerprint);
  if (same >= 0) {
    throw new GeolocError(
      'GEOLOC_ERR_INDEX_IMAGERY_PRESENT',
      `imagery ${given} is already in index ${dir} (its source ${same + 1}, ${paths[same]}${resolve(paths[same]!) === resolve(given) ? '' : ', the same files'}); nothing was added. Add only new imagery; to replace a source whose files changed, rebuild: ${rebuildCommand(dir, manifest)}`,
    );
  }
}

async function refuseOtherExtractor(dir: string, manifest: IndexManifest): Promise<void> {
  if (manifest.features && JSON.stringify(manifest.features.extractor) !== JSON.stringify(await currentExtractor())) {
    throw new GeolocError('GEOLOC_ERR_FEATURES_MISMATCH', `the reference features of ${dir} were extracted by another XFeat than this geoloc's; new cells' features would not match theirs. Rebuild the index with the new imagery: ${rebuildCommand(dir, manifest)}`);
  }
}

/** A cell's files in an index: its FAISS file and its reference features, when the index has them. */
function cellFiles(manifest: IndexManifest, cell: number): string[] {
  return [cellFile(cell), ...(manifest.features?.metersPerPixel.map((_, scale) => featureFile(cell, scale)) ?? [])];
}

/** A cell's skipped tiles as the index recorded them; an index from before they were recorded: all its planned tiles not kept count as holes. */
function skippedIn(manifest: IndexManifest, cell: number, planned: number, kept: number): Omit<CellSkipped, 'cell'> {
  if (!manifest.build?.skipped) return { holes: planned - kept, unreadable: 0 };
  const recorded = manifest.build.skipped.find((s) => s.cell === cell);
  return { holes: recorded?.holes ?? 0, unreadable: recorded?.unreadable ?? 0 };
}

export async function addImagery(opts: AddImageryOptions): Promise<IndexManifest> {
  const log = opts.log ?? stderrLine;
  const dir = opts.index;
  const manifest = await readManifest(dir);
  const catalog = await readCatalog(dir, manifest);
  const paths = existingIndexImagery(dir, manifest);
  const added = await sourceRecord(opts.imagery, dir);
  await refusePresent(dir, manifest, paths, added, opts.imagery);
  const model = await loadModelInfo(opts.modelPath ?? defaultModelPath());
  checkModelMatches(manifest, model, dir);
  await refuseOtherExtractor(dir, manifest);
  const minCoverage = opts.minCoverage ?? DEFAULT_MIN_COVERAGE;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const stack = await openImageryStack([...paths, opts.imagery], log);
  try {
    const plans = planTiles(stack, manifest.scales);
    const before = manifest.partition;
    const grid = growGrid(before, unionBounds(plans.map((p) => p.bounds)));
    const cells = groupByCell(grid, plans);
    // a tile is new ground when it lies over the new source or did not fit the stack before
    const previous = pixelRectOf(stack.georef, manifest.imagery.bounds);
    const fresh = stack.layers!.at(-1)!;
    const touched = new Set(plans.filter((p) => overlaps(p.rect, fresh) || !inside(p.rect, previous)).map((p) => cellOf(grid, p)));
    const key = JSON.stringify({ add: added.fingerprint, to: manifest.imagery.fingerprint, built: manifest.createdAt, minCoverage, batchSize, grid });
    const work = await BuildWork.open(dir, key);
    if (work.done.size > 0) log(`[index] resuming: ${work.done.size} of ${cells.size} cells were done by an earlier run`);
    const oldTiles = new Map<number, TileRecord[]>();
    for (const tile of catalog) oldTiles.set(tile.cell, [...(oldTiles.get(tile.cell) ?? []), tile]);
    const kept = [...cells.keys()].filter((cell) => !touched.has(cell)).sort((a, b) => a - b);
    for (const cell of kept.filter((c) => !work.done.has(c))) {
      // renumbering from the grown grid back gives the number the cell had
      const old = renumberCell(grid, before, cell);
      const tiles = oldTiles.get(old) ?? [];
      const files = tiles.length === 0 ? [] : cellFiles(manifest, old).map((from, i) => ({ from: resolve(dir, from), to: cellFiles(manifest, cell)[i]! }));
      await work.adoptCell(cell, files, tiles.map(({ id: _id, cell: _cell, ...t }) => t), skippedIn(manifest, old, cells.get(cell)!.length, tiles.length));
    }
    const todo = [...touched].sort((a, b) => a - b).filter((cell) => !work.done.has(cell));
    log(`[index] adding ${opts.imagery}: ${touched.size} of ${cells.size} cells touched (re-cut), ${kept.length} kept as they were; grid ${before.cols}×${before.rows} → ${grid.cols}×${grid.rows}`);
    return await buildCells(
      {
        ...opts,
        out: dir,
        log,
        modelPath: model.path,
        model,
        imagery: stack,
        grid,
        cells,
        todo,
        work,
        ...(manifest.features && { featureResolutions: manifest.features.metersPerPixel }),
        batchSize,
        minCoverage,
      },
      { model, scales: manifest.scales, settings: manifest.settings, grid, imagery: imageryRecord([...recordedSources(manifest), added], stack) },
    );
  } finally {
    stack.close();
  }
}
