/**
 * Builds a satellite index: imagery → multi-scale overlapping tiles → embeddings with the
 * model (batched, in the embedder pool's worker) → one FAISS IndexFlatIP per partition cell,
 * the tile catalog and a manifest. An index already built from the same model, imagery and
 * settings is left alone unless `force` is set.
 */
import { relative, resolve, sep } from 'node:path';
import { GeolocError } from '../pipeline/core/errors';
import { repoRoot } from '../pipeline/core/paths';
import { EmbedderPool } from './embedderPool';
import { readCells, readManifest, requireFile, type BuildSettings, type IndexManifest } from './indexFiles';
import { checkOutputFolder, writeIndex } from './indexWriter';
import { imageryFingerprint, openImagery, type Imagery } from './imagerySource';
import { loadModelInfo } from './modelInfo';
import { imageTensorLength, rgbToTensor } from './tensor';
import { cropTile, planTiles, scaleSpecs, type TilePlan } from './tiling';

export interface BuildIndexOptions {
  /** georeferenced image (PNG/JPG + world file, GeoTIFF) or a tile folder with map.csv */
  imagery: string;
  modelPath: string;
  out: string;
  /** expected flight altitudes above ground, one tile scale each */
  altitudesM?: number[];
  /** camera horizontal field of view, degrees */
  hfovDeg?: number;
  /** fraction of a tile its neighbour shares, in [0, 1) */
  overlap?: number;
  /** side of a partition cell, metres */
  cellSizeM?: number;
  /** tiles per inference batch */
  batchSize?: number;
  /** embedder worker threads */
  workers?: number;
  /** rebuild even when the index is current */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** one line of news at a time; default: stderr */
  log?: (line: string) => void;
}

export const DEFAULT_ALTITUDES_M = [120, 200, 300];
export const DEFAULT_HFOV_DEG = 60;
export const DEFAULT_OVERLAP = 0.5;
export const DEFAULT_CELL_SIZE_M = 1000;
export const DEFAULT_BATCH_SIZE = 16;
const MAX_HFOV_DEG = 180;
const HASH_SHOWN = 12;

const stderrLine = (line: string) => void process.stderr.write(line + '\n');

export function resolveSettings(opts: BuildIndexOptions): BuildSettings {
  const settings: BuildSettings = {
    altitudesM: opts.altitudesM ?? DEFAULT_ALTITUDES_M,
    hfovDeg: opts.hfovDeg ?? DEFAULT_HFOV_DEG,
    overlap: opts.overlap ?? DEFAULT_OVERLAP,
    cellSizeM: opts.cellSizeM ?? DEFAULT_CELL_SIZE_M,
  };
  const bad = (what: string, value: unknown) => new GeolocError('GEOLOC_ERR_USAGE', `${what}, got ${JSON.stringify(value)}`);
  if (settings.altitudesM.length === 0 || !settings.altitudesM.every((a) => Number.isFinite(a) && a > 0)) throw bad('altitudes must be positive metres', settings.altitudesM);
  if (!(settings.hfovDeg > 0 && settings.hfovDeg < MAX_HFOV_DEG)) throw bad(`hfov must be between 0 and ${MAX_HFOV_DEG} degrees`, settings.hfovDeg);
  if (!(settings.overlap >= 0 && settings.overlap < 1)) throw bad('overlap must be in [0, 1)', settings.overlap);
  if (!(settings.cellSizeM > 0 && Number.isFinite(settings.cellSizeM))) throw bad('cell size must be positive metres', settings.cellSizeM);
  const batch = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batch) || batch < 1) throw bad('batch size must be a positive integer', batch);
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
  const same = JSON.stringify(manifest.settings) === JSON.stringify(settings) && manifest.model.sha256 === modelSha256 && manifest.imagery.fingerprint === fingerprint;
  return same ? manifest : undefined;
}

/** True when `out` holds a complete index built from this model, imagery and settings. */
export async function indexIsCurrent(opts: BuildIndexOptions): Promise<boolean> {
  const settings = resolveSettings(opts);
  const model = await loadModelInfo(opts.modelPath);
  return (await matchingIndex(opts.out, settings, model.sha256, await imageryFingerprint(opts.imagery))) !== undefined;
}

export async function buildIndex(opts: BuildIndexOptions): Promise<IndexManifest> {
  const log = opts.log ?? stderrLine;
  const settings = resolveSettings(opts);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const model = await loadModelInfo(opts.modelPath);
  const fingerprint = await imageryFingerprint(opts.imagery);
  const current = opts.force ? undefined : await matchingIndex(opts.out, settings, model.sha256, fingerprint);
  if (current) {
    log(`[index] ${opts.out} is current (model ${model.sha256.slice(0, HASH_SHOWN)}…, same imagery and settings); nothing to do (--force rebuilds)`);
    return current;
  }
  await checkOutputFolder(opts.out);
  const imagery = await openImagery(opts.imagery, log);
  const scales = scaleSpecs(settings.altitudesM, settings.hfovDeg, settings.overlap);
  const plans = imagery.rasters.flatMap((raster, i) => planTiles(raster, scales, i));
  if (plans.length === 0) {
    const smallest = Math.min(...scales.map((s) => s.footprintM));
    throw new GeolocError(
      'GEOLOC_ERR_INDEX_NO_TILES',
      `imagery ${opts.imagery} (about ${Math.round(imagery.width * imagery.metersPerPixel)} m wide, images of at most ` +
        `${Math.round(Math.max(...imagery.rasters.map((r) => Math.min(r.width, r.height) * r.metersPerPixel)))} m a side) is smaller than the smallest tile footprint ` +
        `(${Math.round(smallest)} m at ${Math.min(...settings.altitudesM)} m altitude, ${settings.hfovDeg}° fov); lower --altitudes or --hfov, or use larger imagery`,
    );
  }
  for (const [i, s] of scales.entries()) {
    const count = plans.filter((p) => p.scale === i).length;
    log(`[index] altitude ${s.altitudeM} m: footprint ${s.footprintM.toFixed(1)} m, stride ${s.strideM.toFixed(1)} m, ${count} tiles${count === 0 ? ' (imagery too small for this footprint)' : ''}`);
  }

  const pool = await EmbedderPool.create({ modelPath: opts.modelPath, ...(opts.workers ? { workers: opts.workers } : {}) });
  let vectors: Float32Array;
  try {
    log(`[index] embedding ${plans.length} tiles with ${model.backbone} ${model.version} (${model.dim}-d) on ${pool.provider}`);
    vectors = await embedTiles(pool, imagery, plans, batchSize, opts.onProgress);
  } finally {
    await pool.close();
  }
  return writeIndex(opts.out, {
    model,
    scales,
    settings,
    imagery: {
      path: manifestImageryPath(opts.imagery, opts.out),
      crs: imagery.crs,
      bounds: imagery.bounds,
      width: imagery.width,
      height: imagery.height,
      metersPerPixel: imagery.metersPerPixel,
      images: imagery.rasters.length,
      fingerprint,
    },
    tiles: plans.map(({ raster: _raster, rect: _rect, ...geometry }) => geometry),
    vectors,
  });
}

/**
 * Embeds every planned tile, raster by raster (one decoded raster in memory at a time).
 * The crops of the next batch are cut while the worker runs the current one.
 */
async function embedTiles(pool: EmbedderPool, imagery: Imagery, plans: TilePlan[], batchSize: number, onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
  const { info } = pool;
  const perImage = imageTensorLength(info);
  const vectors = new Float32Array(plans.length * info.dim);
  let done = 0;
  let inFlight: Promise<void> = Promise.resolve();
  onProgress?.(0, plans.length);
  for (const [rasterIndex, raster] of imagery.rasters.entries()) {
    const indices = plans.flatMap((p, i) => (p.raster === rasterIndex ? [i] : []));
    if (indices.length === 0) continue;
    const rgb = await raster.rgb();
    for (let b = 0; b < indices.length; b += batchSize) {
      const batch = indices.slice(b, b + batchSize);
      const tensor = new Float32Array(batch.length * perImage);
      const crops = await Promise.all(batch.map((i) => cropTile(rgb, raster.width, raster.height, plans[i]!.rect, info.inputSize)));
      crops.forEach((crop, j) => rgbToTensor(crop, info.inputSize[1], info.inputSize[0], info, tensor, j * perImage));
      await inFlight;
      inFlight = pool.embed(tensor, batch.length).then((result) => {
        batch.forEach((planIndex, j) => vectors.set(result.descriptors.subarray(j * info.dim, (j + 1) * info.dim), planIndex * info.dim));
        done += batch.length;
        onProgress?.(done, plans.length);
      });
      // Rejections surface at the next await; this only keeps Node from calling them unhandled meanwhile.
      inFlight.catch(() => undefined);
    }
  }
  await inFlight;
  return vectors;
}
