/**
 * Writes georeferenced imagery in the formats geoloc reads, through GDAL: a tiled GeoTIFF, a
 * COG (with overviews), a JPEG2000, an MBTiles (with its zoom levels) or an XYZ folder of
 * 256-pixel PNG tiles, optionally warped into another CRS first (a UTM orthophoto, say).
 * MBTiles and XYZ are Web-Mercator by definition, at the zoom that keeps the source's detail.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from 'gdal-async';
import { GeolocError } from '../pipeline/core/errors';
import { MERCATOR_HALF_EXTENT_M } from '../pipeline/geo/webMercator';
import { gdal, memoryPath } from './gdal';

export const IMAGERY_FORMATS = ['gtiff', 'cog', 'jp2', 'mbtiles', 'xyz'] as const;
export type ImageryFormat = (typeof IMAGERY_FORMATS)[number];

/** The file (or folder) name each format is written under, beside the PNG. */
export const FORMAT_FILE: Record<ImageryFormat, string> = { gtiff: 'tif', cog: 'cog.tif', jp2: 'jp2', mbtiles: 'mbtiles', xyz: 'xyz' };

const TILE_SIZE = 256;
const DRIVER: Record<Exclude<ImageryFormat, 'xyz'>, string[]> = {
  gtiff: ['-of', 'GTiff', '-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE'],
  cog: ['-of', 'COG', '-co', 'COMPRESS=JPEG', '-co', 'QUALITY=90'],
  jp2: ['-of', 'JP2OpenJPEG', '-co', 'QUALITY=95'],
  mbtiles: ['-of', 'MBTiles', '-co', 'TILE_FORMAT=PNG'],
};

export function parseImageryFormat(value: string): ImageryFormat {
  if ((IMAGERY_FORMATS as readonly string[]).includes(value)) return value as ImageryFormat;
  throw new GeolocError('GEOLOC_ERR_USAGE', `--format must be one of ${IMAGERY_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
}

/** The source, warped into `crs` as an in-memory VRT when one is asked. */
function inCrs(source: Dataset, crs: string | undefined): Dataset {
  if (crs === undefined) return source;
  try {
    return gdal().warp(memoryPath('to-crs'), null, [source], ['-of', 'VRT', '-t_srs', crs, '-r', 'bilinear']);
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_CRS_UNSUPPORTED', `--crs ${crs} is not a CRS GDAL knows (${(cause as Error).message}); give an EPSG code such as EPSG:32632`, { cause });
  }
}

/** Halving levels until the whole raster fits one tile: the zoom levels of an MBTiles. */
function overviewFactors(dataset: Dataset): number[] {
  const factors: number[] = [];
  for (let f = 2; Math.max(dataset.rasterSize.x, dataset.rasterSize.y) / f >= TILE_SIZE / 2; f *= 2) factors.push(f);
  return factors;
}

export interface WriteImageryOptions {
  /** the CRS to write in (default: the source's) */
  crs?: string;
  /** the source's CRS where it does not state one (a world file) */
  sourceCrs?: string;
}

/** Writes the georeferenced raster `source` (any GDAL reads) as `format` to `out`. */
export async function writeImagery(source: string, out: string, format: ImageryFormat, options: WriteImageryOptions = {}): Promise<void> {
  const g = gdal();
  const opened = g.open(source);
  const input = options.sourceCrs && !opened.srs ? g.translate(memoryPath('with-crs'), opened, ['-of', 'VRT', '-a_srs', options.sourceCrs]) : opened;
  const projected = inCrs(input, format === 'mbtiles' || format === 'xyz' ? 'EPSG:3857' : options.crs);
  try {
    if (format === 'xyz') {
      writeXyz(projected, out);
      return;
    }
    const written = g.translate(out, projected, DRIVER[format]);
    if (format === 'mbtiles') await written.buildOverviewsAsync('AVERAGE', overviewFactors(written));
    written.close();
  } finally {
    // each dataset before the one it reads: GDAL crashes on a source closed under a live VRT
    for (const dataset of new Set([projected, input, opened])) dataset.close();
  }
}

/** The slippy-map tiles at the zoom whose pixels are no coarser than the raster's, as {z}/{x}/{y}.png. */
function writeXyz(mercator: Dataset, out: string): void {
  const g = gdal();
  const gt = mercator.geoTransform!;
  const { x: width, y: height } = mercator.rasterSize;
  const zoom = Math.ceil(Math.log2((2 * MERCATOR_HALF_EXTENT_M) / (TILE_SIZE * gt[1]!)));
  const tileM = (2 * MERCATOR_HALF_EXTENT_M) / 2 ** zoom;
  const column = (mx: number) => Math.floor((mx + MERCATOR_HALF_EXTENT_M) / tileM);
  const row = (my: number) => Math.floor((MERCATOR_HALF_EXTENT_M - my) / tileM);
  const [x0, x1] = [column(gt[0]!), column(gt[0]! + width * gt[1]! - 1e-6)];
  const [y0, y1] = [row(gt[3]!), row(gt[3]! + height * gt[5]! + 1e-6)];
  for (let x = x0; x <= x1; x++) {
    mkdirSync(join(out, String(zoom), String(x)), { recursive: true });
    for (let y = y0; y <= y1; y++) {
      const west = -MERCATOR_HALF_EXTENT_M + x * tileM;
      const north = MERCATOR_HALF_EXTENT_M - y * tileM;
      const tile = g.warp(memoryPath('xyz-tile', 'tif'), null, [mercator], ['-of', 'GTiff', '-te', String(west), String(north - tileM), String(west + tileM), String(north), '-ts', String(TILE_SIZE), String(TILE_SIZE), '-r', 'bilinear', '-dstalpha']);
      g.translate(join(out, String(zoom), String(x), `${y}.png`), tile, ['-of', 'PNG']).close();
      tile.close();
    }
  }
}
