/** `geoloc index build` and `geoloc index info`: make and inspect satellite indexes. */
import type { Command } from '../../pipeline/commands/command';
import { integerOption, numberOption, parseOptions, usageError } from '../../pipeline/core/options';
import { DEFAULT_ALTITUDES_M, DEFAULT_BATCH_SIZE, DEFAULT_CELL_SIZE_M, DEFAULT_HFOV_DEG, DEFAULT_OVERLAP, buildIndex } from '../buildIndex';
import { readCatalog, readManifest, type IndexManifest, type TileRecord } from '../indexFiles';
import { defaultModelPath } from '../modelInfo';
import { progressReporter } from '../progress';

const HASH_SHOWN = 12;
const MS_PER_S = 1000;
const COORD_DIGITS = 6;

const BUILD_USAGE = `usage: geoloc index build --imagery <path> --out <dir> [options]

Tiles georeferenced imagery at the scales a camera sees from the expected altitudes,
embeds every tile with the model and writes a partitioned FAISS index, tile catalog and
manifest. An index already built from the same model, imagery and settings is kept.

  --imagery <path>     PNG/JPG with a world file, a GeoTIFF, or a folder of images with
                       map.csv (Filename, Top_left_lat, Top_left_lon, Bottom_right_lat, Bottom_right_lon)
  --out <dir>          index folder to write (replaced when it holds an older index)
  --model <onnx>       embedding model (default: the embedded model, fixtures/model/model.onnx)
  --altitudes <list>   flight altitudes above ground in metres, one tile scale each (default ${DEFAULT_ALTITUDES_M.join(',')})
  --hfov <deg>         camera horizontal field of view (default ${DEFAULT_HFOV_DEG})
  --overlap <0..1>     fraction of a tile its neighbour shares (default ${DEFAULT_OVERLAP})
  --cell-size <m>      side of a geographic partition cell (default ${DEFAULT_CELL_SIZE_M})
  --batch <n>          tiles per inference batch (default ${DEFAULT_BATCH_SIZE})
  --workers <n>        embedding worker threads (default 1)
  --force              rebuild even when the index is current
  --progress           draw a progress bar even when stderr is not a terminal
`;

const INFO_USAGE = `usage: geoloc index info <dir>

Prints what an index folder holds: model, dimension, tiles per scale, partition, bounds.
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
    `partition  ${p.cells} non-empty cells of ${p.cellSizeM} m (grid ${p.cols}×${p.rows})`,
    `bounds     lat ${b.south.toFixed(COORD_DIGITS)}..${b.north.toFixed(COORD_DIGITS)}, lon ${b.west.toFixed(COORD_DIGITS)}..${b.east.toFixed(COORD_DIGITS)}`,
    `imagery    ${manifest.imagery.path} (${manifest.imagery.images} image${manifest.imagery.images === 1 ? '' : 's'}, ${manifest.imagery.crs}, ${manifest.imagery.metersPerPixel.toFixed(2)} m/px)`,
    `built      ${manifest.createdAt}`,
  ];
}

export const indexBuildCommand: Command = {
  name: ['index', 'build'],
  summary: 'tile georeferenced imagery, embed it and write a partitioned FAISS index',
  usage: BUILD_USAGE,
  async run(argv) {
    const { values } = parseOptions(
      {
        args: argv,
        options: {
          imagery: { type: 'string' },
          out: { type: 'string' },
          model: { type: 'string' },
          altitudes: { type: 'string' },
          hfov: { type: 'string' },
          overlap: { type: 'string' },
          'cell-size': { type: 'string' },
          batch: { type: 'string' },
          workers: { type: 'string' },
          force: { type: 'boolean' },
          progress: { type: 'boolean' },
        },
      },
      BUILD_USAGE,
    );
    if (!values.imagery) throw usageError('--imagery is required', BUILD_USAGE);
    if (!values.out) throw usageError('--out is required', BUILD_USAGE);
    const altitudesM = values.altitudes?.split(',').map((a) => numberOption('altitudes', a, undefined, BUILD_USAGE)!);
    const progress = progressReporter({ label: 'embedding tiles', ...(values.progress ? { bar: true } : {}) });
    const started = Date.now();
    const manifest = await buildIndex({
      imagery: values.imagery,
      out: values.out,
      modelPath: values.model ?? defaultModelPath(),
      altitudesM,
      hfovDeg: numberOption('hfov', values.hfov, undefined, BUILD_USAGE),
      overlap: numberOption('overlap', values.overlap, undefined, BUILD_USAGE),
      cellSizeM: numberOption('cell-size', values['cell-size'], undefined, BUILD_USAGE),
      batchSize: integerOption('batch', values.batch, undefined, BUILD_USAGE),
      workers: integerOption('workers', values.workers, undefined, BUILD_USAGE),
      force: values.force ?? false,
      onProgress: (done, total) => (done === total ? (progress.update(done, total), progress.finish()) : progress.update(done, total)),
    });
    const tiles = await readCatalog(values.out, manifest);
    const lines = [...describeIndex(values.out, manifest, tiles), `took       ${((Date.now() - started) / MS_PER_S).toFixed(1)} s`];
    process.stdout.write(lines.join('\n') + '\n');
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
