/**
 * The imagery an index is built from and the map is cut from, read through GDAL: any raster
 * GDAL opens (GeoTIFF/COG, JPEG2000, PNG/JPG with a world file, VRT, MBTiles), or a folder
 * (corner-CSV, XYZ tile cache, georeferenced rasters) mosaicked into one raster. Sources in
 * a CRS other than EPSG:4326 or EPSG:3857 are warped on the fly into EPSG:3857, the working
 * projection. Pixels are only ever read by windows: memory is bounded by the window and
 * GDAL's block cache, not by the image.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { Dataset } from 'gdal-async';
import { GeolocError, isGeolocError } from '../pipeline/core/errors';
import { boundsOf, groundResolution, type GeoBounds, type GeoImage } from '../pipeline/geo/geoImage';
import { Georef, findWorldFile, guessCrs, readWorldFile, type Crs } from '../pipeline/geo/georef';
import { closeAtExit, gdal, memoryPath } from './gdal';
import { cornerMosaic, hasCornerCsv, isXyzFolder, rasterFolderMosaic, xyzMosaic, type Mosaic } from './imageryMosaic';
import type { PixelRect } from './tiling';

export type ImageryKind = 'raster' | 'mbtiles' | 'corner-folder' | 'xyz-folder' | 'raster-folder';

/** Pixels of a window, at the size asked for. */
export interface ImageryWindow {
  width: number;
  height: number;
  /** packed RGB, 3 bytes a pixel */
  rgb: Buffer;
  /** 0 where no source pixel is (nodata, alpha, a missing tile or image), else 255 */
  valid: Uint8Array;
  /** share of valid pixels */
  coverage: number;
}

export interface Imagery {
  path: string;
  kind: ImageryKind;
  /** the source's CRS as GDAL names it (e.g. "EPSG:32632") */
  sourceCrs: string;
  /** the working CRS pixels are read in */
  crs: Crs;
  georef: Georef;
  width: number;
  height: number;
  bounds: GeoBounds;
  metersPerPixel: number;
  /** source images (1 for a single raster) */
  images: number;
  /** the files whose bytes define the imagery */
  files: string[];
  /** the source as GDAL opened it, before any warp: what a stack of sources warps from */
  source: Dataset;
  /**
   * Where each source lies in this raster, when it is a stack of several (imageryStack.ts):
   * the tile lattice is anchored to the first, so that adding a source keeps every tile
   * planned before.
   */
  layers?: PixelRect[];
  /** a window of the working raster (inside it) resampled to outWidth × outHeight */
  read(rect: PixelRect, outWidth: number, outHeight: number): Promise<ImageryWindow>;
  close(): void;
}

const RGB = 3;
const OPAQUE = 255;
/** side of the overview read at open to refuse a raster that holds only nodata */
const EMPTY_CHECK_SIZE = 256;
/** full-resolution rows read when that overview looks empty */
const EMPTY_CHECK_ROWS = 16;
const WORKING_CRS: Crs = 'EPSG:3857';
const GMF_ALL_VALID = 1;

const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();

function openRaster(path: string): Dataset {
  try {
    return gdal().open(path);
  } catch (cause) {
    const said = (cause as Error).message;
    if (extname(path).toLowerCase() === '.mbtiles') {
      throw new GeolocError('GEOLOC_ERR_MBTILES_SCHEMA', `${path} is not an MBTiles GDAL reads (GDAL: ${said}); it needs the tiles(zoom_level, tile_column, tile_row, tile_data) and metadata(name, value) tables with a format of png or jpg`, { cause });
    }
    throw new GeolocError('GEOLOC_ERR_IMAGERY_UNREADABLE', `${path} could not be opened as a raster (GDAL: ${said}); check the file is complete and in a format GDAL reads`, { cause });
  }
}

/** A VRT's sources, resolved as GDAL resolves them; missing ones are refused before any read. */
function checkVrtSources(path: string): void {
  const xml = readFileSync(path, 'utf8');
  const missing: string[] = [];
  for (const match of xml.matchAll(/<SourceFilename([^>]*)>([^<]+)<\/SourceFilename>/g)) {
    const name = match[2]!.trim();
    if (name.startsWith('/vsi')) continue;
    const file = /relativeToVRT="1"/.test(match[1]!) && !isAbsolute(name) ? join(dirname(path), name) : resolve(name);
    if (!existsSync(file)) missing.push(file);
  }
  if (missing.length > 0) {
    throw new GeolocError('GEOLOC_ERR_VRT_MISSING_SOURCE', `${path} points at ${missing.length} missing file${missing.length === 1 ? '' : 's'} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}); restore them or rebuild the VRT (gdalbuildvrt)`);
  }
}

async function openSource(path: string, log: (line: string) => void): Promise<Mosaic & { kind: ImageryKind }> {
  if (isFolder(path)) {
    if (hasCornerCsv(path)) return { kind: 'corner-folder', ...(await cornerMosaic(path, log)) };
    if (isXyzFolder(path)) return { kind: 'xyz-folder', ...xyzMosaic(path) };
    return { kind: 'raster-folder', ...rasterFolderMosaic(path) };
  }
  if (extname(path).toLowerCase() === '.vrt') checkVrtSources(path);
  // GDAL silently ignores a malformed world file; geoloc says so
  const worldFile = findWorldFile(path);
  if (worldFile) readWorldFile(worldFile);
  const dataset = openRaster(path);
  const kind: ImageryKind = dataset.driver.description === 'MBTiles' ? 'mbtiles' : 'raster';
  return { kind, dataset, files: dataset.getFileList().filter((f) => existsSync(f)), images: 1 };
}

/** The dataset's CRS as geoloc works in it, warping it into EPSG:3857 when it is another. */
function workingDataset(path: string, dataset: Dataset): { dataset: Dataset; crs: Crs; sourceCrs: string; georef: Georef } {
  const g = gdal();
  const gt = dataset.geoTransform;
  if (!gt || (gt[0] === 0 && gt[1] === 1 && gt[3] === 0 && gt[5] === 1)) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_NOT_GEOREFERENCED', `${path} has no georeferencing; write a world file beside it (e.g. ${path.replace(/\.[^.]+$/, '.pgw')}) or assign it with gdal_translate -a_srs ... -a_ullr ...`);
  }
  const affine = { a: gt[1]!, b: gt[2]!, c: gt[0]!, d: gt[4]!, e: gt[5]!, f: gt[3]! };
  const srs = dataset.srs;
  if (!srs) {
    // World files do not state their CRS; geoloc has always read them as degrees or Web-Mercator metres.
    if (findWorldFile(path)) {
      const crs = guessCrs(affine);
      return { dataset, crs, sourceCrs: `${crs} (guessed from the world file)`, georef: new Georef(crs, affine) };
    }
    throw new GeolocError('GEOLOC_ERR_IMAGERY_NO_CRS', `${path} has a georeferencing but no CRS; assign one (gdal_edit.py -a_srs EPSG:<code> ${basename(path)}, or a .prj beside it)`);
  }
  const sourceCrs = crsName(srs);
  try {
    new g.CoordinateTransformation(srs, g.SpatialReference.fromEPSG(4326));
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_CRS_UNSUPPORTED', `${path} is in a CRS GDAL cannot relate to WGS84 (${sourceCrs}); assign a known one (gdal_edit.py -a_srs EPSG:<code>) or reproject it (gdalwarp -t_srs EPSG:3857)`, { cause });
  }
  for (const crs of ['EPSG:4326', 'EPSG:3857'] as const) {
    if (srs.isSame(g.SpatialReference.fromUserInput(crs))) return { dataset, crs, sourceCrs, georef: new Georef(crs, affine) };
  }
  const alpha = dataset.bands.map((b) => b.colorInterpretation).includes('Alpha');
  const warped = g.warp(memoryPath('warped'), null, [dataset], ['-of', 'VRT', '-t_srs', WORKING_CRS, '-r', 'bilinear', ...(alpha ? [] : ['-dstalpha'])]);
  const w = warped.geoTransform!;
  return { dataset: warped, crs: WORKING_CRS, sourceCrs, georef: new Georef(WORKING_CRS, { a: w[1]!, b: w[2]!, c: w[0]!, d: w[4]!, e: w[5]!, f: w[3]! }) };
}

function crsName(srs: NonNullable<Dataset['srs']>): string {
  const code = srs.getAuthorityCode(null);
  const name = srs.getAuthorityName(null);
  return code && name ? `${name}:${code}` : (srs.getAttrValue(srs.isProjected() ? 'PROJCS' : 'GEOGCS') ?? 'unnamed CRS');
}

/** Reads windows of one dataset: three colour bands interleaved, and its mask. */
export function windowReader(path: string, dataset: Dataset): Imagery['read'] {
  const count = dataset.bands.count();
  const colour = [1, 2, 3].map((b) => dataset.bands.get(count >= RGB ? b : 1));
  const mask = colour[0]!.getMaskBand();
  const allValid = mask === null || (colour[0]!.getMaskFlags() & GMF_ALL_VALID) !== 0;
  return async (rect, outWidth, outHeight) => {
    const rgb = Buffer.alloc(outWidth * outHeight * RGB);
    const valid = new Uint8Array(outWidth * outHeight);
    const downsampling = rect.width > outWidth;
    const options = { buffer_width: outWidth, buffer_height: outHeight, data_type: gdal().GDT_Byte, resampling: downsampling ? 'Average' : 'Bilinear' };
    try {
      for (const [c, band] of colour.entries()) {
        await band.pixels.readAsync(rect.left, rect.top, rect.width, rect.height, rgb, { ...options, pixel_space: RGB, line_space: outWidth * RGB, offset: c });
      }
      if (allValid || mask === null) valid.fill(OPAQUE);
      else await mask.pixels.readAsync(rect.left, rect.top, rect.width, rect.height, valid, { ...options, resampling: 'NearestNeighbour' });
    } catch (cause) {
      throw new GeolocError('GEOLOC_ERR_IMAGERY_CORRUPT_TILE', `${path}: the window ${rect.width}×${rect.height} px at (${rect.left}, ${rect.top}) could not be read (GDAL: ${(cause as Error).message}); it is skipped and counted, re-export the source to repair it`, { cause });
    }
    let covered = 0;
    for (let i = 0; i < valid.length; i++) if (valid[i]) covered++;
    return { width: outWidth, height: outHeight, rgb, valid, coverage: covered / valid.length };
  };
}

/**
 * Whether any pixel is valid: an overview read first, then full-resolution rows (an
 * MBTiles may advertise zoom levels it does not hold, which read as empty overviews). A
 * window that cannot be read proves nothing: a corrupt block fails only its own windows.
 */
async function holdsData(read: Imagery['read'], width: number, height: number): Promise<boolean> {
  const scale = Math.max(1, Math.max(width, height) / EMPTY_CHECK_SIZE);
  const windows = [
    { rect: { left: 0, top: 0, width, height }, w: Math.max(1, Math.round(width / scale)), h: Math.max(1, Math.round(height / scale)) },
    ...Array.from({ length: EMPTY_CHECK_ROWS }, (_, i) => ({ rect: { left: 0, top: Math.floor(((i + 0.5) * height) / EMPTY_CHECK_ROWS), width, height: 1 }, w: width, h: 1 })),
  ];
  for (const { rect, w, h } of windows) {
    try {
      if ((await read(rect, w, h)).coverage > 0) return true;
    } catch (err) {
      if (!isGeolocError(err, 'GEOLOC_ERR_IMAGERY_CORRUPT_TILE')) throw err;
      return true;
    }
  }
  return false;
}

export async function openImagery(path: string, log: (line: string) => void): Promise<Imagery> {
  if (!existsSync(path)) throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `imagery ${path} does not exist`);
  const source = await openSource(path, log);
  let working;
  try {
    working = workingDataset(path, source.dataset);
  } catch (err) {
    source.dataset.close();
    throw err;
  }
  const { dataset, crs, sourceCrs, georef } = working;
  const chain = [source.dataset, dataset];
  const { rasterSize } = dataset;
  const read = windowReader(path, dataset);
  const close = closeAtExit(chain);
  if (!(await holdsData(read, rasterSize.x, rasterSize.y))) {
    close();
    throw new GeolocError('GEOLOC_ERR_IMAGERY_EMPTY', `${path} holds only nodata (no valid pixel); check its nodata value (gdalinfo) or the export that wrote it`);
  }
  return {
    path,
    kind: source.kind,
    sourceCrs,
    crs,
    georef,
    width: rasterSize.x,
    height: rasterSize.y,
    bounds: boundsOf(georef, rasterSize.x, rasterSize.y),
    metersPerPixel: groundResolution(georef, rasterSize.x, rasterSize.y),
    images: source.images,
    files: source.files,
    source: source.dataset,
    read,
    close,
  };
}

/** The files whose bytes define the imagery (image, world file, sources, CSV), for fingerprinting. */
export async function imageryFiles(path: string): Promise<string[]> {
  const imagery = await openImagery(path, () => undefined);
  imagery.close();
  return imagery.files;
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

/** The whole imagery decoded into memory, for maps small enough to hold (the renderer's, tests'). */
export async function readGeoImage(path: string): Promise<GeoImage> {
  const imagery = await openImagery(path, () => undefined);
  try {
    const { width, height, georef, bounds, metersPerPixel } = imagery;
    const { rgb } = await imagery.read({ left: 0, top: 0, width, height }, width, height);
    return { width, height, rgb, georef, bounds, metersPerPixel, source: path };
  } finally {
    imagery.close();
  }
}
