import { join } from 'node:path';
import sharp from 'sharp';
import { writeWorldFile } from '../../pipeline/geo/georef';
import { METERS_PER_DEGREE } from '../../pipeline/geo/wgs84';
import { mulberry32 } from '../../pipeline/core/random';

export interface SyntheticImageOptions {
  width: number;
  height: number;
  metersPerPixel: number;
  /** north-west corner */
  north: number;
  west: number;
  seed: number;
}

const BLOBS_PER_10K_PIXELS = 4;
const MAX_BLOB_RADIUS_PX = 24;

/** Seeded coloured discs on a noisy ground: every tile of it looks different. */
export async function syntheticRgb(width: number, height: number, seed: number): Promise<Buffer> {
  const random = mulberry32(seed);
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = 90 + Math.floor(random() * 60);
  const blobs = Math.ceil((width * height * BLOBS_PER_10K_PIXELS) / 10_000);
  for (let b = 0; b < blobs; b++) {
    const cx = random() * width;
    const cy = random() * height;
    const r = 4 + random() * (MAX_BLOB_RADIUS_PX - 4);
    const colour = [random() * 255, random() * 255, random() * 255];
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(height, cy + r); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(width, cx + r); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) rgb.set(colour, 3 * (y * width + x));
      }
    }
  }
  return rgb;
}

/** A PNG + .pgw world file in EPSG:4326 with square ground pixels; returns the PNG's path. */
export async function writeSyntheticGeoImage(dir: string, o: SyntheticImageOptions): Promise<string> {
  const path = join(dir, `synthetic-${o.seed}.png`);
  await sharp(await syntheticRgb(o.width, o.height, o.seed), { raw: { width: o.width, height: o.height, channels: 3 } }).png().toFile(path);
  const centreLat = o.north - (o.height * o.metersPerPixel) / METERS_PER_DEGREE / 2;
  const degLat = o.metersPerPixel / METERS_PER_DEGREE;
  const degLon = degLat / Math.cos((centreLat * Math.PI) / 180);
  writeWorldFile(path.replace(/\.png$/, '.pgw'), { a: degLon, b: 0, c: o.west, d: 0, e: -degLat, f: o.north });
  return path;
}
