/** Georeferenced RGB images: PNG/JPG with a world file, or GeoTIFF. */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import sharp from 'sharp';
import { GeolocError } from '../core/errors';
import { Georef, findWorldFile, guessCrs, readWorldFile, type Crs } from './georef';
import { haversineMeters } from './wgs84';

export interface GeoBounds {
  west: number;
  south: number;
  east: number;
  north: number;
}

export interface GeoImage {
  width: number;
  height: number;
  /** packed RGB, row-major, 3 bytes a pixel */
  rgb: Buffer;
  georef: Georef;
  bounds: GeoBounds;
  /** ground metres per pixel at the image centre (mean of both axes) */
  metersPerPixel: number;
  source: string;
}

export interface LoadGeoImageOptions {
  /** a world file to use instead of the one beside the image */
  worldFile?: string;
  /** the CRS of a world file, when its numbers alone are ambiguous */
  crs?: Crs;
}

export async function loadGeoImage(path: string, options: LoadGeoImageOptions = {}): Promise<GeoImage> {
  if (!existsSync(path)) {
    throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `imagery ${path} does not exist`);
  }
  const ext = extname(path).toLowerCase();
  const isTiff = ext === '.tif' || ext === '.tiff';
  const worldFile = options.worldFile ?? findWorldFile(path);
  let georef: Georef;
  if (worldFile) {
    const affine = readWorldFile(worldFile);
    georef = new Georef(options.crs ?? guessCrs(affine), affine);
  } else if (isTiff) {
    georef = await readGeoTiffGeoref(path);
  } else {
    throw new GeolocError(
      'GEOLOC_ERR_IMAGERY_NOT_GEOREFERENCED',
      `${path} has no world file beside it (expected e.g. ${path.replace(/\.[^.]+$/, '.pgw')}); write one, or use a GeoTIFF`,
    );
  }
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await sharp(path, { limitInputPixels: false }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_UNREADABLE', `${path} could not be decoded as an image: ${(cause as Error).message}`, { cause });
  }
  const { width, height } = decoded.info;
  return { width, height, rgb: decoded.data, georef, bounds: boundsOf(georef, width, height), metersPerPixel: groundResolution(georef, width, height), source: path };
}

export function boundsOf(georef: Georef, width: number, height: number): GeoBounds {
  const corners = [georef.pixelToLonLat(0, 0), georef.pixelToLonLat(width, 0), georef.pixelToLonLat(0, height), georef.pixelToLonLat(width, height)];
  return {
    west: Math.min(...corners.map((c) => c.lon)),
    east: Math.max(...corners.map((c) => c.lon)),
    south: Math.min(...corners.map((c) => c.lat)),
    north: Math.max(...corners.map((c) => c.lat)),
  };
}

export function groundResolution(georef: Georef, width: number, height: number): number {
  const cx = width / 2;
  const cy = height / 2;
  const centre = georef.pixelToLonLat(cx, cy);
  const dx = haversineMeters(centre, georef.pixelToLonLat(cx + 1, cy));
  const dy = haversineMeters(centre, georef.pixelToLonLat(cx, cy + 1));
  return (dx + dy) / 2;
}


const GEOGRAPHIC_WGS84 = 4326;
const MERCATOR_CODES = new Set([3857, 900913, 3785, 102100, 102113]);

async function readGeoTiffGeoref(path: string): Promise<Georef> {
  // Loaded on demand: geotiff pulls in ES modules that plain Node loads but jest's sandbox cannot.
  const { fromArrayBuffer } = await import('geotiff');
  const bytes = readFileSync(path);
  let image;
  try {
    const tiff = await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    image = await tiff.getImage();
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_UNREADABLE', `${path} is not a readable TIFF: ${(cause as Error).message}`, { cause });
  }
  let origin: number[];
  let resolution: number[];
  try {
    origin = image.getOrigin();
    resolution = image.getResolution();
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_NOT_GEOREFERENCED', `${path} is a TIFF without GeoTIFF tie points or pixel scale; add a .tfw world file`, { cause });
  }
  const keys = (image.getGeoKeys() ?? {}) as Record<string, number | undefined>;
  const projected = keys['ProjectedCSTypeGeoKey'];
  const geographic = keys['GeographicTypeGeoKey'];
  let crs: Crs;
  if (projected !== undefined && MERCATOR_CODES.has(projected)) crs = 'EPSG:3857';
  else if (projected === undefined && (geographic === GEOGRAPHIC_WGS84 || geographic === undefined)) crs = 'EPSG:4326';
  else {
    throw new GeolocError(
      'GEOLOC_ERR_CRS_UNSUPPORTED',
      `${path} is in EPSG:${projected ?? geographic}; reproject it to EPSG:4326 or EPSG:3857 (e.g. gdalwarp -t_srs EPSG:3857)`,
    );
  }
  const [ox, oy] = origin as [number, number];
  const [rx, ry] = resolution as [number, number];
  return new Georef(crs, { a: rx, b: 0, c: ox, d: 0, e: ry, f: oy });
}
