/**
 * Georeferencing of raster images: an affine map from pixel coordinates to a CRS, and the
 * world-file format that stores it. Pixel coordinates put (0, 0) at the top-left corner of
 * the top-left pixel, so the centre of pixel (i, j) is (i + 0.5, j + 0.5).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { extname } from 'node:path';
import { GeolocError } from '../core/errors';
import { lonLatToMercator, mercatorToLonLat } from './webMercator';
import type { LatLon } from './wgs84';

export type Crs = 'EPSG:4326' | 'EPSG:3857';

/** X = a·px + b·py + c, Y = d·px + e·py + f (CRS units: degrees or Mercator metres). */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export class Georef {
  readonly crs: Crs;
  readonly affine: Affine;
  private readonly inverse: Affine;

  constructor(crs: Crs, affine: Affine) {
    const det = affine.a * affine.e - affine.b * affine.d;
    if (!Number.isFinite(det) || Math.abs(det) < 1e-300) {
      throw new GeolocError('GEOLOC_ERR_WORLD_FILE', 'the georeferencing transform is singular (zero pixel size)');
    }
    this.crs = crs;
    this.affine = affine;
    this.inverse = {
      a: affine.e / det,
      b: -affine.b / det,
      c: (affine.b * affine.f - affine.e * affine.c) / det,
      d: -affine.d / det,
      e: affine.a / det,
      f: (affine.d * affine.c - affine.a * affine.f) / det,
    };
  }

  pixelToCrs(px: number, py: number): { x: number; y: number } {
    const t = this.affine;
    return { x: t.a * px + t.b * py + t.c, y: t.d * px + t.e * py + t.f };
  }

  crsToPixel(x: number, y: number): { px: number; py: number } {
    const t = this.inverse;
    return { px: t.a * x + t.b * y + t.c, py: t.d * x + t.e * y + t.f };
  }

  pixelToLonLat(px: number, py: number): LatLon {
    const { x, y } = this.pixelToCrs(px, py);
    return this.crs === 'EPSG:4326' ? { lon: x, lat: y } : mercatorToLonLat(x, y);
  }

  lonLatToPixel(p: LatLon): { px: number; py: number } {
    if (this.crs === 'EPSG:4326') return this.crsToPixel(p.lon, p.lat);
    const { x, y } = lonLatToMercator(p);
    return this.crsToPixel(x, y);
  }
}

const WORLD_FILE_EXTENSIONS: Record<string, string[]> = {
  '.png': ['.pgw', '.pngw', '.wld'],
  '.jpg': ['.jgw', '.jpgw', '.wld'],
  '.jpeg': ['.jgw', '.jpegw', '.wld'],
  '.tif': ['.tfw', '.tifw', '.wld'],
  '.tiff': ['.tfw', '.tiffw', '.wld'],
};

/** The world file that sits beside an image, if any (image.pgw, image.wld, ...). */
export function findWorldFile(imagePath: string): string | undefined {
  const ext = extname(imagePath).toLowerCase();
  const stem = imagePath.slice(0, imagePath.length - extname(imagePath).length);
  for (const candidate of WORLD_FILE_EXTENSIONS[ext] ?? ['.wld']) {
    for (const path of [stem + candidate, stem + candidate.toUpperCase()]) {
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/**
 * Reads a world file. Its six lines are A, D, B, E, C, F with C, F the centre of the
 * top-left pixel; the affine here is corner-based, so C, F shift by half a pixel.
 */
export function parseWorldFile(text: string, source = 'world file'): Affine {
  const numbers = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0).map(Number);
  if (numbers.length !== 6 || numbers.some((n) => !Number.isFinite(n))) {
    throw new GeolocError(
      'GEOLOC_ERR_WORLD_FILE',
      `${source} must hold exactly six numbers, one a line (A, D, B, E, C, F); found ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  const [a, d, b, e, cx, fy] = numbers as [number, number, number, number, number, number];
  return { a, b, c: cx - 0.5 * a - 0.5 * b, d, e, f: fy - 0.5 * d - 0.5 * e };
}

export function formatWorldFile(t: Affine): string {
  const cx = t.c + 0.5 * t.a + 0.5 * t.b;
  const fy = t.f + 0.5 * t.d + 0.5 * t.e;
  return [t.a, t.d, t.b, t.e, cx, fy].map((n) => n.toPrecision(17)).join('\n') + '\n';
}

export function readWorldFile(path: string): Affine {
  return parseWorldFile(readFileSync(path, 'utf8'), path);
}

export function writeWorldFile(path: string, affine: Affine): void {
  writeFileSync(path, formatWorldFile(affine));
}

/**
 * World files do not say their CRS. Numbers that fit degrees are EPSG:4326; anything
 * larger is taken as Web-Mercator metres, the only projected CRS geoloc reads.
 */
export function guessCrs(affine: Affine): Crs {
  return Math.abs(affine.c) <= 180 && Math.abs(affine.f) <= 90 && Math.abs(affine.a) < 1 ? 'EPSG:4326' : 'EPSG:3857';
}
