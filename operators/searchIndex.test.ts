import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { writeIndex } from '../models/indexWriter';
import { SatelliteIndex } from '../models/satelliteIndex';
import { haversineMeters } from '../pipeline/geo/wgs84';
import type { Frame } from '../pipeline/core/types';
import { runArtifactsDir } from '../tests/support/testVideos';
import { searchIndex } from './searchIndex';
import type { SearchRegion } from '../pipeline/core/types';
import { mulberry32 } from '../pipeline/core/random';

const DIM = 16;
const GRID = 8;
const SPACING_DEG = 0.002;
const FOOTPRINT_M = 150;

/** A real FAISS index of GRID×GRID tiles on a lattice, each with its own random unit vector. */
async function latticeIndex(dir: string): Promise<Float32Array> {
  const random = mulberry32(5);
  const tiles = Array.from({ length: GRID * GRID }, (_, i) => {
    const lat = 46 + Math.floor(i / GRID) * SPACING_DEG;
    const lon = 7 + (i % GRID) * SPACING_DEG;
    return { lat, lon, footprintM: FOOTPRINT_M, scale: 0, bounds: { west: lon - 0.0005, east: lon + 0.0005, south: lat - 0.0005, north: lat + 0.0005 } };
  });
  const vectors = new Float32Array(tiles.length * DIM);
  for (let t = 0; t < tiles.length; t++) {
    const row = vectors.subarray(t * DIM, (t + 1) * DIM);
    for (let j = 0; j < DIM; j++) row[j] = random() - 0.5;
    const norm = Math.hypot(...row);
    row.forEach((v, j) => (row[j] = v / norm));
  }
  const bounds = { west: 7, east: 7 + GRID * SPACING_DEG, south: 46, north: 46 + GRID * SPACING_DEG };
  await writeIndex(dir, {
    model: { sha256: 'lattice-test', dim: DIM, backbone: 'none', inputSize: [8, 8] },
    scales: [{ altitudeM: 100, footprintM: FOOTPRINT_M, strideM: FOOTPRINT_M }],
    settings: { altitudesM: [100], overlap: 0, cellSizeM: 300 },
    imagery: { path: 'none', crs: 'EPSG:4326', bounds, width: 1, height: 1, metersPerPixel: 1, images: 1, fingerprint: 'none' },
    tiles,
    vectors,
  });
  return vectors;
}

describe('searchIndex against a real FAISS index', () => {
  let index: SatelliteIndex;
  let batch: { frames: Frame[]; embedding: { n: number; dim: number; descriptors: Float32Array; provider: 'cpu'; inferenceMs: number } };
  const chosen = [3, 27, 60];

  beforeAll(async () => {
    const dir = join(runArtifactsDir('search-index'), 'lattice');
    rmSync(dir, { recursive: true, force: true });
    const vectors = await latticeIndex(dir);
    index = await SatelliteIndex.open(dir);
    // each query is the stored vector of a tile, as an embedding of exactly that view would be
    const descriptors = new Float32Array(chosen.length * DIM);
    for (const [i, id] of chosen.entries()) {
      const tile = index.tiles.find((t) => t.lat === 46 + Math.floor(id / GRID) * SPACING_DEG && t.lon === 7 + (id % GRID) * SPACING_DEG)!;
      descriptors.set(vectors.subarray(id * DIM, (id + 1) * DIM), i * DIM);
      chosen[i] = tile.id;
    }
    const frames: Frame[] = chosen.map((_, i) => ({ index: 10 + i, t: (10 + i) / 5, width: 1, height: 1, format: 'rgb24', pixels: Buffer.alloc(3) }));
    batch = { frames, embedding: { n: chosen.length, dim: DIM, descriptors, provider: 'cpu', inferenceMs: 0 } };
  });
  afterAll(() => index?.close());

  test('one measurement per frame, in order, top-k sorted, carrying frame time and telemetry priors', async () => {
    const k = 5;
    const out = await lastValueFrom(from([batch]).pipe(searchIndex(index, { k, region: () => undefined, priors: (f) => ({ altitudeM: 100 + f.index, headingDeg: 90 }) }), toArray()));
    expect(out.map((m) => m.frame)).toEqual([10, 11, 12]);
    out.forEach((m, i) => {
      expect(m.t).toBeCloseTo((10 + i) / 5, 9);
      expect(m).toMatchObject({ altitudeM: 110 + i, headingDeg: 90 });
      expect(m.source).toBe(batch.frames[i]);
      expect(m.candidates).toHaveLength(k);
      expect(m.candidates[0]).toMatchObject({ tileId: chosen[i], footprintM: FOOTPRINT_M });
      expect(m.candidates[0]!.score).toBeCloseTo(1, 5);
      const scores = m.candidates.map((c) => c.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });
  });

  test('each frame is searched in the region read just before it; undefined searches globally', async () => {
    const far = index.tiles.find((t) => t.id !== chosen[0] && t.id !== chosen[1] && t.id !== chosen[2])!;
    const region: SearchRegion = { lat: far.lat, lon: far.lon, radiusM: 250 };
    // restricted for the first batch's three frames, then global
    let reads = 0;
    const readRegion = () => (reads++ < chosen.length ? region : undefined);
    const out = await lastValueFrom(from([batch, batch]).pipe(searchIndex(index, { k: 3, region: readRegion, globalTopK: true }), toArray()));
    expect(reads).toBe(2 * chosen.length);
    for (const [i, m] of out.entries()) expect(m.globalTopK?.[0]?.tileId).toBe(chosen[i % chosen.length]);
    // the global top-k is the batch's one global search: a frame searched globally takes its row
    for (const m of out) expect(m.globalTopK).toHaveLength(3);
    for (const m of out.slice(3)) expect(m.candidates).toEqual(m.globalTopK);
    for (const m of out.slice(0, 3)) {
      expect(m.searchRegion).toEqual(region);
      expect(m.candidates.length).toBeGreaterThan(0);
      for (const c of m.candidates) expect(haversineMeters(c, region)).toBeLessThanOrEqual(region.radiusM);
    }
    expect(out.slice(3).map((m) => m.candidates[0]!.tileId)).toEqual(chosen);
    for (const m of out.slice(3)) expect(m).not.toHaveProperty('searchRegion');
  });

  test('a frame is searched only after the measurement before it was consumed', async () => {
    const order: string[] = [];
    await lastValueFrom(
      from([batch]).pipe(
        searchIndex(index, { k: 1, region: () => (order.push('search'), undefined) }),
        map((m) => order.push(`consumed ${m.frame}`)),
        toArray(),
      ),
    );
    expect(order).toEqual(['search', 'consumed 10', 'search', 'consumed 11', 'search', 'consumed 12']);
  });

  test('a query of the wrong dimension fails with GEOLOC_ERR_INDEX_DIM_MISMATCH', async () => {
    const wrong = { frames: batch.frames.slice(0, 1), embedding: { ...batch.embedding, n: 1, dim: DIM + 1, descriptors: new Float32Array(DIM + 1) } };
    await expect(lastValueFrom(from([wrong]).pipe(searchIndex(index, { k: 3, region: () => undefined })))).rejects.toMatchObject({ code: 'GEOLOC_ERR_INDEX_DIM_MISMATCH' });
  });
});
