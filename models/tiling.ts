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
  /** the stack's sources, the first of which anchors the lattice */
  layers?: PixelRect[];
}


/**
 * Start offsets of windows of `side` stepped by `stride`: the lattice centred in the anchor
 * [anchorStart, anchorStart + anchorExtent), continued both ways over the whole extent and
 * kept where a window fits inside it. Without an anchor beyond the extent, it is the lattice
 * centred in the extent.
 */
function windowStarts(extent: number, side: number, stride: number, anchorStart: number, anchorExtent: number): number[] {
  const margin = (anchorExtent - side - Math.floor((anchorExtent - side) / stride + 1e-9) * stride) / 2;
  const first = Math.ceil((-anchorStart - margin) / stride) - 1;
  const starts: number[] = [];
  for (let i = first; ; i++) {
    const start = anchorStart + Math.round(margin + i * stride);
    if (start + side > extent) break;
    if (start >= 0) starts.push(start);
  }
  return starts;
}

/** Ground metres per pixel along x and y at a pixel. */
function axisResolution(georef: Georef, x: number, y: number): { x: number; y: number } {
  const centre = georef.pixelToLonLat(x, y);
  return {
    x: haversineMeters(centre, georef.pixelToLonLat(x + 1, y)),
    y: haversineMeters(centre, georef.pixelToLonLat(x, y + 1)),
  };
}

/**
 * Every tile of every scale that fits inside the raster, on a lattice set by its anchor (a
 * stack's first source; else the raster itself): its resolution sizes the tiles, its extent
 * centres them, so that sources stacked on it keep the tiles it had alone.
 */
export function planTiles(raster: RasterGeometry, scales: ScaleSpec[]): TilePlan[] {
  const anchor = raster.layers?.[0] ?? { left: 0, top: 0, width: raster.width, height: raster.height };
  const mpp = axisResolution(raster.georef, anchor.left + anchor.width / 2, anchor.top + anchor.height / 2);
  const plans: TilePlan[] = [];
  scales.forEach((scale, scaleIndex) => {
    const sideX = Math.max(1, Math.round(scale.footprintM / mpp.x));
    const sideY = Math.max(1, Math.round(scale.footprintM / mpp.y));
    if (sideX > anchor.width || sideY > anchor.height) return;
    const lefts = windowStarts(raster.width, sideX, scale.strideM / mpp.x, anchor.left, anchor.width);
    const tops = windowStarts(raster.height, sideY, scale.strideM / mpp.y, anchor.top, anchor.height);
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
