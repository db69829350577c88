/**
 * Satellite-index search latency per query, flat against geographically partitioned,
 * on synthetic tiles (random unit vectors on a regular ground grid) at several sizes.
 *
 *   flat          one IndexFlatIP over every tile (the baseline: one cell)
 *   part/global   the partitioned index searched everywhere (every cell, merged)
 *   part/region   the partitioned index searched near a track point (cells the circle touches)
 *
 * Every query goes through SatelliteIndex.search, so the worker round trip is included, one
 * query per call as the live pipeline asks. Reported: build (write) and open times, latency
 * p50/p95/p99 per mode and the ratio of each to flat measured in the same run.
 *
 * usage: node dist/bench/index-search.js [--sizes 1e4,1e5,1e6] [--dim 256] [--queries 200]
 *                                         [--k 10] [--radius 1000] [--cell-size 1500]
 *                                         [--spacing 50] [--out bench/results/index-search.json]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { METERS_PER_DEGREE } from '../pipeline/geo/wgs84';
import { repoRoot } from '../pipeline/core/paths';
import { percentile } from '../pipeline/core/stats';
import { writeIndex, type TileGeometry } from '../models/indexWriter';
import { cellsTouching } from '../models/partition';
import { SatelliteIndex } from '../models/satelliteIndex';
import type { SearchRegion } from '../pipeline/core/types';
import { mulberry32 } from '../pipeline/core/random';

const ORIGIN = { lat: 47, lon: 8 };
const FALLBACK_DIM = 256;
/** A cell size no grid here reaches: the whole index is one cell, i.e. flat. */
const ONE_CELL_M = 1e9;
const WARMUP_QUERIES = 5;
const SEED = 20_240_601;
const MS_PER_S = 1000;

interface Latency {
  p50: number;
  p95: number;
  p99: number;
}

interface SizeResult {
  tiles: number;
  cells: number;
  buildFlatS: number;
  buildPartitionedS: number;
  openFlatS: number;
  openPartitionedS: number;
  flat: Latency;
  partitionedGlobal: Latency;
  partitionedRegion: Latency;
  regionCellsMean: number;
  regionTilesMean: number;
}

/** The default model's dimension when it is there, else FALLBACK_DIM. */
function defaultDim(): { dim: number; source: string } {
  const json = join(repoRoot(), 'fixtures', 'model', 'model.json');
  if (existsSync(json)) return { dim: (JSON.parse(readFileSync(json, 'utf8')) as { dim: number }).dim, source: 'fixtures/model/model.json' };
  return { dim: FALLBACK_DIM, source: 'fallback (fixtures/model/model.json absent)' };
}

/** n unit vectors of `dim` floats from a seeded Gaussian (Box–Muller). */
function unitVectors(n: number, dim: number, random: () => number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const theta = 2 * Math.PI * random();
    out[i] = r * Math.cos(theta);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(theta);
  }
  for (let v = 0; v < n; v++) {
    const row = out.subarray(v * dim, (v + 1) * dim);
    let norm = 0;
    for (const x of row) norm += x * x;
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) row[j]! *= scale;
  }
  return out;
}

/** Tiles on a square ground grid, `spacingM` apart, each a `spacingM`-wide footprint. */
function gridTiles(n: number, spacingM: number): TileGeometry[] {
  const side = Math.ceil(Math.sqrt(n));
  const degLat = spacingM / METERS_PER_DEGREE;
  const degLon = degLat / Math.cos((ORIGIN.lat * Math.PI) / 180);
  return Array.from({ length: n }, (_, i) => {
    const lat = ORIGIN.lat + Math.floor(i / side) * degLat;
    const lon = ORIGIN.lon + (i % side) * degLon;
    return { lat, lon, footprintM: spacingM, scale: 0, bounds: { west: lon - degLon / 2, south: lat - degLat / 2, east: lon + degLon / 2, north: lat + degLat / 2 } };
  });
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / MS_PER_S };
}

/** Per-query latency (ms) of `search` over every query, after a warm-up. */
async function latency(index: SatelliteIndex, queries: Float32Array, dim: number, k: number, regions?: SearchRegion[]): Promise<Latency> {
  const count = queries.length / dim;
  const run = (q: number) => index.search(queries.subarray(q * dim, (q + 1) * dim), 1, k, regions?.[q]);
  for (let q = 0; q < Math.min(WARMUP_QUERIES, count); q++) await run(q);
  const ms: number[] = [];
  for (let q = 0; q < count; q++) {
    const started = performance.now();
    await run(q);
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99) };
}

async function benchSize(n: number, o: { dim: number; queries: number; k: number; radiusM: number; cellSizeM: number; spacingM: number; tmp: string }): Promise<SizeResult> {
  const random = mulberry32(SEED + n);
  process.stderr.write(`[bench] ${n} tiles: generating ${n}×${o.dim} unit vectors\n`);
  const vectors = unitVectors(n, o.dim, random);
  const tiles = gridTiles(n, o.spacingM);
  const queries = unitVectors(o.queries, o.dim, random);
  const content = (cellSizeM: number) => ({
    model: { sha256: 'synthetic', dim: o.dim, backbone: 'synthetic', inputSize: [0, 0] as [number, number] },
    scales: [{ altitudeM: 0, footprintM: o.spacingM, strideM: o.spacingM }],
    settings: { altitudesM: [0], overlap: 0, cellSizeM },
    imagery: { path: 'synthetic', crs: 'EPSG:4326', bounds: tiles[0]!.bounds, width: 0, height: 0, metersPerPixel: 0, images: 0, fingerprint: 'synthetic' },
    tiles,
    vectors,
  });

  process.stderr.write(`[bench] ${n} tiles: flat\n`);
  const flatDir = join(o.tmp, `flat-${n}`);
  const buildFlat = await timed(() => writeIndex(flatDir, content(ONE_CELL_M)));
  const openFlat = await timed(() => SatelliteIndex.open(flatDir));
  const flat = await latency(openFlat.value, queries, o.dim, o.k);
  await openFlat.value.close();
  rmSync(flatDir, { recursive: true, force: true });

  process.stderr.write(`[bench] ${n} tiles: partitioned (${o.cellSizeM} m cells)\n`);
  const partDir = join(o.tmp, `partitioned-${n}`);
  const buildPart = await timed(() => writeIndex(partDir, content(o.cellSizeM)));
  const openPart = await timed(() => SatelliteIndex.open(partDir));
  const index = openPart.value;
  // Track points at random tiles: what the pipeline asks near its current estimate.
  const regions = Array.from({ length: o.queries }, () => {
    const t = index.tiles[Math.floor(random() * index.tiles.length)]!;
    return { lat: t.lat, lon: t.lon, radiusM: o.radiusM };
  });
  const touched = regions.map((r) => cellsTouching(index.manifest.partition, r));
  const cellTiles = new Map<number, number>();
  for (const t of index.tiles) cellTiles.set(t.cell, (cellTiles.get(t.cell) ?? 0) + 1);
  const partitionedGlobal = await latency(index, queries, o.dim, o.k);
  const partitionedRegion = await latency(index, queries, o.dim, o.k, regions);
  const result: SizeResult = {
    tiles: n,
    cells: index.manifest.partition.cells,
    buildFlatS: buildFlat.seconds,
    buildPartitionedS: buildPart.seconds,
    openFlatS: openFlat.seconds,
    openPartitionedS: openPart.seconds,
    flat,
    partitionedGlobal,
    partitionedRegion,
    regionCellsMean: touched.reduce((s, c) => s + c.length, 0) / touched.length,
    regionTilesMean: touched.reduce((s, c) => s + c.reduce((t, cell) => t + (cellTiles.get(cell) ?? 0), 0), 0) / touched.length,
  };
  await index.close();
  rmSync(partDir, { recursive: true, force: true });
  return result;
}

const fmt = (v: number, digits = 2) => v.toFixed(digits);

function table(results: SizeResult[]): string {
  const header = ['tiles', 'cells', 'build flat s', 'build part s', 'open flat s', 'open part s', 'mode', 'p50 ms', 'p95 ms', 'p99 ms', 'p50 ÷ flat', 'p99 ÷ flat', 'cells read', 'tiles read'];
  const rows: string[][] = [];
  for (const r of results) {
    const modes: [string, Latency, string, string][] = [
      ['flat', r.flat, '1', String(r.tiles)],
      ['part/global', r.partitionedGlobal, String(r.cells), String(r.tiles)],
      ['part/region', r.partitionedRegion, fmt(r.regionCellsMean, 1), fmt(r.regionTilesMean, 0)],
    ];
    modes.forEach(([mode, l, cells, tiles], i) => {
      const lead = i === 0 ? [String(r.tiles), String(r.cells), fmt(r.buildFlatS, 1), fmt(r.buildPartitionedS, 1), fmt(r.openFlatS, 1), fmt(r.openPartitionedS, 1)] : ['', '', '', '', '', ''];
      rows.push([...lead, mode, fmt(l.p50, 3), fmt(l.p95, 3), fmt(l.p99, 3), fmt(l.p50 / r.flat.p50, 3), fmt(l.p99 / r.flat.p99, 3), cells, tiles]);
    });
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((cell, c) => cell.padStart(widths[c]!)).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1e4,1e5,1e6' },
      dim: { type: 'string' },
      queries: { type: 'string', default: '200' },
      k: { type: 'string', default: '10' },
      radius: { type: 'string', default: '1000' },
      'cell-size': { type: 'string', default: '1500' },
      spacing: { type: 'string', default: '50' },
      out: { type: 'string', default: join(repoRoot(), 'bench', 'results', 'index-search.json') },
    },
  });
  const { dim, source } = values.dim ? { dim: Number(values.dim), source: '--dim' } : defaultDim();
  const settings = { dim, queries: Number(values.queries), k: Number(values.k), radiusM: Number(values.radius), cellSizeM: Number(values['cell-size']), spacingM: Number(values.spacing) };
  const sizes = values.sizes.split(',').map(Number);
  const tmp = mkdtempSync(join(tmpdir(), 'geoloc-bench-index-'));
  const results: SizeResult[] = [];
  try {
    for (const n of sizes) results.push(await benchSize(n, { ...settings, tmp }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const text = [
    `index search latency per query, k=${settings.k}, one query per call through the index worker`,
    `dimension ${dim} (${source}); tiles ${settings.spacingM} m apart; partition cells ${settings.cellSizeM} m; region radius ${settings.radiusM} m; ${settings.queries} queries per mode`,
    '',
    table(results),
  ].join('\n');
  process.stdout.write(text + '\n');
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), dimension: dim, dimensionSource: source, settings, results }, null, 2) + '\n');
  process.stderr.write(`[bench] results in ${values.out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
