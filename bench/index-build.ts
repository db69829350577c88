/**
 * Index build at city scale: a square orthophoto (default 10 km at 0.5 m/px, 20k × 20k px),
 * written by GDAL as a tiled JPEG COG in UTM from the synthetic world (one world generated,
 * mosaicked side by side with gdalbuildvrt, warped by gdalwarp), built into an index.
 *
 * Measured in one run, against targets:
 *   - peak RSS of the build process, run with the malloc settings of `geoloc index build`
 *     (core/boundedMalloc.ts) (target ≤ 1.5 GB)
 *   - tiles/s of the build ÷ images/s of the raw model in the same worker layout (≥ 0.8), and
 *     the same for a build without the registration features (what the pipeline around the
 *     embedding costs, apart from the feature pass)
 *   - a build killed at about 50% (SIGKILL) and rerun ends with an index identical to the
 *     uninterrupted build (every file but the manifest's createdAt)
 *   - time per 1,000 tiles: read, warp (the build's cell windows read from the COG in its own
 *     UTM grid and through the warp, the difference), embed (worker time), write
 *
 * usage: node dist/bench/index-build.js [--size-km 10] [--m-per-px 0.5] [--world-m 2048]
 *          [--crs EPSG:32633] [--workers 2] [--feature-workers 1] [--batch 16]
 *          [--model fixtures/model/model.onnx]
 *          [--out bench/results/index-build.json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DEFAULT_BATCH_SIZE, resolveSettings } from '../models/buildIndex';
import { readCellTiles } from '../models/cellTiles';
import type { BuildTiming } from '../models/embedCell';
import { EmbedderPool } from '../models/embedderPool';
import { gdal } from '../models/gdal';
import { openImagery, windowReader, type Imagery } from '../models/imagerySource';
import { defaultModelPath } from '../models/modelInfo';
import { scaleLadder } from '../models/indexCamera';
import { groupByCell, makeGrid, unionBounds } from '../models/partition';
import { planTiles } from '../models/tiling';
import { boundedMallocEnv } from '../pipeline/core/boundedMalloc';
import { repoRoot } from '../pipeline/core/paths';
import { readWorldFile } from '../pipeline/geo/georef';
import { indexDifferences } from '../tests/support/indexBytes';

const GB = 1024 ** 3;
const TARGET_PEAK_RSS_BYTES = 1.5 * GB;
const TARGET_RATIO = 0.8;
const KILL_AT = 0.5;
const RAW_SECONDS = 15;
const MS_PER_S = 1000;
const PER_TILES = 1000;

function run(tool: string, ...args: string[]): void {
  const result = spawnSync(tool, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${result.stderr}`);
}

/** The COG: one synthetic world, mosaicked n × n in Web-Mercator, warped into `crs` at `mpp` m/px. */
function makeOrthophoto(dir: string, o: { sizeKm: number; mpp: number; worldM: number; crs: string }): string {
  const cog = join(dir, `ortho-${o.sizeKm}km-${o.mpp}m-${o.crs.replace(':', '')}.tif`);
  if (existsSync(cog)) return cog;
  const world = join(dir, `world-${o.worldM}m-${o.mpp}`);
  if (!existsSync(join(world, 'world.png'))) {
    const made = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'pipeline', 'cli.js'), 'world', '--out', world, '--size-m', String(o.worldM), '--m-per-px', String(o.mpp)], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('geoloc world failed');
  }
  const affine = readWorldFile(join(world, 'world.pgw'));
  const png = join(world, 'world.png');
  const { x: width, y: height } = gdal().open(png).rasterSize;
  const copies = Math.ceil((o.sizeKm * 1000) / o.worldM);
  const pieces: string[] = [];
  for (let i = 0; i < copies; i++) {
    for (let j = 0; j < copies; j++) {
      const west = affine.c + i * width * affine.a;
      const north = affine.f + j * height * affine.e;
      const piece = join(dir, `piece-${i}-${j}.vrt`);
      run('gdal_translate', '-q', '-of', 'VRT', '-a_srs', 'EPSG:3857', '-a_ullr', String(west), String(north), String(west + width * affine.a), String(north + height * affine.e), png, piece);
      pieces.push(piece);
    }
  }
  const mosaic = join(dir, 'mosaic.vrt');
  run('gdalbuildvrt', '-q', mosaic, ...pieces);
  process.stderr.write(`[bench] warping ${copies}×${copies} worlds into a ${o.sizeKm} km COG in ${o.crs} (minutes)\n`);
  run('gdalwarp', '-q', '-t_srs', o.crs, '-tr', String(o.mpp), String(o.mpp), '-r', 'bilinear', '-multi', '-wo', 'NUM_THREADS=2', '-wm', '512', '-of', 'COG', '-co', 'COMPRESS=JPEG', '-co', 'QUALITY=90', '-co', 'BLOCKSIZE=512', '-co', 'NUM_THREADS=2', mosaic, cog);
  return cog;
}

interface ChildResult {
  tiles: number;
  seconds: number;
  resumed: number;
  peakRssBytes: number;
  timing: BuildTiming;
  build: { planned: number; holes: number; unreadable: number };
}

/** One build in a child process; with killAt, SIGKILLed once that share of the tiles is read. */
function buildInChild(options: Record<string, unknown>, killAt?: number): Promise<ChildResult | 'killed'> {
  return new Promise((resolve, reject) => {
    // with the malloc settings `geoloc index build` runs under
    const env = { ...process.env, ...boundedMallocEnv() };
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'bench', 'indexBuildChild.js'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let result: ChildResult | undefined;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [kind, ...rest] = line.split(' ');
        if (kind === 'progress' && killAt !== undefined && Number(rest[0]) >= killAt * Number(rest[1])) child.kill('SIGKILL');
        if (kind === 'result') result = JSON.parse(rest.join(' ')) as ChildResult;
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0 && result) resolve(result);
      else reject(new Error(`index build child exited with ${code ?? signal}`));
    });
  });
}

/** The raw model's images/s with the build's worker layout and batch size, inputs ready in memory. */
async function rawImagesPerSecond(modelPath: string, workers: number, batch: number): Promise<number> {
  const pool = await EmbedderPool.create({ modelPath, workers });
  try {
    const [h, w] = pool.info.inputSize;
    const input = new Uint8Array(batch * h * w * 3).map((_, i) => (i * 37) % 251);
    const inFlight = new Set<Promise<unknown>>();
    const go = () => {
      const p: Promise<unknown> = pool.embed(input, batch).finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    for (let i = 0; i < pool.size; i++) go();
    await Promise.all(inFlight);
    let images = 0;
    const started = performance.now();
    while (performance.now() - started < RAW_SECONDS * MS_PER_S) {
      while (inFlight.size < pool.size) go();
      await Promise.race(inFlight);
      images += batch;
    }
    await Promise.all(inFlight);
    return images / ((performance.now() - started) / MS_PER_S);
  } finally {
    await pool.close();
  }
}

/**
 * Reading as the build reads (readCellTiles: one window per cell and scale), timed twice over
 * every cell: through the warp into the working projection, and the same windows (same size,
 * centred on the same ground) from the COG's own UTM grid. The second is the read; the
 * difference is the warp.
 */
async function readAndWarp(cog: string, modelInput: [number, number]): Promise<{ tiles: number; warpedMs: number; rawMs: number }> {
  const imagery = await openImagery(cog, () => undefined);
  const raw = gdal().open(cog);
  try {
    const settings = resolveSettings({ imagery: cog, modelPath: '', out: '' });
    const plans = planTiles(imagery, scaleLadder(settings.camera, settings.altitudesM, settings.scaleStep, settings.overlap));
    const cells = [...groupByCell(makeGrid(unionBounds(plans.map((p) => p.bounds)), settings.cellSizeM), plans).values()];
    const readAll = async (source: Imagery) => {
      const started = performance.now();
      for (const cell of cells) await readCellTiles(source, cell, modelInput);
      return performance.now() - started;
    };
    const warpedMs = await readAll(imagery);
    const readRaw = windowReader(cog, raw);
    const toUtm = new (gdal().CoordinateTransformation)(gdal().SpatialReference.fromEPSG(4326), raw.srs!);
    const [x0, mpp, , y0] = raw.geoTransform!;
    const { x: rawWidth, y: rawHeight } = raw.rasterSize;
    const unwarped: Imagery = {
      ...imagery,
      read: (rect, outWidth, outHeight) => {
        const centre = imagery.georef.pixelToLonLat(rect.left + rect.width / 2, rect.top + rect.height / 2);
        const at = toUtm.transformPoint(centre.lon, centre.lat);
        const width = Math.min(rect.width, rawWidth);
        const height = Math.min(rect.height, rawHeight);
        const left = Math.min(rawWidth - width, Math.max(0, Math.round((at.x - x0!) / mpp! - width / 2)));
        const top = Math.min(rawHeight - height, Math.max(0, Math.round((y0! - at.y) / mpp! - height / 2)));
        return readRaw({ left, top, width, height }, outWidth, outHeight);
      },
    };
    return { tiles: plans.length, warpedMs, rawMs: await readAll(unwarped) };
  } finally {
    raw.close();
    imagery.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'size-km': { type: 'string', default: '10' },
      'm-per-px': { type: 'string', default: '0.5' },
      'world-m': { type: 'string', default: '2048' },
      crs: { type: 'string', default: 'EPSG:32633' },
      workers: { type: 'string', default: '2' },
      'feature-workers': { type: 'string', default: '1' },
      batch: { type: 'string', default: String(DEFAULT_BATCH_SIZE) },
      model: { type: 'string', default: defaultModelPath() },
      out: { type: 'string', default: join(repoRoot(), 'bench', 'results', 'index-build.json') },
    },
  });
  const work = join(repoRoot(), 'bench', 'results', 'index-build-data');
  mkdirSync(work, { recursive: true });
  const sizeKm = Number(values['size-km']);
  const cog = makeOrthophoto(work, { sizeKm, mpp: Number(values['m-per-px']), worldM: Number(values['world-m']), crs: values.crs! });
  const workers = Number(values.workers);
  const featureWorkers = Number(values['feature-workers']);
  const batchSize = Number(values.batch);
  const modelPath = values.model!;

  const rawPerS = await rawImagesPerSecond(modelPath, workers, batchSize);
  process.stderr.write(`[bench] raw model: ${rawPerS.toFixed(1)} images/s (${workers} workers, batch ${batchSize})\n`);

  const base = { imagery: cog, modelPath, workers, featureWorkers, batchSize, force: true };
  const whole = join(work, 'index-whole');
  const resumed = join(work, 'index-resumed');
  for (const dir of [whole, resumed]) rmSync(dir, { recursive: true, force: true });
  const uninterrupted = await buildInChild({ ...base, out: whole });
  if (uninterrupted === 'killed') throw new Error('the uninterrupted build was killed');
  const tilesPerS = uninterrupted.build.planned / uninterrupted.seconds;
  process.stderr.write(`[bench] build: ${uninterrupted.tiles} tiles in ${uninterrupted.seconds.toFixed(1)} s, peak RSS ${(uninterrupted.peakRssBytes / GB).toFixed(2)} GB\n`);

  // the same build without the registration features: what reading, warping and writing cost the embedding alone
  const withoutFeatures = join(work, 'index-without-features');
  rmSync(withoutFeatures, { recursive: true, force: true });
  const embeddingOnly = await buildInChild({ ...base, out: withoutFeatures, referenceFeatures: false });
  if (embeddingOnly === 'killed') throw new Error('the build without features was killed');
  const embeddingOnlyTilesPerS = embeddingOnly.build.planned / embeddingOnly.seconds;
  rmSync(withoutFeatures, { recursive: true, force: true });

  const killed = await buildInChild({ ...base, out: resumed }, KILL_AT);
  const rerun = await buildInChild({ ...base, out: resumed, force: false });
  if (rerun === 'killed') throw new Error('the rerun was killed');
  const differences = indexDifferences(whole, resumed);

  const modelInput = (await EmbedderPool.create({ modelPath, workers: 1 }).then(async (p) => [p.info.inputSize, await p.close()] as const))[0];
  const reading = await readAndWarp(cog, modelInput);
  const perK = (ms: number, tiles: number) => (ms / tiles) * PER_TILES;
  const result = {
    orthophoto: { path: cog, sizeKm, metersPerPixel: Number(values['m-per-px']), crs: values.crs },
    workers,
    featureWorkers,
    batchSize,
    model: modelPath,
    rawImagesPerS: rawPerS,
    build: uninterrupted,
    tilesPerS,
    ratio: tilesPerS / rawPerS,
    withoutFeatures: { seconds: embeddingOnly.seconds, timing: embeddingOnly.timing, peakRssBytes: embeddingOnly.peakRssBytes, tilesPerS: embeddingOnlyTilesPerS, ratio: embeddingOnlyTilesPerS / rawPerS },
    msPer1000Tiles: {
      read: perK(reading.rawMs, reading.tiles),
      warp: perK(reading.warpedMs - reading.rawMs, reading.tiles),
      readInBuild: perK(uninterrupted.timing.readMs, uninterrupted.build.planned),
      embedWorkerTime: perK(uninterrupted.timing.embedMs, uninterrupted.tiles),
      write: perK(uninterrupted.timing.writeMs, uninterrupted.tiles),
      wall: perK(uninterrupted.seconds * MS_PER_S, uninterrupted.build.planned),
    },
    resume: { killedAtShare: KILL_AT, killed: killed === 'killed', resumedTiles: rerun.resumed, rerunSeconds: rerun.seconds, differingFiles: differences },
    targets: {
      peakRss: { value: uninterrupted.peakRssBytes, target: TARGET_PEAK_RSS_BYTES, met: uninterrupted.peakRssBytes <= TARGET_PEAK_RSS_BYTES },
      ratio: { value: tilesPerS / rawPerS, target: TARGET_RATIO, met: tilesPerS / rawPerS >= TARGET_RATIO },
      identicalAfterKill: { met: killed === 'killed' && differences.length === 0 },
    },
  };
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
  const k = result.msPer1000Tiles;
  process.stdout.write(
    [
      `orthophoto      ${sizeKm} km × ${sizeKm} km at ${values['m-per-px']} m/px, COG in ${values.crs}: ${uninterrupted.build.planned} tiles planned, ${uninterrupted.tiles} kept`,
      `peak RSS        ${(uninterrupted.peakRssBytes / GB).toFixed(2)} GB (target ≤ ${TARGET_PEAK_RSS_BYTES / GB} GB) ${result.targets.peakRss.met ? 'met' : 'MISSED'}`,
      `throughput      ${tilesPerS.toFixed(1)} tiles/s ÷ raw ${rawPerS.toFixed(1)} images/s = ${result.ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}) ${result.targets.ratio.met ? 'met' : 'MISSED'}`,
      `  features off  ${embeddingOnlyTilesPerS.toFixed(1)} tiles/s = ${(embeddingOnlyTilesPerS / rawPerS).toFixed(2)} of raw (reading, warping and writing around the embedding alone)`,
      `  features      ${(uninterrupted.timing.featuresMs / MS_PER_S).toFixed(1)} s extracting the cells' XFeat features (${featureWorkers} worker${featureWorkers === 1 ? '' : 's'}), alongside ${(uninterrupted.timing.embedMs / MS_PER_S / workers).toFixed(1)} s of embedding per worker`,
      `killed at ${KILL_AT * 100}%    rerun resumed ${rerun.resumed} tiles, finished in ${rerun.seconds.toFixed(1)} s; ${differences.length === 0 ? 'identical to the uninterrupted build' : `differs in ${differences.join(', ')}`} ${result.targets.identicalAfterKill.met ? 'met' : 'MISSED'}`,
      `per 1000 tiles  read ${k.read.toFixed(0)} ms, warp ${k.warp.toFixed(0)} ms, embed ${k.embedWorkerTime.toFixed(0)} ms (worker time), write ${k.write.toFixed(0)} ms; wall ${k.wall.toFixed(0)} ms`,
    ].join('\n') + '\n',
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
