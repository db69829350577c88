import { haversineMeters } from '../pipeline/geo/wgs84';
import { cellBounds, cellOf, cellsTouching, growGrid, makeGrid, regionContains, renumberCell, unionBounds } from './partition';
import { mulberry32 } from '../pipeline/core/random';

const bounds = { west: 22.45, south: 60.39, east: 22.53, north: 60.43 };
const SAMPLES_PER_SIDE = 16;

describe('partition grid', () => {
  const grid = makeGrid(bounds, 500);

  test('cells are about cellSizeM on a side and cover the bounds', () => {
    const b = cellBounds(grid, 0);
    const midLat = (b.south + b.north) / 2;
    expect(haversineMeters({ lat: midLat, lon: b.west }, { lat: midLat, lon: b.east })).toBeCloseTo(500, -1);
    expect(haversineMeters({ lat: b.south, lon: b.west }, { lat: b.north, lon: b.west })).toBeCloseTo(500, -1);
    const last = cellBounds(grid, grid.cols * grid.rows - 1);
    expect(last.east).toBeGreaterThanOrEqual(bounds.east);
    expect(last.north).toBeGreaterThanOrEqual(bounds.north);
  });

  test('cellOf puts a point in the cell whose box holds it, and clamps points past the edge', () => {
    const random = mulberry32(3);
    for (let i = 0; i < 200; i++) {
      const p = { lat: bounds.south + random() * (bounds.north - bounds.south), lon: bounds.west + random() * (bounds.east - bounds.west) };
      const b = cellBounds(grid, cellOf(grid, p));
      expect(p.lat >= b.south && p.lat <= b.north && p.lon >= b.west && p.lon <= b.east).toBe(true);
    }
    expect(cellOf(grid, { lat: bounds.south - 1, lon: bounds.west - 1 })).toBe(0);
    expect(cellOf(grid, { lat: bounds.north + 1, lon: bounds.east + 1 })).toBe(grid.cols * grid.rows - 1);
  });

  test('cellsTouching finds every cell with a point in the circle, and only cells near it', () => {
    const random = mulberry32(5);
    for (let trial = 0; trial < 15; trial++) {
      const region = {
        lat: bounds.south + random() * (bounds.north - bounds.south),
        lon: bounds.west + random() * (bounds.east - bounds.west),
        radiusM: 50 + random() * 1200,
      };
      const touched = new Set(cellsTouching(grid, region));
      for (let cell = 0; cell < grid.cols * grid.rows; cell++) {
        const b = cellBounds(grid, cell);
        let anyInside = false;
        for (let i = 0; i <= SAMPLES_PER_SIDE && !anyInside; i++) {
          for (let j = 0; j <= SAMPLES_PER_SIDE && !anyInside; j++) {
            anyInside = regionContains(region, { lat: b.south + ((b.north - b.south) * i) / SAMPLES_PER_SIDE, lon: b.west + ((b.east - b.west) * j) / SAMPLES_PER_SIDE });
          }
        }
        if (anyInside) expect(touched.has(cell)).toBe(true);
        if (touched.has(cell)) {
          const nearest = { lat: Math.min(b.north, Math.max(b.south, region.lat)), lon: Math.min(b.east, Math.max(b.west, region.lon)) };
          expect(haversineMeters(region, nearest)).toBeLessThanOrEqual(region.radiusM * 1.01 + 2);
        }
      }
    }
  });

  test('a small circle inside one cell touches that cell alone; one off the grid touches none', () => {
    const b = cellBounds(grid, 7);
    const centre = { lat: (b.south + b.north) / 2, lon: (b.west + b.east) / 2 };
    expect(cellsTouching(grid, { ...centre, radiusM: 100 })).toEqual([7]);
    expect(cellsTouching(grid, { lat: 10, lon: 10, radiusM: 1000 })).toEqual([]);
  });

  test('unionBounds handles more boxes than a call can take arguments (no argument spreading)', () => {
    const boxes = Array.from({ length: 300_000 }, (_, i) => ({ west: i, south: -i, east: i + 1, north: 1 }));
    expect(unionBounds(boxes)).toEqual({ west: 0, south: -299_999, east: 300_000, north: 1 });
  });

  test('a grown grid covers the new bounds and each old cell keeps its ground under its new number', () => {
    const wider = { west: bounds.west - 0.013, south: bounds.south - 0.006, east: bounds.east + 0.02, north: bounds.north };
    const grown = growGrid(grid, wider);
    expect(grown.cols).toBeGreaterThan(grid.cols + 2);
    expect(grown.rows).toBeGreaterThan(grid.rows);
    const last = cellBounds(grown, grown.cols * grown.rows - 1);
    expect(cellBounds(grown, 0).west).toBeLessThanOrEqual(wider.west);
    expect(cellBounds(grown, 0).south).toBeLessThanOrEqual(wider.south);
    expect(last.east).toBeGreaterThanOrEqual(wider.east);
    for (let cell = 0; cell < grid.cols * grid.rows; cell++) {
      const was = cellBounds(grid, cell);
      const now = cellBounds(grown, renumberCell(grid, grown, cell));
      for (const side of ['west', 'south', 'east', 'north'] as const) expect(now[side]).toBeCloseTo(was[side], 10);
      expect(renumberCell(grown, grid, renumberCell(grid, grown, cell))).toBe(cell);
    }
    expect(growGrid(grid, bounds)).toEqual(grid);
  });
});
