/**
 * A georeferenced RGB image held in memory, and the bounds and ground resolution of a
 * georeferencing. Imagery is read (through GDAL) by models/imagerySource.ts.
 */
import type { Georef } from './georef';
import { haversineMeters } from './wgs84';

export interface GeoBounds {
  west: number;
  south: number;
  east: number;
  north: number;
}

export interface GeoImage {
  width: number;
  height: number;
  /** packed RGB, row-major, 3 bytes a pixel */
  rgb: Buffer;
  georef: Georef;
  bounds: GeoBounds;
  /** ground metres per pixel at the image centre (mean of both axes) */
  metersPerPixel: number;
  source: string;
}

export function boundsOf(georef: Georef, width: number, height: number): GeoBounds {
  const corners = [georef.pixelToLonLat(0, 0), georef.pixelToLonLat(width, 0), georef.pixelToLonLat(0, height), georef.pixelToLonLat(width, height)];
  return {
    west: Math.min(...corners.map((c) => c.lon)),
    east: Math.max(...corners.map((c) => c.lon)),
    south: Math.min(...corners.map((c) => c.lat)),
    north: Math.max(...corners.map((c) => c.lat)),
  };
}

export function groundResolution(georef: Georef, width: number, height: number): number {
  const cx = width / 2;
  const cy = height / 2;
  const centre = georef.pixelToLonLat(cx, cy);
  const dx = haversineMeters(centre, georef.pixelToLonLat(cx + 1, cy));
  const dy = haversineMeters(centre, georef.pixelToLonLat(cx, cy + 1));
  return (dx + dy) / 2;
}

