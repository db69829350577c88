/** Spherical Web-Mercator (EPSG:3857) and the slippy-map z/x/y tile scheme built on it. */
import type { LatLon } from './wgs84';

const R = 6378137.0;
/** Half the width of the Web-Mercator plane, metres. */
export const MERCATOR_HALF_EXTENT_M = Math.PI * R;
export const MERCATOR_MAX_LAT = 85.0511287798066;

export function lonLatToMercator({ lat, lon }: LatLon): { x: number; y: number } {
  const clamped = Math.max(-MERCATOR_MAX_LAT, Math.min(MERCATOR_MAX_LAT, lat));
  return {
    x: (R * lon * Math.PI) / 180,
    y: R * Math.log(Math.tan(Math.PI / 4 + (clamped * Math.PI) / 360)),
  };
}

export function mercatorToLonLat(x: number, y: number): LatLon {
  return {
    lon: (x / R) * (180 / Math.PI),
    lat: (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * (180 / Math.PI),
  };
}

/** Ground metres per Mercator metre at a latitude (Mercator stretches by 1/cos φ). */
export function mercatorScaleFactor(lat: number): number {
  return Math.cos((lat * Math.PI) / 180);
}

export interface TileBounds {
  west: number;
  south: number;
  east: number;
  north: number;
}

/** The lon/lat bounds of slippy-map tile z/x/y. */
export function tileBounds(z: number, x: number, y: number): TileBounds {
  const n = 2 ** z;
  const lonAt = (tx: number) => (tx / n) * 360 - 180;
  const latAt = (ty: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * ty) / n))) * 180) / Math.PI;
  return { west: lonAt(x), east: lonAt(x + 1), north: latAt(y), south: latAt(y + 1) };
}

/** The tile at zoom z that holds a point. */
export function tileAt(z: number, { lat, lon }: LatLon): { x: number; y: number } {
  const n = 2 ** z;
  const { x, y } = lonLatToMercator({ lat, lon });
  return {
    x: Math.floor(((x + MERCATOR_HALF_EXTENT_M) / (2 * MERCATOR_HALF_EXTENT_M)) * n),
    y: Math.floor(((MERCATOR_HALF_EXTENT_M - y) / (2 * MERCATOR_HALF_EXTENT_M)) * n),
  };
}
