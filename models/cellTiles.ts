/**
 * The pixels of one partition cell's tiles at the model's input size, read with one window
 * per scale: the ground under all the cell's tiles of that scale, resampled by GDAL (area
 * average, or the source's overviews, and warped once) to the grid on which a tile is exactly
 * the input size. The tiles of a scale lie on one lattice of that grid, so each is then a crop,
 * off by at most half an input pixel from its planned place: neighbouring tiles overlap, and
 * this reads, warps and resamples each pixel once instead of once per tile. A tile keeps its
 * scale's window and is cropped only when its pixels are written out (into a batch), so a cell
 * holds its scales' windows, not a copy per tile: with half-footprint strides tiles overlap
 * fourfold, and at a 224 px input a full cell's copies took ~200 MB. Memory is bounded by the
 * cell, not by the image. A window that cannot be read (a corrupt block) falls back to reading
 * its tiles one by one, so only the tiles over the bad block are lost.
 */
import { GeolocError, isGeolocError } from '../pipeline/core/errors';
import type { Imagery } from './imagerySource';
import type { PixelRect, TilePlan } from './tiling';

export interface TileRead {
  plan: TilePlan;
  /** share of the tile's pixels that are imagery */
  coverage: number;
  /** writes the tile's packed RGB into `target` at byte `offset` */
  writeRgb(target: Uint8Array, offset: number): void;
}

export type TilePixels = TileRead | { plan: TilePlan; unreadable: GeolocError };

const RGB = 3;

/** The rectangle around all, within the raster. */
function union(rects: PixelRect[], width: number, height: number): PixelRect {
  const left = Math.max(0, Math.min(...rects.map((r) => r.left)));
  const top = Math.max(0, Math.min(...rects.map((r) => r.top)));
  const right = Math.min(width, Math.max(...rects.map((r) => r.left + r.width)));
  const bottom = Math.min(height, Math.max(...rects.map((r) => r.top + r.height)));
  return { left, top, width: right - left, height: bottom - top };
}

/** Valid pixels of a mask in any rectangle in constant time: sums over the rectangles from the origin. */
function validSums(valid: Uint8Array, width: number, height: number): Int32Array {
  const sums = new Int32Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      if (valid[y * width + x] !== 0) row++;
      sums[(y + 1) * (width + 1) + x + 1] = sums[y * (width + 1) + x + 1]! + row;
    }
  }
  return sums;
}

/** A tile cropped from a window `windowWidth` pixels wide, at (x0, y0), `width` × `height`. */
function cropped(plan: TilePlan, coverage: number, window: Uint8Array, windowWidth: number, x0: number, y0: number, width: number, height: number): TileRead {
  const rowBytes = width * RGB;
  return {
    plan,
    coverage,
    writeRgb(target, offset) {
      for (let y = 0; y < height; y++) {
        const from = ((y0 + y) * windowWidth + x0) * RGB;
        target.set(window.subarray(from, from + rowBytes), offset + y * rowBytes);
      }
    },
  };
}

async function oneByOne(imagery: Imagery, plans: TilePlan[], [height, width]: [number, number]): Promise<TilePixels[]> {
  const out: TilePixels[] = [];
  for (const plan of plans) {
    try {
      const window = await imagery.read(plan.rect, width, height);
      out.push(cropped(plan, window.coverage, window.rgb, width, 0, 0, width, height));
    } catch (err) {
      if (!isGeolocError(err, 'GEOLOC_ERR_IMAGERY_CORRUPT_TILE')) throw err;
      out.push({ plan, unreadable: err });
    }
  }
  return out;
}

/** The cell's tiles, in the order of `plans`. */
export async function readCellTiles(imagery: Imagery, plans: TilePlan[], inputSize: [number, number]): Promise<TilePixels[]> {
  const [height, width] = inputSize;
  const byScale = new Map<number, TilePlan[]>();
  for (const p of plans) {
    const group = byScale.get(p.scale);
    if (group) group.push(p);
    else byScale.set(p.scale, [p]);
  }
  const read = new Map<TilePlan, TilePixels>();
  for (const group of byScale.values()) {
    // a scale's tiles all have its footprint's size in raster pixels
    const { width: sideX, height: sideY } = group[0]!.rect;
    const region = union(group.map((p) => p.rect), imagery.width, imagery.height);
    const w = Math.max(width, Math.round((region.width * width) / sideX));
    const h = Math.max(height, Math.round((region.height * height) / sideY));
    let window;
    try {
      window = await imagery.read(region, w, h);
    } catch (err) {
      if (!isGeolocError(err, 'GEOLOC_ERR_IMAGERY_CORRUPT_TILE')) throw err;
      for (const tile of await oneByOne(imagery, group, inputSize)) read.set(tile.plan, tile);
      continue;
    }
    const sums = validSums(window.valid, w, h);
    for (const plan of group) {
      const x0 = Math.min(w - width, Math.max(0, Math.round(((plan.rect.left - region.left) * w) / region.width)));
      const y0 = Math.min(h - height, Math.max(0, Math.round(((plan.rect.top - region.top) * h) / region.height)));
      const covered = sums[(y0 + height) * (w + 1) + x0 + width]! - sums[y0 * (w + 1) + x0 + width]! - sums[(y0 + height) * (w + 1) + x0]! + sums[y0 * (w + 1) + x0]!;
      read.set(plan, cropped(plan, covered / (width * height), window.rgb, w, x0, y0, width, height));
    }
  }
  return plans.map((p) => read.get(p)!);
}
