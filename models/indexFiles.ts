/**
 * The on-disk layout of a satellite index folder and its checks:
 *   manifest.json       what was built, from what, with which model (IndexManifest)
 *   cells.json          one entry per non-empty partition cell: its tile-id range and FAISS file
 *   tiles.bin           the tile catalog, float64 little-endian, TILE_COLUMNS per tile, by id
 *   cells/cell-N.faiss  one FAISS IndexFlatIP per cell; row r of cell N is tile start+r
 *   features/cell-N-sK.bin  the cell's local features at resolution K, when built (referenceFeatures.ts)
 * Tiles are numbered cell by cell, so a cell's tiles are one contiguous id range.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { GeolocError } from '../pipeline/core/errors';
import type { GeoBounds } from '../pipeline/geo/geoImage';
import type { IndexCamera } from './indexCamera';
import type { PartitionGrid } from './partition';
import type { FeaturesManifest } from './referenceFeatures';

export const INDEX_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const CELLS_FILE = 'cells.json';
export const CATALOG_FILE = 'tiles.bin';
export const CELL_DIR = 'cells';

export function cellFile(cell: number): string {
  return `${CELL_DIR}/cell-${cell}.faiss`;
}

export interface TileRecord {
  id: number;
  lat: number;
  lon: number;
  /** ground side of the square crop, metres */
  footprintM: number;
  /** index into manifest.scales */
  scale: number;
  cell: number;
  bounds: GeoBounds;
}

export interface ScaleSpec {
  altitudeM: number;
  footprintM: number;
  strideM: number;
}

export interface BuildSettings {
  /** the camera the tiles are cut for; absent from indexes built before it was recorded */
  camera?: IndexCamera;
  /** the altitude band: the altitudes given, metres above ground */
  altitudesM: number[];
  /** largest ratio between neighbouring tile footprints; absent with the camera */
  scaleStep?: number;
  overlap: number;
  cellSizeM: number;
  /** whether the build extracts reference features; absent with the camera */
  referenceFeatures?: boolean;
}

export interface IndexManifest {
  version: number;
  model: { sha256: string; dim: number; backbone: string; inputSize: [number, number] };
  dim: number;
  metric: 'inner_product';
  tiles: number;
  scales: ScaleSpec[];
  /** area the tiles cover */
  bounds: GeoBounds;
  /** CRS of the catalog's coordinates */
  crs: 'EPSG:4326';
  imagery: {
    /** the one source of an index built before sources were listed (see indexImageryPaths) */
    path?: string;
    /** the sources, in the order they were given: a later one lies on top where they overlap */
    sources?: ImagerySourceRecord[];
    /** the CRS tiles were cut in (EPSG:4326, or EPSG:3857 also for sources warped into it) */
    crs: string;
    /** the source's own CRS (absent in indexes built before GDAL read the imagery) */
    sourceCrs?: string;
    bounds: GeoBounds;
    width: number;
    height: number;
    metersPerPixel: number;
    /** source images (1 for a single georeferenced image) */
    images: number;
    /** sha256 over the imagery's files (over the sources' fingerprints, for several), to tell whether a rebuild is needed */
    fingerprint: string;
  };
  partition: PartitionGrid & { cells: number };
  settings: BuildSettings;
  /** what the build planned and skipped (absent in indexes written by writeIndex alone) */
  build?: BuildCounts;
  /** the map's local features per cell (referenceFeatures.ts); absent from an index built without them */
  features?: FeaturesManifest;
  createdAt: string;
}

export interface ImagerySourceRecord {
  /** relative to the index folder when both are inside the repository, else absolute */
  path: string;
  fingerprint: string;
  /** the source's own CRS */
  sourceCrs: string;
  bounds: GeoBounds;
}

/** One cell's tiles skipped by the build: what `index info` counts once an add re-cuts some cells. */
export interface CellSkipped {
  cell: number;
  holes: number;
  unreadable: number;
}

export interface BuildCounts {
  /** tiles planned over the imagery's extent */
  planned: number;
  /** tiles skipped for holes: less than minCoverage of their pixels valid */
  holes: number;
  /** tiles skipped because their pixels could not be read (a corrupt block or tile) */
  unreadable: number;
  /** the cells with skipped tiles, by cell (absent in indexes built before it was recorded) */
  skipped?: CellSkipped[];
}

export interface CellRange {
  cell: number;
  /** first tile id */
  start: number;
  count: number;
  /** relative to the index folder */
  file: string;
}

export const TILE_COLUMNS = ['lat', 'lon', 'footprintM', 'scale', 'cell', 'west', 'south', 'east', 'north'] as const;
const FLOAT64_BYTES = 8;

export function encodeCatalog(tiles: TileRecord[]): Buffer {
  const values = new Float64Array(tiles.length * TILE_COLUMNS.length);
  tiles.forEach((t, i) => {
    values.set([t.lat, t.lon, t.footprintM, t.scale, t.cell, t.bounds.west, t.bounds.south, t.bounds.east, t.bounds.north], i * TILE_COLUMNS.length);
  });
  return Buffer.from(values.buffer);
}

export function decodeCatalog(bytes: Buffer, expectedTiles: number, path: string): TileRecord[] {
  const width = TILE_COLUMNS.length;
  if (bytes.length !== expectedTiles * width * FLOAT64_BYTES) {
    throw corrupt(path, `holds ${bytes.length} bytes, the manifest's ${expectedTiles} tiles need ${expectedTiles * width * FLOAT64_BYTES}`);
  }
  const v = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const tiles: TileRecord[] = new Array(expectedTiles);
  for (let id = 0, o = 0; id < expectedTiles; id++, o += width) {
    tiles[id] = { id, lat: v[o]!, lon: v[o + 1]!, footprintM: v[o + 2]!, scale: v[o + 3]!, cell: v[o + 4]!, bounds: { west: v[o + 5]!, south: v[o + 6]!, east: v[o + 7]!, north: v[o + 8]! } };
  }
  return tiles;
}

function corrupt(path: string, what: string): GeolocError {
  return new GeolocError('GEOLOC_ERR_INDEX_CORRUPT', `${path} ${what}; rebuild the index with geoloc index build`);
}

export function requireFile(dir: string, name: string): string {
  const path = join(dir, name);
  if (!existsSync(path)) {
    throw new GeolocError('GEOLOC_ERR_INDEX_MISSING_FILE', `index folder ${dir} has no ${name}; it is incomplete: rebuild it with geoloc index build`);
  }
  return path;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw corrupt(path, `is not valid JSON (${(cause as Error).message})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isBounds = (v: unknown): v is GeoBounds => isObject(v) && ['west', 'south', 'east', 'north'].every((k) => Number.isFinite(v[k]));

export async function readManifest(dir: string): Promise<IndexManifest> {
  const path = requireFile(dir, MANIFEST_FILE);
  const m = await readJson(path);
  const problem = manifestProblem(m);
  if (problem) throw corrupt(path, problem);
  return m as IndexManifest;
}

function manifestProblem(m: unknown): string | undefined {
  if (!isObject(m)) return 'does not hold a JSON object';
  if (m.version !== INDEX_FORMAT_VERSION) return `has format version ${JSON.stringify(m.version)}, this geoloc reads version ${INDEX_FORMAT_VERSION}`;
  const model = m.model;
  if (!isObject(model) || typeof model.sha256 !== 'string' || !isCount(model.dim)) return 'has no model {sha256, dim}';
  if (!isCount(m.dim) || m.dim === 0 || m.dim !== model.dim) return `has dim ${JSON.stringify(m.dim)}, model dim ${JSON.stringify(model.dim)}`;
  if (m.metric !== 'inner_product') return `has metric ${JSON.stringify(m.metric)}, expected "inner_product"`;
  if (!isCount(m.tiles)) return 'has no tile count';
  if (!Array.isArray(m.scales) || !m.scales.every((s) => isObject(s) && Number.isFinite(s.footprintM))) return 'has no scales';
  if (!isBounds(m.bounds)) return 'has no bounds';
  const p = m.partition;
  if (!isObject(p) || !isObject(p.origin) || !['cellSizeM', 'cellLatDeg', 'cellLonDeg', 'cols', 'rows', 'cells'].every((k) => Number.isFinite(p[k]))) return 'has no partition grid';
  return undefined;
}

export async function readCells(dir: string, manifest: IndexManifest): Promise<CellRange[]> {
  const path = requireFile(dir, CELLS_FILE);
  const doc = await readJson(path);
  const cells = isObject(doc) ? doc.cells : undefined;
  if (!Array.isArray(cells) || !cells.every((c) => isObject(c) && isCount(c.cell) && isCount(c.start) && isCount(c.count) && typeof c.file === 'string')) {
    throw corrupt(path, 'does not hold {cells: [{cell, start, count, file}]}');
  }
  let next = 0;
  for (const c of cells as CellRange[]) {
    if (c.start !== next) throw corrupt(path, `has cell ${c.cell} starting at tile ${c.start}, expected ${next}`);
    next += c.count;
  }
  if (next !== manifest.tiles) throw corrupt(path, `covers ${next} tiles, the manifest says ${manifest.tiles}`);
  return cells as CellRange[];
}

export async function readCatalog(dir: string, manifest: IndexManifest): Promise<TileRecord[]> {
  const path = requireFile(dir, CATALOG_FILE);
  return decodeCatalog(await readFile(path), manifest.tiles, path);
}

/** What a manifest says of where its imagery lies. */
export interface RecordedImagery {
  imagery: { path?: string; sources?: { path: string }[] };
}

/**
 * Where the imagery an index was built from lies, source by source in the order they lie on
 * each other: its manifest's paths, relative to the index folder unless absolute.
 */
export function indexImageryPaths(dir: string, manifest: RecordedImagery): string[] {
  const recorded = manifest.imagery.sources?.map((s) => s.path) ?? (manifest.imagery.path !== undefined ? [manifest.imagery.path] : []);
  return recorded.map((path) => (isAbsolute(path) ? path : resolve(dir, path)));
}
