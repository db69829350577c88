/**
 * Builds a satellite index: imagery (one source, or several stacked: imageryStack.ts) → multi-scale overlapping tiles over its whole raster →
 * per partition cell: one window per scale read (readCellTiles), its tiles embedded by the
 * embedder pool's workers while the next cell is read, one FAISS
 * IndexFlatIP and the cell's reference features (referenceFeatures.ts) written → the tile
 * catalog and a manifest. The per-cell work is cellBuild.ts's, shared with addImagery.ts; it
 * is resumable cell by cell (BuildWork), and a per-cell step (cellStep) may add its own files
 * for each cell. An index already built from the same model,
 * imagery, settings and feature extractor is left alone unless `force` is set.
 */
import { GeolocError } from '../pipeline/core/errors';
import { BuildWork } from './buildWork';
import { buildCells, type CellStepInput } from './cellBuild';
import type { BuildTiming } from './embedCell';
import { readCells, readManifest, requireFile, type BuildSettings, type ImagerySourceRecord, type IndexManifest } from './indexFiles';
import { checkOutputFolder } from './indexWriter';
import { DEFAULT_ALTITUDES_M, DEFAULT_CAMERA, DEFAULT_SCALE_STEP, checkCamera, scaleLadder } from './indexCamera';
import { imageryFingerprint } from './imagerySource';
import { imageryRecord, sourceRecord, stackFingerprint } from './imageryRecord';
import { openImageryStack } from './imageryStack';
import { DEFAULT_WINDOW_MARGIN } from './locate';
import { loadModelInfo } from './modelInfo';
import { groupByCell, makeGrid, unionBounds } from './partition';
import { currentExtractor, featureResolutions } from './referenceFeatures';
import { planTiles } from './tiling';

export interface BuildIndexOptions {
  /** any raster or folder openImagery reads; several are stacked, a later one on top where they overlap */
  imagery: string | string[];
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
  /** XFeat worker threads for the reference features (see ReferenceFeaturePass.start) */
  featureWorkers?: number;
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

const imageryList = (imagery: string | string[]) => (typeof imagery === 'string' ? [imagery] : imagery);

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
  return (await matchingIndex(opts.out, settings, model.sha256, stackFingerprint(await Promise.all(imageryList(opts.imagery).map(imageryFingerprint))))) !== undefined;
}

export type { CellStepInput } from './cellBuild';

export async function buildIndex(opts: BuildIndexOptions): Promise<IndexManifest> {
  const log = opts.log ?? stderrLine;
  const settings = resolveSettings(opts);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const minCoverage = opts.minCoverage ?? DEFAULT_MIN_COVERAGE;
  const model = await loadModelInfo(opts.modelPath);
  const paths = imageryList(opts.imagery);
  const sources: ImagerySourceRecord[] = [];
  for (const path of paths) sources.push(await sourceRecord(path, opts.out));
  const fingerprint = stackFingerprint(sources.map((s) => s.fingerprint));
  const current = opts.force ? undefined : await matchingIndex(opts.out, settings, model.sha256, fingerprint);
  if (current) {
    log(`[index] ${opts.out} is current (model ${model.sha256.slice(0, HASH_SHOWN)}…, same imagery and settings); nothing to do (--force rebuilds)`);
    return current;
  }
  await checkOutputFolder(opts.out);
  const imagery = await openImageryStack(paths, log);
  try {
    const scales = scaleLadder(settings.camera, settings.altitudesM, settings.scaleStep, settings.overlap);
    const plans = planTiles(imagery, scales);
    if (plans.length === 0) {
      const smallest = Math.min(...scales.map((s) => s.footprintM));
      throw new GeolocError(
        'GEOLOC_ERR_INDEX_NO_TILES',
        `imagery ${paths.join(', ')} (about ${Math.round(imagery.width * imagery.metersPerPixel)} × ${Math.round(imagery.height * imagery.metersPerPixel)} m) is smaller than the smallest tile footprint ` +
          `(${Math.round(smallest)} m at ${Math.min(...settings.altitudesM)} m altitude, ${settings.camera.hfovDeg[0]}° hfov); lower --altitudes or --hfov, or use larger imagery`,
      );
    }
    for (const [i, s] of scales.entries()) {
      const count = plans.filter((p) => p.scale === i).length;
      log(`[index] altitude ${s.altitudeM} m: footprint ${s.footprintM.toFixed(1)} m, stride ${s.strideM.toFixed(1)} m, ${count} tiles${count === 0 ? ' (imagery too small for this footprint)' : ''}`);
    }
    const grid = makeGrid(unionBounds(plans.map((p) => p.bounds)), settings.cellSizeM);
    const cells = groupByCell(grid, plans);
    const extractor = settings.referenceFeatures ? (await currentExtractor()).sha256 : undefined;
    const key = JSON.stringify({ settings, minCoverage, batchSize, model: model.sha256, fingerprint, grid, extractor });
    const work = await BuildWork.open(opts.out, key);
    if (work.done.size > 0) log(`[index] resuming: ${work.done.size} of ${cells.size} cells were built by an earlier run`);
    return await buildCells(
      {
        ...opts,
        log,
        model,
        imagery,
        grid,
        cells,
        todo: [...cells.keys()].sort((a, b) => a - b).filter((cell) => !work.done.has(cell)),
        work,
        ...(settings.referenceFeatures && { featureResolutions: featureResolutions(settings.camera, settings.altitudesM, DEFAULT_WINDOW_MARGIN) }),
        batchSize,
        minCoverage,
      },
      { model, scales, settings, grid, imagery: imageryRecord(sources, imagery) },
    );
  } finally {
    imagery.close();
  }
}
