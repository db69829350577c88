/**
 * Geographic partition of a satellite index: a regular latitude/longitude grid of cells
 * about `cellSizeM` on a side, so a search near the current track reads only the cells
 * its circle touches.
 */
import type { GeoBounds } from '../pipeline/geo/geoImage';
import type { SearchRegion } from '../pipeline/core/types';
import { METERS_PER_DEGREE, haversineMeters, type LatLon } from '../pipeline/geo/wgs84';


export interface PartitionGrid {
  cellSizeM: number;
  /** south-west corner of cell 0 */
  origin: LatLon;
  cellLatDeg: number;
  cellLonDeg: number;
  cols: number;
  rows: number;
}

/** Keeps longitude spans finite near the poles. */
const MAX_ABS_LATITUDE = 89.9;
/**
 * Cells count as touched a little beyond the radius: the nearest point of a lat/lon box is
 * taken by clamping, which is exact only to second order. Extra cells cost time, never results.
 */
const TOUCH_MARGIN_M = 1;
const TOUCH_MARGIN_FRACTION = 1e-3;

const metersPerDegreeLon = (lat: number) => METERS_PER_DEGREE * Math.cos((Math.min(Math.abs(lat), MAX_ABS_LATITUDE) * Math.PI) / 180);

export function makeGrid(bounds: GeoBounds, cellSizeM: number): PartitionGrid {
  const centreLat = (bounds.south + bounds.north) / 2;
  const cellLatDeg = cellSizeM / METERS_PER_DEGREE;
  const cellLonDeg = cellSizeM / metersPerDegreeLon(centreLat);
  return {
    cellSizeM,
    origin: { lat: bounds.south, lon: bounds.west },
    cellLatDeg,
    cellLonDeg,
    cols: Math.max(1, Math.ceil((bounds.east - bounds.west) / cellLonDeg)),
    rows: Math.max(1, Math.ceil((bounds.north - bounds.south) / cellLatDeg)),
  };
}

/**
 * The grid grown by whole cells to cover `bounds` as well: the same cell size and lattice, so
 * each cell keeps its ground; its number changes only as the columns and the origin move
 * (renumberCell). A grid that already covers the bounds is returned as it is.
 */
export function growGrid(grid: PartitionGrid, bounds: GeoBounds): PartitionGrid {
  const eps = 1e-9;
  const west = Math.max(0, Math.ceil((grid.origin.lon - bounds.west) / grid.cellLonDeg - eps));
  const south = Math.max(0, Math.ceil((grid.origin.lat - bounds.south) / grid.cellLatDeg - eps));
  const origin = { lat: grid.origin.lat - south * grid.cellLatDeg, lon: grid.origin.lon - west * grid.cellLonDeg };
  return {
    cellSizeM: grid.cellSizeM,
    origin,
    cellLatDeg: grid.cellLatDeg,
    cellLonDeg: grid.cellLonDeg,
    cols: Math.max(grid.cols + west, Math.ceil((bounds.east - origin.lon) / grid.cellLonDeg - eps)),
    rows: Math.max(grid.rows + south, Math.ceil((bounds.north - origin.lat) / grid.cellLatDeg - eps)),
  };
}

/** A cell of `from` as numbered on `to`, a grid grown from it by growGrid. */
export function renumberCell(from: PartitionGrid, to: PartitionGrid, cell: number): number {
  const col = (cell % from.cols) + Math.round((from.origin.lon - to.origin.lon) / from.cellLonDeg);
  const row = Math.floor(cell / from.cols) + Math.round((from.origin.lat - to.origin.lat) / from.cellLatDeg);
  return row * to.cols + col;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The cell holding a point; points on or past the grid's edge go to the nearest edge cell. */
export function cellOf(grid: PartitionGrid, p: LatLon): number {
  const col = clamp(Math.floor((p.lon - grid.origin.lon) / grid.cellLonDeg), 0, grid.cols - 1);
  const row = clamp(Math.floor((p.lat - grid.origin.lat) / grid.cellLatDeg), 0, grid.rows - 1);
  return row * grid.cols + col;
}

export function cellBounds(grid: PartitionGrid, cell: number): GeoBounds {
  const row = Math.floor(cell / grid.cols);
  const col = cell % grid.cols;
  const west = grid.origin.lon + col * grid.cellLonDeg;
  const south = grid.origin.lat + row * grid.cellLatDeg;
  return { west, south, east: west + grid.cellLonDeg, north: south + grid.cellLatDeg };
}

/** Cells whose box comes within the region's radius of its centre. */
export function cellsTouching(grid: PartitionGrid, region: SearchRegion): number[] {
  const reach = region.radiusM + TOUCH_MARGIN_M + TOUCH_MARGIN_FRACTION * region.radiusM;
  const reachLat = reach / METERS_PER_DEGREE;
  const reachLon = reach / metersPerDegreeLon(Math.abs(region.lat) + reachLat);
  const rowOf = (lat: number) => Math.floor((lat - grid.origin.lat) / grid.cellLatDeg);
  const colOf = (lon: number) => Math.floor((lon - grid.origin.lon) / grid.cellLonDeg);
  const rowLo = Math.max(0, rowOf(region.lat - reachLat));
  const rowHi = Math.min(grid.rows - 1, rowOf(region.lat + reachLat));
  const colLo = Math.max(0, colOf(region.lon - reachLon));
  const colHi = Math.min(grid.cols - 1, colOf(region.lon + reachLon));
  const cells: number[] = [];
  for (let row = rowLo; row <= rowHi; row++) {
    for (let col = colLo; col <= colHi; col++) {
      const cell = row * grid.cols + col;
      const b = cellBounds(grid, cell);
      const nearest = { lat: clamp(region.lat, b.south, b.north), lon: clamp(region.lon, b.west, b.east) };
      if (haversineMeters(region, nearest) <= reach) cells.push(cell);
    }
  }
  return cells;
}

/** Items by the cell holding each, in their order. */
export function groupByCell<T extends LatLon>(grid: PartitionGrid, items: T[]): Map<number, T[]> {
  const cells = new Map<number, T[]>();
  for (const item of items) {
    const cell = cellOf(grid, item);
    const members = cells.get(cell);
    if (members) members.push(item);
    else cells.set(cell, [item]);
  }
  return cells;
}

/** The box around all boxes (a loop: spreading a million tiles into Math.min overflows the stack). */
export function unionBounds(all: GeoBounds[]): GeoBounds {
  const union = { west: Infinity, south: Infinity, east: -Infinity, north: -Infinity };
  for (const b of all) {
    union.west = Math.min(union.west, b.west);
    union.south = Math.min(union.south, b.south);
    union.east = Math.max(union.east, b.east);
    union.north = Math.max(union.north, b.north);
  }
  return union;
}

export function regionContains(region: SearchRegion, p: LatLon): boolean {
  return haversineMeters(region, p) <= region.radiusM;
}
