/** `geoloc index build`, `geoloc index add` and `geoloc index info`: make, extend and inspect satellite indexes. */
import type { Command } from '../../pipeline/commands/command';
import { integerOption, numberOption, parseOptions, usageError } from '../../pipeline/core/options';
import { addImagery } from '../addImagery';
import { DEFAULT_BATCH_SIZE, DEFAULT_CELL_SIZE_M, DEFAULT_MIN_COVERAGE, DEFAULT_OVERLAP, buildIndex } from '../buildIndex';
import { DEFAULT_ALTITUDES_M, DEFAULT_CAMERA, DEFAULT_SCALE_STEP, parseAspect, shortSideFovDeg } from '../indexCamera';
import { indexImageryPaths, readCatalog, readManifest, type BuildCounts, type IndexManifest, type TileRecord } from '../indexFiles';
import { defaultModelPath } from '../modelInfo';
import { progressReporter } from '../progress';

const HASH_SHOWN = 12;
const MS_PER_S = 1000;
const COORD_DIGITS = 6;

const BUILD_USAGE = `usage: geoloc index build --imagery <path> [--imagery <path> ...] --out <dir> [options]

Tiles georeferenced imagery at the scales the camera sees across its altitude band (a
tile is the ground of the frame's centre square, which the model sees), embeds every tile
with the model and writes a partitioned FAISS index, tile catalog, the map's reference
features and manifest, one partition cell at a time: a build that was killed continues
where it stopped when run again. An index already built from the same model, imagery and
settings is kept.

  --imagery <path>     any raster GDAL reads (GeoTIFF/COG, JPEG2000, PNG/JPG + world file, VRT,
                       MBTiles), in any CRS it knows (warped to EPSG:3857 on the fly); or a folder:
                       an XYZ cache {z}/{x}/{y}.png|jpg, images with map.csv (Filename, Top_left_lat,
                       Top_left_lon, Bottom_right_lat, Bottom_right_lon), or georeferenced rasters,
                       mosaicked so tiles cross image borders.
                       Repeat it for several sources: they are stacked in the order given, a
                       later one on top where they overlap, in the first one's projection
  --out <dir>          index folder to write (replaced when it holds an older index)
  --model <onnx>       embedding model (default: the embedded model, fixtures/model/model.onnx)
  --hfov <deg|min,max> the camera's horizontal field of view, or the range of the cameras
                       the index serves (default ${DEFAULT_CAMERA.hfovDeg.join(',')})
  --aspect <w:h>       the frame's aspect, as render and run describe it (default 4:3)
  --altitudes <list>   the altitude band above ground in metres: min,max, or altitudes that
                       each get a tile scale (default ${DEFAULT_ALTITUDES_M.join(',')})
  --scale-step <r>     largest ratio between neighbouring tile footprints; scales are added
                       across the band until none is further apart (default ${DEFAULT_SCALE_STEP})
  --overlap <0..1>     fraction of a tile its neighbour shares (default ${DEFAULT_OVERLAP})
  --cell-size <m>      side of a geographic partition cell (default ${DEFAULT_CELL_SIZE_M})
  --batch <n>          tiles per inference batch (default ${DEFAULT_BATCH_SIZE})
  --workers <n>        embedding worker threads (default 1)
  --feature-workers <n> XFeat worker threads for the reference features (default 1, using every
                       core; more run one core each, side by side, about 110 MB each)
  --min-coverage <0..1> a tile with a smaller share of valid pixels is a hole, skipped and
                       counted (default ${DEFAULT_MIN_COVERAGE})
  --no-features        leave out the reference features (the map's XFeat keypoints per cell at the
                       resolutions registration needs): a retrieval-only index, smaller and quicker
                       to build, that --register and locate cut map windows from at run time
  --force              rebuild even when the index is current
  --progress           draw a progress bar even when stderr is not a terminal
`;

const INFO_USAGE = `usage: geoloc index info <dir>

Prints what an index folder holds: model, dimension, tiles per scale, partition, bounds,
the imagery's CRS, and its coverage (tiles kept of those planned, holes, unreadable).
`;

/** Lines describing an index, for both the build summary and `index info`. */
export function describeIndex(dir: string, manifest: IndexManifest, tiles: TileRecord[]): string[] {
  const perScale = manifest.scales.map((s, i) => `${s.altitudeM} m: ${tiles.filter((t) => t.scale === i).length} × ${s.footprintM.toFixed(0)} m`);
  const b = manifest.bounds;
  const p = manifest.partition;
  return [
    `index      ${dir}`,
    `tiles      ${manifest.tiles} (${perScale.join('; ')})`,
    `model      ${manifest.model.backbone}, ${manifest.dim}-d, input ${manifest.model.inputSize.join('×')}, sha256 ${manifest.model.sha256.slice(0, HASH_SHOWN)}…`,
    ...cameraLines(manifest),
    featuresLine(manifest),
    `partition  ${p.cells} non-empty cells of ${p.cellSizeM} m (grid ${p.cols}×${p.rows})`,
    `bounds     lat ${b.south.toFixed(COORD_DIGITS)}..${b.north.toFixed(COORD_DIGITS)}, lon ${b.west.toFixed(COORD_DIGITS)}..${b.east.toFixed(COORD_DIGITS)}`,
    `imagery    ${indexImageryPaths(dir, manifest).join(' + ')} (${manifest.imagery.images} image${manifest.imagery.images === 1 ? '' : 's'}, ${manifest.imagery.crs}, ${manifest.imagery.metersPerPixel.toFixed(2)} m/px)`,
    `source crs ${manifest.imagery.sourceCrs ?? manifest.imagery.crs}`,
    ...(manifest.build ? [coverageLine(manifest.tiles, manifest.build)] : []),
    `built      ${manifest.createdAt}`,
  ];
}

function coverageLine(tiles: number, build: BuildCounts): string {
  const share = build.planned > 0 ? (100 * tiles) / build.planned : 0;
  return `coverage   ${share.toFixed(1)}% of ${build.planned} planned tiles (holes ${build.holes}, unreadable ${build.unreadable})`;
}

/** The camera and band an index was built for; indexes from before they were recorded say so. */
function cameraLines({ settings }: IndexManifest): string[] {
  if (!settings.camera) return ['camera     not recorded (built before cameras were; rebuild to record one)'];
  const { hfovDeg, aspect } = settings.camera;
  const across = hfovDeg.map((h) => shortSideFovDeg(h, aspect).toFixed(1));
  return [
    `camera     hfov ${hfovDeg[0] === hfovDeg[1] ? hfovDeg[0] : hfovDeg.join('–')}°, aspect ${aspect.toFixed(3)} (${across[0] === across[1] ? across[0] : across.join('–')}° across the shorter side)`,
    `altitudes  ${Math.min(...settings.altitudesM)}–${Math.max(...settings.altitudesM)} m (given ${settings.altitudesM.join(',')}; scale step ${settings.scaleStep})`,
  ];
}

function featuresLine({ features }: IndexManifest): string {
  if (!features) return 'features   none: retrieval only; registration cuts map windows at run time (rebuild without --no-features to store them)';
  const keypoints = features.files.reduce((a, f) => a + f.count, 0);
  const { extractor } = features;
  return `features   ${extractor.name} ${extractor.sha256.slice(0, HASH_SHOWN)}…, ${keypoints} keypoints at ${features.metersPerPixel.map((m) => m.toFixed(2)).join(', ')} m/px in ${features.files.length} files`;
}

/** "70" or "70,84" → one field of view or a range. */
function hfovOption(text: string | undefined): number | [number, number] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(',').map((v) => numberOption('hfov', v, undefined, BUILD_USAGE)!);
  if (values.length > 2) throw usageError(`--hfov takes one angle or min,max, got ${JSON.stringify(text)}`, BUILD_USAGE);
  return values.length === 1 ? values[0]! : [values[0]!, values[1]!];
}

export const indexBuildCommand: Command = {
  name: ['index', 'build'],
  boundedMalloc: true,
  summary: 'tile georeferenced imagery, embed it and write a partitioned FAISS index',
  usage: BUILD_USAGE,
  async run(argv) {
    const { values } = parseOptions(
      {
        args: argv,
        options: {
          imagery: { type: 'string', multiple: true },
          out: { type: 'string' },
          model: { type: 'string' },
          altitudes: { type: 'string' },
          hfov: { type: 'string' },
          aspect: { type: 'string' },
          'scale-step': { type: 'string' },
          overlap: { type: 'string' },
          'cell-size': { type: 'string' },
          batch: { type: 'string' },
          workers: { type: 'string' },
          'feature-workers': { type: 'string' },
          'min-coverage': { type: 'string' },
          'no-features': { type: 'boolean' },
          force: { type: 'boolean' },
          progress: { type: 'boolean' },
        },
      },
      BUILD_USAGE,
    );
    if (!values.imagery?.length) throw usageError('--imagery is required', BUILD_USAGE);
    if (!values.out) throw usageError('--out is required', BUILD_USAGE);
    const altitudesM = values.altitudes?.split(',').map((a) => numberOption('altitudes', a, undefined, BUILD_USAGE)!);
    const started = Date.now();
    const manifest = await buildIndex({
      imagery: values.imagery,
      out: values.out,
      modelPath: values.model ?? defaultModelPath(),
      altitudesM,
      hfovDeg: hfovOption(values.hfov),
      aspect: values.aspect !== undefined ? parseAspect(values.aspect) : undefined,
      scaleStep: numberOption('scale-step', values['scale-step'], undefined, BUILD_USAGE),
      overlap: numberOption('overlap', values.overlap, undefined, BUILD_USAGE),
      cellSizeM: numberOption('cell-size', values['cell-size'], undefined, BUILD_USAGE),
      batchSize: integerOption('batch', values.batch, undefined, BUILD_USAGE, 1),
      workers: integerOption('workers', values.workers, undefined, BUILD_USAGE, 1),
      featureWorkers: integerOption('feature-workers', values['feature-workers'], undefined, BUILD_USAGE, 1),
      minCoverage: numberOption('min-coverage', values['min-coverage'], undefined, BUILD_USAGE),
      referenceFeatures: !values['no-features'],
      force: values.force ?? false,
      onProgress: barProgress(values.progress),
    });
    await printSummary(values.out, manifest, started);
    return 0;
  },
};

async function printSummary(dir: string, manifest: IndexManifest, started: number): Promise<void> {
  const tiles = await readCatalog(dir, manifest);
  const lines = [...describeIndex(dir, manifest, tiles), `took       ${((Date.now() - started) / MS_PER_S).toFixed(1)} s`];
  process.stdout.write(lines.join('\n') + '\n');
}

/** The progress bar of a build or an add: it counts this run's tiles, so that its rate and ETA are this run's. */
function barProgress(bar: boolean | undefined): (done: number, total: number, resumed: number) => void {
  const progress = progressReporter({ label: 'embedding tiles', ...(bar ? { bar: true } : {}) });
  return (done, total, resumed) => {
    progress.update(done - resumed, total - resumed);
    if (done === total) progress.finish();
  };
}

const ADD_USAGE = `usage: geoloc index add <dir> --imagery <path> [options]

Adds an imagery source (anything index build reads) to an existing index, on top of its
sources where they overlap. Only the partition cells the new imagery touches are cut,
embedded and get their reference features again; every other cell's files are kept as they
are. The grid grows by whole cells where the new ground reaches past it (a cell keeps its
ground; cell numbers follow the grown grid). An add that was killed continues where it
stopped when run again. The index keeps its model, camera, band and settings.

  --imagery <path>     the source to add (a raster or folder, in any CRS GDAL knows)
  --model <onnx>       the model the index was built with (default: the embedded model)
  --batch <n>          tiles per inference batch (default ${DEFAULT_BATCH_SIZE})
  --workers <n>        embedding worker threads (default 1)
  --feature-workers <n> XFeat worker threads for the reference features (default 1, using every
                       core; more run one core each, side by side, about 110 MB each)
  --min-coverage <0..1> a tile with a smaller share of valid pixels is a hole, as in the
                       index's build (default ${DEFAULT_MIN_COVERAGE})
  --progress           draw a progress bar even when stderr is not a terminal
`;

export const indexAddCommand: Command = {
  name: ['index', 'add'],
  boundedMalloc: true,
  summary: 'add imagery to an existing index, re-cutting only the cells it touches',
  usage: ADD_USAGE,
  async run(argv) {
    const { values, positionals } = parseOptions(
      {
        args: argv,
        allowPositionals: true,
        options: {
          imagery: { type: 'string' },
          model: { type: 'string' },
          batch: { type: 'string' },
          workers: { type: 'string' },
          'feature-workers': { type: 'string' },
          'min-coverage': { type: 'string' },
          progress: { type: 'boolean' },
        },
      },
      ADD_USAGE,
    );
    if (positionals.length !== 1) throw usageError('index add takes one index folder', ADD_USAGE);
    if (!values.imagery) throw usageError('--imagery is required', ADD_USAGE);
    const dir = positionals[0]!;
    const started = Date.now();
    const manifest = await addImagery({
      index: dir,
      imagery: values.imagery,
      modelPath: values.model ?? defaultModelPath(),
      batchSize: integerOption('batch', values.batch, undefined, ADD_USAGE, 1),
      workers: integerOption('workers', values.workers, undefined, ADD_USAGE, 1),
      featureWorkers: integerOption('feature-workers', values['feature-workers'], undefined, ADD_USAGE, 1),
      minCoverage: numberOption('min-coverage', values['min-coverage'], undefined, ADD_USAGE),
      onProgress: barProgress(values.progress),
    });
    await printSummary(dir, manifest, started);
    return 0;
  },
};

export const indexInfoCommand: Command = {
  name: ['index', 'info'],
  summary: 'show what a satellite index folder holds',
  usage: INFO_USAGE,
  async run(argv) {
    const { positionals } = parseOptions({ args: argv, options: {}, allowPositionals: true }, INFO_USAGE);
    if (positionals.length !== 1) throw usageError('index info takes one index folder', INFO_USAGE);
    const dir = positionals[0]!;
    const manifest = await readManifest(dir);
    process.stdout.write(describeIndex(dir, manifest, await readCatalog(dir, manifest)).join('\n') + '\n');
    return 0;
  },
};
