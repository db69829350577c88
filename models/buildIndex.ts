/**
 * Builds a satellite index: imagery → multi-scale overlapping tiles over its whole raster →
 * per partition cell: one window per scale read (readCellTiles), its tiles embedded by the
 * embedder pool's workers while the next cell is read, one FAISS
 * IndexFlatIP and the cell's reference features (referenceFeatures.ts) written → the tile
 * catalog and a manifest. The build is resumable cell by cell (BuildWork); a per-cell step
 * (cellStep) may add its own files for each cell. An index already built from the same model,
 * imagery, settings and feature extractor is left alone unless `force` is set.
 */
import { relative, resolve, sep } from 'node:path';
import { GeolocError } from '../pipeline/core/errors';
import { repoRoot } from '../pipeline/core/paths';
import type { GeoBounds } from '../pipeline/geo/geoImage';
import { BuildWork } from './buildWork';
import { readCellTiles, type TilePixels } from './cellTiles';
import { embedCell, type BuildTiming } from './embedCell';
import { EmbedderPool } from './embedderPool';
import { readCells, readManifest, requireFile, type BuildSettings, type IndexManifest } from './indexFiles';
import { assembleIndex, checkOutputFolder, writeCellVectors } from './indexWriter';
import { DEFAULT_ALTITUDES_M, DEFAULT_CAMERA, DEFAULT_SCALE_STEP, checkCamera, scaleLadder } from './indexCamera';
import { imageryFingerprint, openImagery, type Imagery } from './imagerySource';
import { DEFAULT_WINDOW_MARGIN } from './locate';
import { MapSampler } from './mapWindow';
import { loadModelInfo } from './modelInfo';
import { cellBounds, cellOf, makeGrid, unionBounds } from './partition';
import { currentExtractor, featureResolutions, ReferenceFeaturePass } from './referenceFeatures';
import { startIndexWorker } from './startIndexWorker';
import { planTiles, type TilePlan } from './tiling';

export interface BuildIndexOptions {
  /** georeferenced image (PNG/JPG + world file, GeoTIFF) or a tile folder with map.csv */
  imagery: string;
  modelPath: string;
  out: string;
  /** the altitude band above ground, metres: its ends, or altitudes to have a tile scale each */
  altitudesM?: number[];
  /** camera horizontal field of view, degrees: one camera's, or the [narrowest, widest] of several */
  hfovDeg?: number | [number, number];
  /** frame width ÷ height */
  aspect?: number;
  /** largest ratio between neighbouring tile footprints */
  scaleStep?: number;
  /** fraction of a tile its neighbour shares, in [0, 1) */
  overlap?: number;
  /** side of a partition cell, metres */
  cellSizeM?: number;
  /** tiles per inference batch */
  batchSize?: number;
  /** embedder worker threads */
  workers?: number;
  /** a tile with a smaller share of valid pixels is a hole, skipped and counted */
  minCoverage?: number;
  /** extract the map's local features per cell for registration (default true) */
  referenceFeatures?: boolean;
  /** rebuild even when the index is current */
  force?: boolean;
  /** tiles read so far of all planned; `resumed` of them were done by an earlier, interrupted run */
  onProgress?: (done: number, total: number, resumed: number) => void;
  /** runs for each cell once its tiles are embedded, before the cell is recorded as done */
  cellStep?: (input: CellStepInput) => Promise<void>;
  /** where the build's time went, once it is done */
  onTiming?: (timing: BuildTiming) => void;
  /** one line of news at a time; default: stderr */
  log?: (line: string) => void;
}

export const DEFAULT_OVERLAP = 0.5;
export const DEFAULT_CELL_SIZE_M = 1000;
export const DEFAULT_BATCH_SIZE = 16;
export const DEFAULT_MIN_COVERAGE = 0.95;
const HASH_SHOWN = 12;

const stderrLine = (line: string) => void process.stderr.write(line + '\n');

export function resolveSettings(opts: BuildIndexOptions): Required<BuildSettings> {
  const hfov = opts.hfovDeg ?? DEFAULT_CAMERA.hfovDeg;
  const settings: Required<BuildSettings> = {
    camera: { hfovDeg: typeof hfov === 'number' ? [hfov, hfov] : hfov, aspect: opts.aspect ?? DEFAULT_CAMERA.aspect },
    altitudesM: opts.altitudesM ?? DEFAULT_ALTITUDES_M,
    scaleStep: opts.scaleStep ?? DEFAULT_SCALE_STEP,
    overlap: opts.overlap ?? DEFAULT_OVERLAP,
    cellSizeM: opts.cellSizeM ?? DEFAULT_CELL_SIZE_M,
    referenceFeatures: opts.referenceFeatures ?? true,
  };
  const bad = (what: string, value: unknown) => new GeolocError('GEOLOC_ERR_USAGE', `${what}, got ${JSON.stringify(value)}`);
  checkCamera(settings.camera, settings.altitudesM, settings.scaleStep);
  if (!(settings.overlap >= 0 && settings.overlap < 1)) throw bad('overlap must be in [0, 1)', settings.overlap);
  if (!(settings.cellSizeM > 0 && Number.isFinite(settings.cellSizeM))) throw bad('cell size must be positive metres', settings.cellSizeM);
  const batch = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batch) || batch < 1) throw bad('batch size must be a positive integer', batch);
  const minCoverage = opts.minCoverage ?? DEFAULT_MIN_COVERAGE;
  if (!(minCoverage >= 0 && minCoverage <= 1)) throw bad('min coverage must be in [0, 1]', minCoverage);
  return settings;
}

/** Where the manifest says the imagery is: relative to the index when both are inside the repository, else absolute. */
function manifestImageryPath(imagery: string, out: string): string {
  const inRepo = (path: string) => resolve(path).startsWith(repoRoot() + sep);
  return inRepo(imagery) && inRepo(out) ? relative(resolve(out), resolve(imagery)) : resolve(imagery);
}

/** The manifest of a complete index in `out` built from this model, imagery and settings, if there is one. */
async function matchingIndex(out: string, settings: BuildSettings, modelSha256: string, fingerprint: string): Promise<IndexManifest | undefined> {
  let manifest: IndexManifest;
  try {
    manifest = await readManifest(out);
    for (const c of await readCells(out, manifest)) requireFile(out, c.file);
  } catch {
    return undefined;
  }
  const extractor = await currentExtractor();
  const featuresCurrent = !manifest.features || JSON.stringify(manifest.features.extractor) === JSON.stringify(extractor);
  const same = JSON.stringify(manifest.settings) === JSON.stringify(settings) && manifest.model.sha256 === modelSha256 && manifest.imagery.fingerprint === fingerprint && featuresCurrent;
  return same ? manifest : undefined;
}

/** True when `out` holds a complete index built from this model, imagery and settings. */
export async function indexIsCurrent(opts: BuildIndexOptions): Promise<boolean> {
  const settings = resolveSettings(opts);
  const model = await loadModelInfo(opts.modelPath);
  return (await matchingIndex(opts.out, settings, model.sha256, await imageryFingerprint(opts.imagery))) !== undefined;
}

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

export async function buildIndex(opts: BuildIndexOptions): Promise<IndexManifest> {
  const log = opts.log ?? stderrLine;
  const settings = resolveSettings(opts);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const minCoverage = opts.minCoverage ?? DEFAULT_MIN_COVERAGE;
  const model = await loadModelInfo(opts.modelPath);
  const fingerprint = await imageryFingerprint(opts.imagery);
  const current = opts.force ? undefined : await matchingIndex(opts.out, settings, model.sha256, fingerprint);
  if (current) {
    log(`[index] ${opts.out} is current (model ${model.sha256.slice(0, HASH_SHOWN)}…, same imagery and settings); nothing to do (--force rebuilds)`);
    return current;
  }
  await checkOutputFolder(opts.out);
  const imagery = await openImagery(opts.imagery, log);
  try {
    const scales = scaleLadder(settings.camera, settings.altitudesM, settings.scaleStep, settings.overlap);
    const plans = planTiles(imagery, scales);
    if (plans.length === 0) {
      const smallest = Math.min(...scales.map((s) => s.footprintM));
      throw new GeolocError(
        'GEOLOC_ERR_INDEX_NO_TILES',
        `imagery ${opts.imagery} (about ${Math.round(imagery.width * imagery.metersPerPixel)} × ${Math.round(imagery.height * imagery.metersPerPixel)} m) is smaller than the smallest tile footprint ` +
          `(${Math.round(smallest)} m at ${Math.min(...settings.altitudesM)} m altitude, ${settings.camera.hfovDeg[0]}° hfov); lower --altitudes or --hfov, or use larger imagery`,
      );
    }
    for (const [i, s] of scales.entries()) {
      const count = plans.filter((p) => p.scale === i).length;
      log(`[index] altitude ${s.altitudeM} m: footprint ${s.footprintM.toFixed(1)} m, stride ${s.strideM.toFixed(1)} m, ${count} tiles${count === 0 ? ' (imagery too small for this footprint)' : ''}`);
    }
    const grid = makeGrid(unionBounds(plans.map((p) => p.bounds)), settings.cellSizeM);
    const cells = new Map<number, TilePlan[]>();
    for (const plan of plans) {
      const cell = cellOf(grid, plan);
      const members = cells.get(cell);
      if (members) members.push(plan);
      else cells.set(cell, [plan]);
    }
    const extractor = settings.referenceFeatures ? (await currentExtractor()).sha256 : undefined;
    const key = JSON.stringify({ settings, minCoverage, batchSize, model: model.sha256, fingerprint, grid, extractor });
    const work = await BuildWork.open(opts.out, key);
    const resumed = [...work.done.values()].reduce((n, c) => n + (cells.get(c.cell)?.length ?? 0), 0);
    if (work.done.size > 0) log(`[index] resuming: ${work.done.size} of ${cells.size} cells (${resumed} tiles) were built by an earlier run`);
    const timing: BuildTiming = { readMs: 0, embedMs: 0, featuresMs: 0, writeMs: 0 };
    const pool = await EmbedderPool.create({ modelPath: opts.modelPath, ...(opts.workers ? { workers: opts.workers } : {}) });
    const writer = await startIndexWorker(`index writer for ${opts.out}`);
    const features = settings.referenceFeatures
      ? await ReferenceFeaturePass.start(new MapSampler(imagery), featureResolutions(settings.camera, settings.altitudesM, DEFAULT_WINDOW_MARGIN))
      : undefined;
    let next: Promise<TilePixels[]> | undefined;
    try {
      log(`[index] embedding ${plans.length - resumed} tiles in ${cells.size - work.done.size} cells with ${model.backbone} ${model.version} (${model.dim}-d) on ${pool.provider}, ${pool.size} worker${pool.size === 1 ? '' : 's'}`);
      let done = resumed;
      opts.onProgress?.(done, plans.length, resumed);
      const todo = [...cells.keys()].sort((a, b) => a - b).filter((cell) => !work.done.has(cell));
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
        const embedded = await embedCell(pool, tiles, {
          batchSize,
          minCoverage,
          timing,
          log,
          onTiles: (n) => opts.onProgress?.((done += n), plans.length, resumed),
        });
        const bounds = cellBounds(grid, cell);
        if (features && embedded.tiles.length > 0) {
          const started = performance.now();
          await features.cell(work.dir, cell, bounds);
          timing.featuresMs += performance.now() - started;
        }
        await opts.cellStep?.({ cell, bounds, tiles: embedded.tiles, imagery, dir: work.dir });
        const started = performance.now();
        if (embedded.tiles.length > 0) await writeCellVectors(writer, work.faissPath(cell), model.dim, embedded.vectors);
        await work.saveCell(cell, embedded.tiles.map(({ rect: _rect, ...geometry }) => geometry), { holes: embedded.holes, unreadable: embedded.unreadable });
        timing.writeMs += performance.now() - started;
      }
    } finally {
      // a read still in flight must end before its dataset is closed
      await next?.catch(() => undefined);
      await Promise.all([pool.close(), writer.close(), features?.close()]);
    }
    opts.onTiming?.(timing);
    const build = work.counts(plans.length);
    if (build.holes + build.unreadable > 0) log(`[index] skipped ${build.holes} tiles over holes (under ${Math.round(minCoverage * 100)}% valid pixels) and ${build.unreadable} unreadable ones of ${plans.length}`);
    const cellTiles = await Promise.all([...work.done.keys()].map(async (cell) => ({ cell, tiles: await work.cellTiles(cell) })));
    const featuresManifest = await features?.manifest(work.dir, cellTiles.flatMap(({ cell, tiles }) => (tiles.length > 0 ? [cell] : [])), log);
    await work.strip();
    return await assembleIndex(work.dir, opts.out, {
      model,
      scales,
      settings,
      grid,
      build,
      imagery: {
        path: manifestImageryPath(opts.imagery, opts.out),
        crs: imagery.crs,
        sourceCrs: imagery.sourceCrs,
        bounds: imagery.bounds,
        width: imagery.width,
        height: imagery.height,
        metersPerPixel: imagery.metersPerPixel,
        images: imagery.images,
        fingerprint,
      },
      ...(featuresManifest && { features: featuresManifest }),
    }, cellTiles);
  } finally {
    imagery.close();
  }
}
