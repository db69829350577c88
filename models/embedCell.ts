/**
 * Embeds the tiles of one partition cell, read by readCellTiles: holes and unreadable
 * tiles are skipped and counted, and batches go to the embedder pool, as many in flight
 * as it has workers.
 */
import type { TilePixels } from './cellTiles';
import type { EmbedderPool } from './embedderPool';
import type { TilePlan } from './tiling';

export interface CellEmbedding {
  /** the tiles kept, in the order of their vectors */
  tiles: TilePlan[];
  vectors: Float32Array<ArrayBuffer>;
  holes: number;
  unreadable: number;
}

/** Where build time goes, milliseconds summed over tiles (embedding summed over batches). */
export interface BuildTiming {
  readMs: number;
  embedMs: number;
  /** the cells' reference features, extracted while their tiles are embedded (wall time, overlapping embedMs) */
  featuresMs: number;
  writeMs: number;
}

export interface EmbedCellOptions {
  batchSize: number;
  /** a tile with a smaller share of valid pixels is a hole */
  minCoverage: number;
  timing: BuildTiming;
  /** tiles done so far in this cell (kept or skipped), for progress */
  onTiles: (n: number) => void;
  log: (line: string) => void;
}

const RGB = 3;

/** Whether a tile is embedded: it was read, and enough of it is imagery (else it is a hole). */
export function keptTile(tile: TilePixels, minCoverage: number): boolean {
  return !('unreadable' in tile) && tile.coverage >= minCoverage;
}

export async function embedCell(pool: EmbedderPool, tiles: TilePixels[], o: EmbedCellOptions): Promise<CellEmbedding> {
  const [height, width] = pool.info.inputSize;
  const perImage = width * height * RGB;
  const kept: TilePlan[] = [];
  const batches: Promise<Float32Array>[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let holes = 0;
  let unreadable = 0;
  let pending: TilePlan[] = [];
  let pixels = new Uint8Array(o.batchSize * perImage);

  const dispatch = async () => {
    if (pending.length === 0) return;
    const n = pending.length;
    const input = n === o.batchSize ? pixels : pixels.slice(0, n * perImage);
    pending = [];
    pixels = new Uint8Array(o.batchSize * perImage);
    const started = performance.now();
    const batch = pool.embed(input, n, { transfer: true }).then((r) => {
      o.timing.embedMs += performance.now() - started;
      return r.descriptors;
    });
    batches.push(batch);
    const settled = batch.finally(() => inFlight.delete(settled));
    // A rejection surfaces where the batches are awaited; this only keeps it from being unhandled meanwhile.
    settled.catch(() => undefined);
    inFlight.add(settled);
    if (inFlight.size >= pool.size) await Promise.race(inFlight);
  };

  for (const tile of tiles) {
    o.onTiles(1);
    if ('unreadable' in tile) {
      unreadable += 1;
      o.log(`[index] ${tile.unreadable.code}: ${tile.unreadable.message}`);
      continue;
    }
    if (!keptTile(tile, o.minCoverage)) {
      holes += 1;
      continue;
    }
    tile.writeRgb(pixels, pending.length * perImage);
    pending.push(tile.plan);
    kept.push(tile.plan);
    if (pending.length === o.batchSize) await dispatch();
  }
  await dispatch();
  const dim = pool.info.dim;
  const vectors = new Float32Array(kept.length * dim);
  let at = 0;
  for (const descriptors of await Promise.all(batches)) {
    vectors.set(descriptors.subarray(0, Math.min(descriptors.length, vectors.length - at)), at);
    at += descriptors.length;
  }
  return { tiles: kept, vectors, holes, unreadable };
}
