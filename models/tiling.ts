/**
 * Cuts georeferenced imagery into the views a drone camera would see: for each scale (see
 * indexCamera.ts) a square ground footprint, nadir and north-up, stepped by
 * footprint·(1 − overlap), over the imagery's whole raster (a mosaic's tiles cross its
 * images' borders); each is read resized to the model's input size.
 */
import type { GeoBounds } from '../pipeline/geo/geoImage';
import type { Georef } from '../pipeline/geo/georef';
import { haversineMeters } from '../pipeline/geo/wgs84';
import type { ScaleSpec } from './indexFiles';
import type { TileGeometry } from './indexWriter';

export interface PixelRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface TilePlan extends TileGeometry {
  /** the tile's pixels in the imagery's working raster */
  rect: PixelRect;
}

interface RasterGeometry {
  width: number;
  height: number;
  georef: Georef;
}


/** Start offsets of `count` windows of `side` stepped by `stride`, centred in `extent`. */
function windowStarts(extent: number, side: number, stride: number): number[] {
  if (side > extent) return [];
  const count = Math.floor((extent - side) / stride + 1e-9) + 1;
  const margin = (extent - side - (count - 1) * stride) / 2;
  return Array.from({ length: count }, (_, i) => Math.min(extent - side, Math.max(0, Math.round(margin + i * stride))));
}

/** Ground metres per pixel along x and y at the raster's centre. */
function axisResolution({ width, height, georef }: RasterGeometry): { x: number; y: number } {
  const centre = georef.pixelToLonLat(width / 2, height / 2);
  return {
    x: haversineMeters(centre, georef.pixelToLonLat(width / 2 + 1, height / 2)),
    y: haversineMeters(centre, georef.pixelToLonLat(width / 2, height / 2 + 1)),
  };
}

/** Every tile of every scale that fits inside the raster. */
export function planTiles(raster: RasterGeometry, scales: ScaleSpec[]): TilePlan[] {
  const mpp = axisResolution(raster);
  const plans: TilePlan[] = [];
  scales.forEach((scale, scaleIndex) => {
    const sideX = Math.max(1, Math.round(scale.footprintM / mpp.x));
    const sideY = Math.max(1, Math.round(scale.footprintM / mpp.y));
    const lefts = windowStarts(raster.width, sideX, scale.strideM / mpp.x);
    const tops = windowStarts(raster.height, sideY, scale.strideM / mpp.y);
    for (const top of tops) {
      for (const left of lefts) {
        const rect = { left, top, width: sideX, height: sideY };
        const centre = raster.georef.pixelToLonLat(left + sideX / 2, top + sideY / 2);
        plans.push({ rect, lat: centre.lat, lon: centre.lon, footprintM: scale.footprintM, scale: scaleIndex, bounds: rectBounds(raster.georef, rect) });
      }
    }
  });
  return plans;
}

function rectBounds(georef: Georef, r: PixelRect): GeoBounds {
  const corners = [georef.pixelToLonLat(r.left, r.top), georef.pixelToLonLat(r.left + r.width, r.top), georef.pixelToLonLat(r.left, r.top + r.height), georef.pixelToLonLat(r.left + r.width, r.top + r.height)];
  return {
    west: Math.min(...corners.map((c) => c.lon)),
    east: Math.max(...corners.map((c) => c.lon)),
    south: Math.min(...corners.map((c) => c.lat)),
    north: Math.max(...corners.map((c) => c.lat)),
  };
}
