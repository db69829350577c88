/**
 * Folders of imagery made into one GDAL raster, so that tiles are cut across image borders:
 * a wildnav corner-CSV folder, an XYZ tile cache ({z}/{x}/{y}.png|jpg, slippy-map rows from
 * the north) or a folder of georeferenced rasters. Each image becomes a VRT source of one
 * in-memory mosaic VRT with an alpha band, so ground no image covers reads as a hole.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Dataset } from 'gdal-async';
import { GeolocError } from '../pipeline/core/errors';
import { MERCATOR_HALF_EXTENT_M } from '../pipeline/geo/webMercator';
import { readCornerCsv, TILE_FOLDER_CSV } from './cornerCsv';
import { gdal, memoryPath } from './gdal';

export interface Mosaic {
  dataset: Dataset;
  /** the files whose bytes define the mosaic */
  files: string[];
  images: number;
}

/** Largest ratio between the coarsest and finest pixel size one mosaic accepts. */
export const MAX_RESOLUTION_RATIO = 1.25;
const TILE_IMAGE = /^(\d+)\.(png|jpe?g|webp)$/i;
const NUMERIC = /^\d+$/;

const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();

export function isXyzFolder(folder: string): boolean {
  return readdirSync(folder).some((z) => NUMERIC.test(z) && isFolder(join(folder, z)));
}

export function hasCornerCsv(folder: string): boolean {
  return readdirSync(folder).some((f) => f === TILE_FOLDER_CSV || f.toLowerCase().endsWith('.csv'));
}

function openSource(file: string): Dataset {
  try {
    return gdal().open(file);
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_UNREADABLE', `${file} could not be opened as a raster: ${(cause as Error).message}`, { cause });
  }
}

/**
 * The image as an in-memory VRT file with its corners and CRS assigned and only its colour
 * bands; its path. (Closed at once, VRT first: a source closed under a live VRT crashes GDAL.)
 */
function assigned(file: string, srs: string, west: number, north: number, east: number, south: number): string {
  const source = openSource(file);
  const colour = source.bands.count() >= 3 ? ['-b', '1', '-b', '2', '-b', '3'] : ['-b', '1'];
  const path = memoryPath('source');
  gdal().translate(path, source, ['-of', 'VRT', '-a_srs', srs, '-a_ullr', String(west), String(north), String(east), String(south), ...colour]).close();
  source.close();
  return path;
}

/** Pixel width of each raster, each opened and closed again. */
function pixelSizes(paths: string[]): number[] {
  return paths.map((path) => {
    const ds = openSource(path);
    try {
      return Math.abs(ds.geoTransform?.[1] ?? NaN);
    } finally {
      ds.close();
    }
  });
}

function mosaic(sources: string[], names: string[], folder: string): Dataset {
  const sizes = pixelSizes(sources);
  const finest = Math.min(...sizes);
  const coarsest = Math.max(...sizes);
  if (coarsest / finest > MAX_RESOLUTION_RATIO) {
    const at = (size: number) => names[sizes.indexOf(size)];
    throw new GeolocError(
      'GEOLOC_ERR_IMAGERY_MIXED_RESOLUTION',
      `${folder} mixes resolutions: ${at(coarsest)} has pixels ${(coarsest / finest).toFixed(2)}× the size of ${at(finest)}'s (at most ${MAX_RESOLUTION_RATIO}× in one mosaic); resample them to one resolution (gdalwarp -tr) or index them separately`,
    );
  }
  return gdal().buildVRT(memoryPath('mosaic'), sources, ['-addalpha', '-resolution', 'highest']);
}

export async function cornerMosaic(folder: string, log: (line: string) => void): Promise<Mosaic> {
  const { csv, rows } = await readCornerCsv(folder);
  const sources: string[] = [];
  const files: string[] = [csv];
  for (const row of rows) {
    const file = join(folder, row.file);
    if (!existsSync(file)) {
      log(`[imagery] ${csv} lists ${row.file}, which is not in ${folder}; skipping it`);
      continue;
    }
    sources.push(assigned(file, 'EPSG:4326', row.topLeftLon, row.topLeftLat, row.bottomRightLon, row.bottomRightLat));
    files.push(file);
  }
  if (sources.length === 0) throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `none of the images ${csv} lists is in ${folder}`);
  return { dataset: mosaic(sources, files.slice(1), folder), files, images: sources.length };
}

/** The deepest zoom of an XYZ cache, mosaicked at its own resolution in EPSG:3857. */
export function xyzMosaic(folder: string): Mosaic {
  const zoom = Math.max(...readdirSync(folder).filter((z) => NUMERIC.test(z) && isFolder(join(folder, z))).map(Number));
  const tileM = (2 * MERCATOR_HALF_EXTENT_M) / 2 ** zoom;
  const sources: string[] = [];
  const files: string[] = [];
  for (const x of readdirSync(join(folder, String(zoom))).filter((d) => NUMERIC.test(d))) {
    for (const name of readdirSync(join(folder, String(zoom), x))) {
      const match = TILE_IMAGE.exec(name);
      if (!match) continue;
      const west = -MERCATOR_HALF_EXTENT_M + Number(x) * tileM;
      const north = MERCATOR_HALF_EXTENT_M - Number(match[1]) * tileM;
      const file = join(folder, String(zoom), x, name);
      sources.push(assigned(file, 'EPSG:3857', west, north, west + tileM, north - tileM));
      files.push(file);
    }
  }
  if (sources.length === 0) throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `XYZ folder ${folder} has no {z}/{x}/{y}.png|jpg tile at zoom ${zoom}`);
  return { dataset: mosaic(sources, files, folder), files, images: sources.length };
}

const RASTER_EXTENSIONS = new Set(['.tif', '.tiff', '.jp2', '.png', '.jpg', '.jpeg', '.vrt', '.img', '.webp']);

/** Every georeferenced raster directly in the folder, in one CRS. */
export function rasterFolderMosaic(folder: string): Mosaic {
  const files = readdirSync(folder)
    .filter((f) => RASTER_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(folder, f));
  if (files.length === 0) {
    throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${folder} holds no raster, no ${TILE_FOLDER_CSV} and no {z}/{x}/{y} tiles; give a georeferenced image, a folder of them, a corner-CSV folder or an XYZ cache`);
  }
  const crs = new Set(
    files.map((file) => {
      const ds = openSource(file);
      const wkt = ds.srs?.toWKT() ?? '';
      ds.close();
      return wkt;
    }),
  );
  if (crs.size > 1) throw new GeolocError('GEOLOC_ERR_CRS_UNSUPPORTED', `${folder} mixes coordinate reference systems; reproject its images to one (gdalwarp -t_srs) first`);
  return { dataset: mosaic(files, files, folder), files, images: files.length };
}
