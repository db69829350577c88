/**
 * The pixels of one partition cell's tiles at the model's input size, read with one window
 * per scale: the ground under all the cell's tiles of that scale, at the coarsest integer
 * level that still gives each tile at least the input size (GDAL averages, or takes the
 * source's overviews, and warps once). Each tile is then sampled from that patch. Neighbouring
 * tiles overlap, so this reads and warps each pixel once instead of once per tile; memory is
 * bounded by the cell, not by the image. A window that cannot be read (a corrupt block)
 * falls back to reading its tiles one by one, so only the tiles over the bad block are lost.
 */
import { GeolocError, isGeolocError } from '../pipeline/core/errors';
import type { Imagery } from './imagerySource';
import { samplePatch, type Patch } from './patch';
import type { PixelRect, TilePlan } from './tiling';

export type TilePixels = { plan: TilePlan; rgb: Uint8Array; coverage: number } | { plan: TilePlan; unreadable: GeolocError };

const RGB = 3;
/** one bilinear sample per tile pixel: the patch is at most twice as fine, GDAL averaged it down to there */
const SAMPLES = 1;

/** The rectangle around all, `margin` pixels wider each way (so tile edges sample inside it), within the raster. */
function union(rects: PixelRect[], margin: number, width: number, height: number): PixelRect {
  const left = Math.max(0, Math.min(...rects.map((r) => r.left)) - margin);
  const top = Math.max(0, Math.min(...rects.map((r) => r.top)) - margin);
  const right = Math.min(width, Math.max(...rects.map((r) => r.left + r.width)) + margin);
  const bottom = Math.min(height, Math.max(...rects.map((r) => r.top + r.height)) + margin);
  return { left, top, width: right - left, height: bottom - top };
}

async function oneByOne(imagery: Imagery, plans: TilePlan[], [height, width]: [number, number]): Promise<TilePixels[]> {
  const out: TilePixels[] = [];
  for (const plan of plans) {
    try {
      const window = await imagery.read(plan.rect, width, height);
      out.push({ plan, rgb: window.rgb, coverage: window.coverage });
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
    const side = Math.min(...group.map((p) => Math.min(p.rect.width / width, p.rect.height / height)));
    const level = Math.max(1, Math.floor(side));
    const region = union(group.map((p) => p.rect), 2 * level, imagery.width, imagery.height);
    const w = Math.max(1, Math.ceil(region.width / level));
    const h = Math.max(1, Math.ceil(region.height / level));
    let patch: Patch;
    try {
      const window = await imagery.read(region, w, h);
      patch = { left: region.left, top: region.top, scaleX: region.width / w, scaleY: region.height / h, width: w, height: h, rgb: window.rgb, valid: window.valid };
    } catch (err) {
      if (!isGeolocError(err, 'GEOLOC_ERR_IMAGERY_CORRUPT_TILE')) throw err;
      for (const tile of await oneByOne(imagery, group, inputSize)) read.set(tile.plan, tile);
      continue;
    }
    for (const plan of group) {
      const rgb = new Uint8Array(width * height * RGB);
      const { rect } = plan;
      const covered = samplePatch([rect.width / width, 0, rect.left, 0, rect.height / height, rect.top], patch, SAMPLES, rgb, width, height);
      read.set(plan, { plan, rgb, coverage: covered / (width * height) });
    }
  }
  return plans.map((p) => read.get(p)!);
}
