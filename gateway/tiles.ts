/**
 * Web-Mercator z/x/y map tiles cut from the georeferenced source imagery, so the map needs
 * no external tile server. Each tile pixel's centre is taken to the CRS of each source image
 * and sampled bilinearly from the level of that image's halving pyramid closest to the
 * tile's resolution; pixels outside every image are transparent.
 */
import sharp from 'sharp';
import type { GeoBounds, GeoImage } from '../pipeline/geo/geoImage';
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

export interface TileAddress {
  z: number;
  x: number;
  y: number;
}

/** One georeferenced source image with its pixels. */
export type RasterPixels = Pick<GeoImage, 'width' | 'height' | 'rgb' | 'georef' | 'bounds' | 'metersPerPixel'>;

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

interface Level {
  rgb: Buffer;
  width: number;
  height: number;
  /** source pixels per level pixel, per axis */
  scaleX: number;
  scaleY: number;
}

interface Raster extends RasterPixels {
  /** level 0 is the image itself; each next one is half as large */
  levels: Level[];
}

/** Ground metres of one tile pixel at the equator, zoom 0; Mercator metres of one at any latitude. */
const EQUATOR_TILE_PIXEL_M = (2 * MERCATOR_HALF_EXTENT_M) / TILE_SIZE;

export class TileSource {
  private readonly cache: LruCache<string, Buffer>;
  private readonly rendering = new Map<string, Promise<Buffer | undefined>>();
  private readonly centreLat: number;

  private constructor(
    private readonly rasters: Raster[],
    readonly info: ImageryInfo,
    cacheBytes: number,
  ) {
    this.cache = new LruCache(cacheBytes, (png) => png.length);
    this.centreLat = (info.bounds.north + info.bounds.south) / 2;
  }

  static async create(name: string, images: RasterPixels[], cacheBytes: number): Promise<TileSource> {
    const bounds = {
      west: Math.min(...images.map((i) => i.bounds.west)),
      south: Math.min(...images.map((i) => i.bounds.south)),
      east: Math.max(...images.map((i) => i.bounds.east)),
      north: Math.max(...images.map((i) => i.bounds.north)),
    };
    const metersPerPixel = Math.min(...images.map((i) => i.metersPerPixel));
    const centreLat = (bounds.north + bounds.south) / 2;
    const nativeZoom = Math.max(0, Math.ceil(Math.log2((EQUATOR_TILE_PIXEL_M * mercatorScaleFactor(centreLat)) / metersPerPixel)));
    const minZoom = Math.min(nativeZoom, ...images.map((i) => firstZoomSpanningAPixel(i.bounds)));
    const info: ImageryInfo = { bounds, metersPerPixel, nativeZoom, minZoom, maxZoom: Math.min(MAX_TILE_ZOOM, nativeZoom + MAX_OVERZOOM), name };
    const rasters = await Promise.all(images.map(async (image) => ({ ...image, levels: await buildPyramid(image) })));
    return new TileSource(rasters, info, cacheBytes);
  }

  /** The PNG of a tile, or undefined when the tile holds no imagery or is outside the zoom range. */
  async tile({ z, x, y }: TileAddress): Promise<Buffer | undefined> {
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

  private async render(z: number, x: number, y: number): Promise<Buffer | undefined> {
    const rgba = this.sample(z, x, y);
    if (rgba === undefined) return undefined;
    const png = await sharp(rgba, { raw: { width: TILE_SIZE, height: TILE_SIZE, channels: RGBA } }).png().toBuffer();
    this.cache.set(`${z}/${x}/${y}`, png);
    return png;
  }

  /** RGBA pixels of the tile, or undefined when none of them falls on the imagery. */
  private sample(z: number, x: number, y: number): Buffer | undefined {
    const out = Buffer.alloc(TILE_SIZE * TILE_SIZE * RGBA);
    const bounds = tileBounds(z, x, y);
    let anyOpaque = false;
    for (const raster of this.rasters) {
      if (intersects(bounds, raster.bounds)) anyOpaque = sampleRaster(raster, this.levelFor(raster, z), z, x, y, out) || anyOpaque;
    }
    return anyOpaque ? out : undefined;
  }

  /** The coarsest pyramid level still at least as fine as the tile's pixels. */
  private levelFor(raster: Raster, z: number): Level {
    const tilePixelM = (EQUATOR_TILE_PIXEL_M * mercatorScaleFactor(this.centreLat)) / 2 ** z;
    const index = Math.floor(Math.log2(tilePixelM / raster.metersPerPixel));
    return raster.levels[Math.max(0, Math.min(raster.levels.length - 1, index))]!;
  }
}

/**
 * Fills the still-transparent pixels of a tile that fall on one raster; true if any did.
 * Tile pixel centres form a grid in Mercator, so each column has one CRS x and each row one
 * CRS y (lon and lat for EPSG:4326); only the affine step is per pixel.
 */
function sampleRaster(raster: Raster, level: Level, z: number, x: number, y: number, out: Buffer): boolean {
  const { georef, width, height } = raster;
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
      const at = (row * TILE_SIZE + col) * RGBA;
      if (out[at + 3] === OPAQUE) continue;
      const { px, py } = georef.crsToPixel(columnX[col]!, rowY[row]!);
      if (!(px >= 0 && py >= 0 && px <= width && py <= height)) continue;
      sampleBilinear(level, px / level.scaleX - 0.5, py / level.scaleY - 0.5, out, at);
      any = true;
    }
  }
  return any;
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

/** Halves the image until it fits in one tile; level 0 is the image itself. */
async function buildPyramid(image: RasterPixels): Promise<Level[]> {
  const levels: Level[] = [{ rgb: image.rgb, width: image.width, height: image.height, scaleX: 1, scaleY: 1 }];
  let last = levels[0]!;
  while (Math.max(last.width, last.height) > TILE_SIZE) {
    const width = Math.max(1, Math.round(last.width / 2));
    const height = Math.max(1, Math.round(last.height / 2));
    const rgb = await sharp(last.rgb, { raw: { width: last.width, height: last.height, channels: RGB } })
      .resize(width, height, { fit: 'fill', kernel: 'mitchell' })
      .raw()
      .toBuffer();
    last = { rgb, width, height, scaleX: image.width / width, scaleY: image.height / height };
    levels.push(last);
  }
  return levels;
}

/** Bilinear sample at pixel-centre coordinates (u, v), clamped at the edges. */
function sampleBilinear(level: Level, u: number, v: number, out: Buffer, at: number): void {
  const maxX = level.width - 1;
  const maxY = level.height - 1;
  const cu = Math.max(0, Math.min(maxX, u));
  const cv = Math.max(0, Math.min(maxY, v));
  const x0 = Math.floor(cu);
  const y0 = Math.floor(cv);
  const x1 = Math.min(maxX, x0 + 1);
  const y1 = Math.min(maxY, y0 + 1);
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
}

function intersects(a: GeoBounds, b: GeoBounds): boolean {
  return a.west < b.east && a.east > b.west && a.south < b.north && a.north > b.south;
}
