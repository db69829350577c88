/**
 * Web-Mercator z/x/y map tiles from the imagery the index is built from, so the map needs
 * no external tile server. An MBTiles or XYZ cache serves its own tiles as they are stored,
 * at the zooms it holds; anything else (and zooms a cache lacks) is cut by windows: the
 * imagery pixels under the tile are read at the coarsest power-of-two level still as fine as
 * the tile (GDAL averages, or takes a COG's overviews), and each tile pixel's centre is
 * sampled bilinearly from them; pixels off the imagery are transparent.
 */
import sharp from 'sharp';
import type { Imagery } from '../models/imagerySource';
import { readLevel, readPatch, type Patch } from '../models/patch';
import { storedTile, type StoredTile } from '../models/storedTiles';
import type { GeoBounds } from '../pipeline/geo/geoImage';
import { MERCATOR_HALF_EXTENT_M, lonLatToMercator, mercatorToLonLat, mercatorScaleFactor, tileBounds } from '../pipeline/geo/webMercator';
import { LruCache } from './lru';

export const TILE_SIZE = 256;
/** Deepest zoom any request may name; OpenStreetMap-style grids stop well before this. */
export const MAX_TILE_ZOOM = 24;
/** Zoom levels served past the imagery's own resolution (enlarged, bilinear). */
const MAX_OVERZOOM = 2;
const RGB = 3;
const RGBA = 4;
const OPAQUE = 255;
/** a tile over a single source pixel still shows it: sampleBilinear clamps at the edges */
const MIN_PATCH_SIDE_PX = 1;

export interface TileAddress {
  z: number;
  x: number;
  y: number;
}

/** What the map page needs to know about the imagery. */
export interface ImageryInfo {
  bounds: GeoBounds;
  /** the finest of the source images */
  metersPerPixel: number;
  /** the first zoom whose tile pixels are no coarser than the imagery's */
  nativeZoom: number;
  /** the first zoom at which the imagery spans a whole tile pixel, so tiles there show it */
  minZoom: number;
  maxZoom: number;
  /** the imagery's file or folder name, for attribution */
  name: string;
}

const TILE_PATH = /^\/tiles\/(\d{1,2})\/(\d{1,8})\/(\d{1,8})\.png$/;

/**
 * Strict: digits only, on the raw request path, so `..`, percent-encoding and every other
 * trick simply fail to match. Returns undefined unless the address is inside the tile grid.
 */
export function parseTilePath(pathname: string): TileAddress | undefined {
  const match = TILE_PATH.exec(pathname);
  if (!match) return undefined;
  const [z, x, y] = match.slice(1).map(Number) as [number, number, number];
  const tilesPerSide = 2 ** z;
  if (z > MAX_TILE_ZOOM || x >= tilesPerSide || y >= tilesPerSide) return undefined;
  return { z, x, y };
}

/** Ground metres of one tile pixel at the equator, zoom 0; Mercator metres of one at any latitude. */
const EQUATOR_TILE_PIXEL_M = (2 * MERCATOR_HALF_EXTENT_M) / TILE_SIZE;

export class TileSource {
  private readonly cache: LruCache<string, StoredTile>;
  private readonly rendering = new Map<string, Promise<StoredTile | undefined>>();

  private constructor(
    private readonly imagery: Imagery,
    readonly info: ImageryInfo,
    cacheBytes: number,
    private readonly log: (line: string) => void,
  ) {
    this.cache = new LruCache(cacheBytes, (tile) => tile.body.length);
  }

  static create(name: string, imagery: Imagery, cacheBytes: number, log: (line: string) => void = () => undefined): TileSource {
    const { bounds, metersPerPixel } = imagery;
    const centreLat = (bounds.north + bounds.south) / 2;
    const nativeZoom = Math.max(0, Math.ceil(Math.log2((EQUATOR_TILE_PIXEL_M * mercatorScaleFactor(centreLat)) / metersPerPixel)));
    const minZoom = Math.min(nativeZoom, firstZoomSpanningAPixel(bounds));
    const info: ImageryInfo = { bounds, metersPerPixel, nativeZoom, minZoom, maxZoom: Math.min(MAX_TILE_ZOOM, nativeZoom + MAX_OVERZOOM), name };
    return new TileSource(imagery, info, cacheBytes, log);
  }

  /** The tile's bytes and type, or undefined when the tile holds no imagery or is outside the zoom range. */
  async tile({ z, x, y }: TileAddress): Promise<StoredTile | undefined> {
    if (z < this.info.minZoom || z > this.info.maxZoom || !intersects(tileBounds(z, x, y), this.info.bounds)) return undefined;
    const key = `${z}/${x}/${y}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let pending = this.rendering.get(key);
    if (!pending) {
      pending = this.render(z, x, y).finally(() => this.rendering.delete(key));
      this.rendering.set(key, pending);
    }
    return pending;
  }

  private async render(z: number, x: number, y: number): Promise<StoredTile | undefined> {
    const tile = (await storedTile(this.imagery, { z, x, y })) ?? (await this.cut(z, x, y));
    if (tile) this.cache.set(`${z}/${x}/${y}`, tile);
    return tile;
  }

  private async cut(z: number, x: number, y: number): Promise<StoredTile | undefined> {
    let patch: Patch | undefined;
    try {
      patch = await this.patch(z, x, y);
    } catch (err) {
      this.log(`[gateway] tile ${z}/${x}/${y}: ${(err as Error).message}`);
      return undefined;
    }
    const rgba = patch && sampleTile(this.imagery, patch, z, x, y);
    if (!rgba) return undefined;
    return { body: await sharp(rgba, { raw: { width: TILE_SIZE, height: TILE_SIZE, channels: RGBA } }).png().toBuffer(), type: 'image/png' };
  }

  /** The imagery pixels under the tile, read at the tile's level. */
  private patch(z: number, x: number, y: number): Promise<Patch | undefined> {
    const b = tileBounds(z, x, y);
    const corners = [this.imagery.georef.lonLatToPixel({ lat: b.north, lon: b.west }), this.imagery.georef.lonLatToPixel({ lat: b.south, lon: b.east })];
    const tilePixelM = (EQUATOR_TILE_PIXEL_M * mercatorScaleFactor((b.north + b.south) / 2)) / 2 ** z;
    return readPatch(this.imagery, corners.map((c) => c.px), corners.map((c) => c.py), readLevel(this.imagery, tilePixelM), MIN_PATCH_SIDE_PX);
  }

}

/**
 * RGBA pixels of the tile, or undefined when none falls on valid imagery. Tile pixel centres
 * form a grid in Mercator, so each column has one CRS x and each row one CRS y (lon and lat
 * for EPSG:4326); only the affine step is per pixel.
 */
function sampleTile(imagery: Imagery, patch: Patch, z: number, x: number, y: number): Buffer | undefined {
  const { georef, width, height } = imagery;
  const out = Buffer.alloc(TILE_SIZE * TILE_SIZE * RGBA);
  const mercatorPerPixel = (2 * MERCATOR_HALF_EXTENT_M) / (2 ** z * TILE_SIZE);
  const columnX = new Float64Array(TILE_SIZE);
  const rowY = new Float64Array(TILE_SIZE);
  for (let i = 0; i < TILE_SIZE; i++) {
    const mx = -MERCATOR_HALF_EXTENT_M + (x * TILE_SIZE + i + 0.5) * mercatorPerPixel;
    const my = MERCATOR_HALF_EXTENT_M - (y * TILE_SIZE + i + 0.5) * mercatorPerPixel;
    columnX[i] = georef.crs === 'EPSG:3857' ? mx : mercatorToLonLat(mx, 0).lon;
    rowY[i] = georef.crs === 'EPSG:3857' ? my : mercatorToLonLat(0, my).lat;
  }
  let any = false;
  for (let row = 0; row < TILE_SIZE; row++) {
    for (let col = 0; col < TILE_SIZE; col++) {
      const { px, py } = georef.crsToPixel(columnX[col]!, rowY[row]!);
      if (!(px >= 0 && py >= 0 && px <= width && py <= height)) continue;
      any = sampleBilinear(patch, (px - patch.left) / patch.scaleX - 0.5, (py - patch.top) / patch.scaleY - 0.5, out, (row * TILE_SIZE + col) * RGBA) || any;
    }
  }
  return any ? out : undefined;
}

/**
 * Tile pixels are sampled at their centres, so imagery narrower than a tile pixel can fall
 * between them and leave every tile empty. From the first zoom at which an image spans a
 * whole pixel each way, some pixel centre lands on it (exact for north-up imagery; one with
 * world-file rotation terms covers less than its bounds).
 */
function firstZoomSpanningAPixel(bounds: GeoBounds): number {
  const southWest = lonLatToMercator({ lat: bounds.south, lon: bounds.west });
  const northEast = lonLatToMercator({ lat: bounds.north, lon: bounds.east });
  const spanM = Math.min(northEast.x - southWest.x, northEast.y - southWest.y);
  return Math.max(0, Math.ceil(Math.log2(EQUATOR_TILE_PIXEL_M / spanM)));
}

/** Bilinear sample at pixel-centre coordinates (u, v), clamped at the edges; false on a hole. */
function sampleBilinear(level: Patch, u: number, v: number, out: Buffer, at: number): boolean {
  const maxX = level.width - 1;
  const maxY = level.height - 1;
  const cu = Math.max(0, Math.min(maxX, u));
  const cv = Math.max(0, Math.min(maxY, v));
  const x0 = Math.floor(cu);
  const y0 = Math.floor(cv);
  const x1 = Math.min(maxX, x0 + 1);
  const y1 = Math.min(maxY, y0 + 1);
  if (!level.valid[Math.round(cv) * level.width + Math.round(cu)]) return false;
  const fx = cu - x0;
  const fy = cv - y0;
  const { rgb, width } = level;
  const i00 = (y0 * width + x0) * RGB;
  const i10 = (y0 * width + x1) * RGB;
  const i01 = (y1 * width + x0) * RGB;
  const i11 = (y1 * width + x1) * RGB;
  for (let c = 0; c < RGB; c++) {
    const top = rgb[i00 + c]! + (rgb[i10 + c]! - rgb[i00 + c]!) * fx;
    const bottom = rgb[i01 + c]! + (rgb[i11 + c]! - rgb[i01 + c]!) * fx;
    out[at + c] = Math.round(top + (bottom - top) * fy);
  }
  out[at + 3] = OPAQUE;
  return true;
}

function intersects(a: GeoBounds, b: GeoBounds): boolean {
  return a.west < b.east && a.east > b.west && a.south < b.north && a.north > b.south;
}
