/**
 * The imagery an index is built from: one georeferenced image (PNG/JPG + world file, or
 * GeoTIFF), or a folder of images with a CSV of their corner coordinates (the wildnav
 * `map.csv` layout: Filename, Top_left_lat, Top_left_lon, Bottom_right_lat, Bottom_right_lon),
 * each image taken as an axis-aligned EPSG:4326 raster and tiled on its own.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { GeolocError } from '../pipeline/core/errors';
import { boundsOf, groundResolution, loadGeoImage, type GeoBounds } from '../pipeline/geo/geoImage';
import { Georef, findWorldFile } from '../pipeline/geo/georef';
import { haversineMeters } from '../pipeline/geo/wgs84';
import { unionBounds } from './partition';

/** One georeferenced raster; pixels are decoded only when asked for. */
export interface GeoRaster {
  path: string;
  width: number;
  height: number;
  georef: Georef;
  bounds: GeoBounds;
  metersPerPixel: number;
  /** packed RGB, 3 bytes a pixel */
  rgb(): Promise<Buffer>;
}

export interface Imagery {
  path: string;
  crs: string;
  rasters: GeoRaster[];
  bounds: GeoBounds;
  /** pixel size of the whole area at the mean ground resolution */
  width: number;
  height: number;
  metersPerPixel: number;
}

export const TILE_FOLDER_CSV = 'map.csv';
const CORNER_COLUMNS = {
  file: ['filename', 'file', 'image'],
  topLeftLat: ['topleftlat'],
  topLeftLon: ['topleftlon', 'topleftlong', 'topleftlng'],
  bottomRightLat: ['bottomrightlat'],
  bottomRightLon: ['bottomrightlon', 'bottomrightlong', 'bottomrightlng'],
} as const;

interface CornerRow {
  file: string;
  topLeftLat: number;
  topLeftLon: number;
  bottomRightLat: number;
  bottomRightLon: number;
}

const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();

/** The files whose bytes define the imagery (image, world file, CSV), for fingerprinting. */
export async function imageryFiles(path: string): Promise<string[]> {
  if (!existsSync(path)) throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `imagery ${path} does not exist`);
  if (!isFolder(path)) {
    const worldFile = findWorldFile(path);
    return worldFile ? [path, worldFile] : [path];
  }
  const { csv, rows } = await readCornerCsv(path);
  return [csv, ...rows.map((r) => join(path, r.file)).filter((f) => existsSync(f))];
}

/** sha256 over each file's name and bytes: changes when the imagery does. */
export async function imageryFingerprint(path: string): Promise<string> {
  const all = createHash('sha256');
  for (const file of await imageryFiles(path)) {
    const one = createHash('sha256');
    for await (const chunk of createReadStream(file)) one.update(chunk as Buffer);
    all.update(`${basename(file)}\0${one.digest('hex')}\n`);
  }
  return all.digest('hex');
}

export async function openImagery(path: string, log: (line: string) => void): Promise<Imagery> {
  if (!existsSync(path)) throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `imagery ${path} does not exist`);
  if (!isFolder(path)) {
    const image = await loadGeoImage(path);
    const raster: GeoRaster = { ...image, path, rgb: async () => image.rgb };
    return { path, crs: image.georef.crs, rasters: [raster], bounds: image.bounds, width: image.width, height: image.height, metersPerPixel: image.metersPerPixel };
  }
  const { csv, rows } = await readCornerCsv(path);
  const rasters: GeoRaster[] = [];
  for (const row of rows) {
    const file = join(path, row.file);
    if (!existsSync(file)) {
      log(`[index] ${csv} lists ${row.file}, which is not in ${path}; skipping it`);
      continue;
    }
    rasters.push(await cornerRaster(file, row));
  }
  if (rasters.length === 0) throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `none of the images ${csv} lists is in ${path}`);
  const bounds = unionBounds(rasters.map((r) => r.bounds));
  const metersPerPixel = rasters.reduce((sum, r) => sum + r.metersPerPixel, 0) / rasters.length;
  const midLat = (bounds.south + bounds.north) / 2;
  const groundWidth = haversineMeters({ lat: midLat, lon: bounds.west }, { lat: midLat, lon: bounds.east });
  const groundHeight = haversineMeters({ lat: bounds.south, lon: bounds.west }, { lat: bounds.north, lon: bounds.west });
  return { path, crs: 'EPSG:4326', rasters, bounds, width: Math.round(groundWidth / metersPerPixel), height: Math.round(groundHeight / metersPerPixel), metersPerPixel };
}

async function cornerRaster(file: string, row: CornerRow): Promise<GeoRaster> {
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(file).metadata());
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_UNREADABLE', `${file} could not be decoded as an image: ${(cause as Error).message}`, { cause });
  }
  if (!width || !height) throw new GeolocError('GEOLOC_ERR_IMAGERY_UNREADABLE', `${file} has no pixel size`);
  // The corners are the outer corners of the image: pixel (0,0)'s top-left, (w,h)'s bottom-right.
  const georef = new Georef('EPSG:4326', {
    a: (row.bottomRightLon - row.topLeftLon) / width,
    b: 0,
    c: row.topLeftLon,
    d: 0,
    e: (row.bottomRightLat - row.topLeftLat) / height,
    f: row.topLeftLat,
  });
  return {
    path: file,
    width,
    height,
    georef,
    bounds: boundsOf(georef, width, height),
    metersPerPixel: groundResolution(georef, width, height),
    rgb: () => sharp(file, { limitInputPixels: false }).removeAlpha().toColourspace('srgb').raw().toBuffer(),
  };
}

/** map.csv, or the only CSV in the folder. */
async function findCornerCsv(folder: string): Promise<string> {
  const preferred = join(folder, TILE_FOLDER_CSV);
  if (existsSync(preferred)) return preferred;
  const csvs = (await readdir(folder)).filter((f) => f.toLowerCase().endsWith('.csv'));
  if (csvs.length === 1) return join(folder, csvs[0]!);
  throw new GeolocError(
    'GEOLOC_ERR_TILE_FOLDER',
    `tile folder ${folder} has ${csvs.length === 0 ? 'no CSV' : `${csvs.length} CSVs and no ${TILE_FOLDER_CSV}`}; add ${TILE_FOLDER_CSV} with columns Filename, Top_left_lat, Top_left_lon, Bottom_right_lat, Bottom_right_lon`,
  );
}

const unquote = (cell: string) => cell.trim().replace(/^"(.*)"$/, '$1').trim();
const columnKey = (name: string) => unquote(name).toLowerCase().replace(/[^a-z]/g, '');

export async function readCornerCsv(folder: string): Promise<{ csv: string; rows: CornerRow[] }> {
  const csv = await findCornerCsv(folder);
  const lines = (await readFile(csv, 'utf8')).split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = (lines[0] ?? '').split(',').map(columnKey);
  const column = {} as Record<keyof CornerRow, number>;
  for (const [field, aliases] of Object.entries(CORNER_COLUMNS) as [keyof CornerRow, readonly string[]][]) {
    const at = header.findIndex((h) => aliases.includes(h));
    if (at < 0) throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${csv} has no ${field} column (its header is ${JSON.stringify(lines[0] ?? '')}); expected Filename, Top_left_lat, Top_left_lon, Bottom_right_lat, Bottom_right_lon`);
    column[field] = at;
  }
  const rows = lines.slice(1).map((line, i) => {
    const cells = line.split(',').map(unquote);
    const number = (field: Exclude<keyof CornerRow, 'file'>) => {
      const value = Number(cells[column[field]]);
      if (cells[column[field]] === undefined || cells[column[field]] === '' || !Number.isFinite(value)) {
        throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${csv} line ${i + 2}: ${field} is ${JSON.stringify(cells[column[field]] ?? '')}, not a number`);
      }
      return value;
    };
    const row: CornerRow = { file: cells[column.file] ?? '', topLeftLat: number('topLeftLat'), topLeftLon: number('topLeftLon'), bottomRightLat: number('bottomRightLat'), bottomRightLon: number('bottomRightLon') };
    if (!row.file || row.topLeftLat <= row.bottomRightLat || row.topLeftLon >= row.bottomRightLon) {
      throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${csv} line ${i + 2}: needs a file name and a top-left corner north-west of the bottom-right one`);
    }
    return row;
  });
  if (rows.length === 0) throw new GeolocError('GEOLOC_ERR_TILE_FOLDER', `${csv} lists no images`);
  return { csv, rows };
}
