/**
 * faiss-node in a worker thread: its API is synchronous and copies number[] arrays, so
 * it never runs on the pipeline's event loop. Holds one IndexFlatIP per partition cell
 * and answers global or regional top-k searches; also writes cell files for index builds.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IndexFlatIP } from 'faiss-node';
import { GeolocError } from '../pipeline/core/errors';
import { FaissFormatError, parseFlatIndex } from './faissFlatFile';
import type { CellRange } from './indexFiles';
import { cellBounds, cellsTouching, regionContains, type PartitionGrid } from './partition';
import { ownBuffer, serveRequests, type Reply } from './workerHost';
import type { SearchRegion } from '../pipeline/core/types';

export type IndexRequest =
  | { type: 'load'; dir: string; dim: number; grid: PartitionGrid; cells: CellRange[]; /** lat, lon per tile id */ centres: Float64Array }
  | { type: 'search'; queries: Float32Array; n: number; k: number; region?: SearchRegion }
  | { type: 'write'; file: string; dim: number; vectors: Float32Array };

export interface SearchResult {
  /** n·k tile ids, best first per query; -1 where fewer than k tiles qualify */
  ids: Int32Array;
  scores: Float32Array;
}

/** Vectors per add() call: faiss-node copies a number[], so bound its size. */
const ADD_CHUNK_VECTORS = 10_000;
const NO_TILE = -1;
/** First ask of a partly covered cell: this many times the neighbours the inside share suggests. */
const PARTIAL_CELL_OVERSAMPLING = 1.5;

interface Hit {
  id: number;
  score: number;
}

interface LoadedCell extends CellRange {
  index: IndexFlatIP;
}

let loaded: { dim: number; grid: PartitionGrid; cells: Map<number, LoadedCell>; centres: Float64Array } | undefined;

function addInChunks(index: IndexFlatIP, vectors: Float32Array, dim: number): void {
  const step = ADD_CHUNK_VECTORS * dim;
  for (let offset = 0; offset < vectors.length; offset += step) {
    index.add(Array.from(vectors.subarray(offset, offset + step)));
  }
}

async function load(req: Extract<IndexRequest, { type: 'load' }>): Promise<Reply> {
  const cells = new Map<number, LoadedCell>();
  for (const range of req.cells) {
    const path = join(req.dir, range.file);
    let data;
    try {
      data = parseFlatIndex(await readFile(path));
    } catch (err) {
      if (!(err instanceof FaissFormatError)) throw err;
      throw new GeolocError('GEOLOC_ERR_INDEX_CORRUPT', `${path} is not a valid FAISS flat index (${err.message}); rebuild the index with geoloc index build`);
    }
    if (data.metric !== 'inner_product' || data.dim !== req.dim || data.ntotal !== range.count) {
      throw new GeolocError(
        'GEOLOC_ERR_INDEX_CORRUPT',
        `${path} holds ${data.ntotal} ${data.metric} vectors of dimension ${data.dim}; cells.json and the manifest expect ${range.count} inner_product vectors of dimension ${req.dim}; rebuild the index`,
      );
    }
    const index = new IndexFlatIP(req.dim);
    addInChunks(index, data.vectors, req.dim);
    cells.set(range.cell, { ...range, index });
  }
  loaded = { dim: req.dim, grid: req.grid, cells, centres: req.centres };
  return { result: { cells: cells.size } };
}

const centreOf = (centres: Float64Array, id: number) => ({ lat: centres[2 * id]!, lon: centres[2 * id + 1]! });

function search(req: Extract<IndexRequest, { type: 'search' }>): Reply {
  if (!loaded) throw new Error('search before load');
  const { grid, cells, centres } = loaded;
  const { n, k, region } = req;
  const queries = Array.from(req.queries);
  const hits: Hit[][] = Array.from({ length: n }, () => []);
  const targets = region ? cellsTouching(grid, region).flatMap((c) => cells.get(c) ?? []) : [...cells.values()];
  for (const cell of targets) {
    const outside = region && !cellInside(grid, cell.cell, region) ? countOutside(cell, region, centres) : 0;
    const inside = cell.count - outside;
    if (inside === 0) continue;
    // A cell the circle only partly covers: ask for enough neighbours that k of them are
    // likely inside, and ask again for twice as many while some query has too few.
    const needed = Math.min(k, inside);
    let kk = Math.min(cell.count, outside === 0 ? k : Math.ceil((k * cell.count * PARTIAL_CELL_OVERSAMPLING) / inside));
    for (;;) {
      const found = searchCell(cell, queries, n, kk, region, centres);
      if (kk === cell.count || found.every((list) => list.length >= needed)) {
        found.forEach((list, q) => hits[q]!.push(...list));
        break;
      }
      kk = Math.min(cell.count, 2 * kk);
    }
  }
  const ids = new Int32Array(n * k).fill(NO_TILE);
  const scores = new Float32Array(n * k).fill(Number.NEGATIVE_INFINITY);
  hits.forEach((list, q) => {
    list.sort((a, b) => b.score - a.score || a.id - b.id);
    list.slice(0, k).forEach((h, j) => {
      ids[q * k + j] = h.id;
      scores[q * k + j] = h.score;
    });
  });
  return { result: { ids: ownBuffer(ids), scores: ownBuffer(scores) } satisfies SearchResult, transfer: [ids.buffer, scores.buffer] };
}

/** The kk best tiles of one cell per query, those outside the region dropped. */
function searchCell(cell: LoadedCell, queries: number[], n: number, kk: number, region: SearchRegion | undefined, centres: Float64Array): Hit[][] {
  const { distances, labels } = cell.index.search(queries, kk);
  return Array.from({ length: n }, (_, q) => {
    const list: Hit[] = [];
    for (let j = q * kk; j < (q + 1) * kk; j++) {
      const label = labels[j]!;
      if (label < 0) continue;
      const id = cell.start + label;
      if (region && !regionContains(region, centreOf(centres, id))) continue;
      list.push({ id, score: distances[j]! });
    }
    return list;
  });
}

function cellInside(grid: PartitionGrid, cell: number, region: SearchRegion): boolean {
  const b = cellBounds(grid, cell);
  return [
    { lat: b.south, lon: b.west },
    { lat: b.south, lon: b.east },
    { lat: b.north, lon: b.west },
    { lat: b.north, lon: b.east },
  ].every((corner) => regionContains(region, corner));
}

function countOutside(cell: CellRange, region: SearchRegion, centres: Float64Array): number {
  let outside = 0;
  for (let id = cell.start; id < cell.start + cell.count; id++) {
    if (!regionContains(region, centreOf(centres, id))) outside++;
  }
  return outside;
}

function write(req: Extract<IndexRequest, { type: 'write' }>): Reply {
  const index = new IndexFlatIP(req.dim);
  addInChunks(index, req.vectors, req.dim);
  index.write(req.file);
  return { result: { ntotal: index.ntotal() } };
}

serveRequests(
  async () => ({}),
  async (body) => {
    const req = body as IndexRequest;
    if (req.type === 'load') return load(req);
    if (req.type === 'search') return search(req);
    return write(req);
  },
);
