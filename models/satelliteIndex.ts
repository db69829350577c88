/**
 * A built satellite index, opened for search. The vectors live in a worker thread (see
 * indexWorker.ts); this side holds the manifest and the tile catalog and checks, before
 * loading anything, that the index fits the model that will query it.
 */
import { existsSync } from 'node:fs';
import { GeolocError } from '../pipeline/core/errors';
import { readCatalog, readCells, readManifest, requireFile, type IndexManifest, type TileRecord } from './indexFiles';
import type { IndexRequest, SearchResult } from './indexWorker';
import type { ModelInfo } from './modelInfo';
import type { Candidate, SearchRegion } from '../pipeline/core/types';
import { startIndexWorker } from './startIndexWorker';
import type { WorkerClient } from './workerClient';

export type { IndexManifest, TileRecord } from './indexFiles';


export interface OpenIndexOptions {
  /** the model that will produce the queries; refused when it is not the one the index was built with */
  model?: ModelInfo;
}

const HASH_SHOWN = 12;

/** Throws GEOLOC_ERR_INDEX_DIM_MISMATCH or GEOLOC_ERR_INDEX_MODEL_MISMATCH when `model` cannot query the index. */
export function checkModelMatches(manifest: IndexManifest, model: ModelInfo, dir: string): void {
  const rebuild = `rebuild the index with this model (geoloc index build --model ${model.path} --out ${dir} ...) or pass the model it was built with (sha256 ${manifest.model.sha256.slice(0, HASH_SHOWN)}…, ${manifest.model.backbone})`;
  if (model.dim !== manifest.dim) {
    throw new GeolocError('GEOLOC_ERR_INDEX_DIM_MISMATCH', `model ${model.path} makes ${model.dim}-d embeddings but index ${dir} holds ${manifest.dim}-d vectors; ${rebuild}`);
  }
  if (model.sha256 !== manifest.model.sha256) {
    throw new GeolocError(
      'GEOLOC_ERR_INDEX_MODEL_MISMATCH',
      `index ${dir} was built with another model (sha256 ${manifest.model.sha256.slice(0, HASH_SHOWN)}…) than ${model.path} (sha256 ${model.sha256.slice(0, HASH_SHOWN)}…); ${rebuild}`,
    );
  }
}

export class SatelliteIndex {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly manifest: IndexManifest,
    readonly tiles: TileRecord[],
    private readonly worker: WorkerClient<object>,
  ) {}

  static async open(dir: string, opts: OpenIndexOptions = {}): Promise<SatelliteIndex> {
    if (!existsSync(dir)) throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `index folder ${dir} does not exist; build one with geoloc index build`);
    const manifest = await readManifest(dir);
    if (opts.model) checkModelMatches(manifest, opts.model, dir);
    const cells = await readCells(dir, manifest);
    for (const c of cells) requireFile(dir, c.file);
    const tiles = await readCatalog(dir, manifest);
    const centres = new Float64Array(tiles.length * 2);
    tiles.forEach((t, i) => centres.set([t.lat, t.lon], 2 * i));
    const worker = await startIndexWorker(`satellite index ${dir}`);
    try {
      const grid = manifest.partition;
      await worker.request({ type: 'load', dir, dim: manifest.dim, grid, cells, centres } satisfies IndexRequest, [centres.buffer]);
    } catch (err) {
      await worker.close();
      throw err;
    }
    return new SatelliteIndex(dir, manifest, tiles, worker);
  }

  /**
   * Top-k tiles for each of n queries (n·dim floats, unit rows). With a region, only tiles
   * whose centre lies within it, read from the cells the circle touches; without, all tiles.
   */
  async search(queries: Float32Array, n: number, k: number, region?: SearchRegion): Promise<Candidate[][]> {
    if (this.closing) throw new GeolocError('GEOLOC_ERR_WORKER_CLOSED', `satellite index ${this.dir} was closed; open it again`);
    const dim = this.manifest.dim;
    if (!Number.isInteger(n) || n < 1 || queries.length !== n * dim) {
      throw new GeolocError('GEOLOC_ERR_INDEX_DIM_MISMATCH', `${n} queries for index ${this.dir} need ${n}×${dim} floats, got ${queries.length}; query with the model the index was built with`);
    }
    if (!Number.isInteger(k) || k < 1) throw new GeolocError('GEOLOC_ERR_USAGE', `k must be a positive integer, got ${k}`);
    if (region && !(Number.isFinite(region.lat) && Number.isFinite(region.lon) && region.radiusM > 0)) {
      throw new GeolocError('GEOLOC_ERR_USAGE', `a search region needs a finite lat, lon and a positive radiusM, got ${JSON.stringify(region)}`);
    }
    const { ids, scores } = await this.worker.request<SearchResult>({ type: 'search', queries, n, k, region } satisfies IndexRequest);
    return Array.from({ length: n }, (_, q) => {
      const list: Candidate[] = [];
      for (let j = q * k; j < (q + 1) * k && ids[j]! >= 0; j++) {
        const tile = this.tiles[ids[j]!]!;
        list.push({ tileId: tile.id, score: scores[j]!, lat: tile.lat, lon: tile.lon, footprintM: tile.footprintM });
      }
      return list;
    });
  }

  /** Terminates the worker; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.worker.close();
    return this.closing;
  }
}
