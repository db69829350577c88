/**
 * The fixture flight replayed against indexes of the same fixture world in several formats:
 * the PNG + world file, a COG in UTM, an MBTiles and an XYZ folder (written by
 * models/writeImagery), each built with the fixture index settings. The smoothed error and
 * the 95% radius coverage should agree within noise, since only the imagery's encoding, CRS
 * and resampling differ.
 *
 * usage: node dist/bench/formats-accuracy.js [--crs EPSG:32633] [--out bench/results/formats-accuracy.json]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildIndex } from '../models/buildIndex';
import { defaultModelPath } from '../models/modelInfo';
import { writeImagery, type ImageryFormat } from '../models/writeImagery';
import { DATASET_FOV_DEG, FIXTURE_INDEX_SETTINGS } from '../fixtures/defaults';
import { cachePaths } from '../fixtures/ensure';
import { fixtureCacheDir, repoRoot } from '../pipeline/core/paths';

/** the demo's pipeline settings (pipeline/commands/demo.ts) */
const DEMO_CONFIG = { k: 5, tracker: { cameraFovDeg: DATASET_FOV_DEG } };

interface Row {
  format: string;
  tiles: number;
  p50: number;
  p95: number;
  coverage: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      crs: { type: 'string', default: 'EPSG:32633' },
      out: { type: 'string', default: join(repoRoot(), 'bench', 'results', 'formats-accuracy.json') },
    },
  });
  const work = join(repoRoot(), 'bench', 'results', 'formats-accuracy');
  mkdirSync(work, { recursive: true });
  const cache = cachePaths(fixtureCacheDir());
  const flight = join(fixtureCacheDir(), 'flight');
  const configPath = join(work, 'config.json');
  writeFileSync(configPath, JSON.stringify(DEMO_CONFIG));
  const sources: [string, string][] = [['png', cache.worldImage]];
  for (const [format, name] of [['cog', 'world-utm.cog.tif'], ['mbtiles', 'world.mbtiles'], ['xyz', 'world-xyz']] as [ImageryFormat, string][]) {
    const path = join(work, name);
    await writeImagery(cache.worldImage, path, format, { sourceCrs: 'EPSG:3857', ...(format === 'cog' ? { crs: values.crs } : {}) });
    sources.push([format === 'cog' ? `cog ${values.crs}` : format, path]);
  }
  const rows: Row[] = [];
  for (const [format, imagery] of sources) {
    const index = join(work, `index-${format.split(' ')[0]}`);
    const manifest = await buildIndex({ imagery, modelPath: defaultModelPath(), out: index, ...FIXTURE_INDEX_SETTINGS, altitudesM: [...FIXTURE_INDEX_SETTINGS.altitudesM], log: () => undefined });
    const report = join(work, `report-${format.split(' ')[0]}.json`);
    const run = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'pipeline', 'cli.js'), 'replay', join(flight, 'flight.mp4'), '--telemetry', join(flight, 'flight.srt'), '--index', index, '--config', configPath, '--report', report], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (run.status !== 0) throw new Error(`replay against ${index} failed`);
    const r = JSON.parse(readFileSync(report, 'utf8')) as { errorMeters: { p50: number; p95: number }; coverage95: number };
    rows.push({ format, tiles: manifest.tiles, p50: r.errorMeters.p50, p95: r.errorMeters.p95, coverage: r.coverage95 });
    process.stdout.write(`${format.padEnd(18)} ${String(manifest.tiles).padStart(6)} tiles  smoothed error p50 ${r.errorMeters.p50.toFixed(1)} m, p95 ${r.errorMeters.p95.toFixed(1)} m, 95% radius holds the truth ${(100 * r.coverage95).toFixed(1)}%\n`);
  }
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify({ rows }, null, 2) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
