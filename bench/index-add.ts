/**
 * Adding a strip of imagery to an index against rebuilding the index from everything: the
 * fixture world (2 km, 0.8 m/px) cut by gdal_translate into a base (all but its east strip)
 * and the strip; the base built into an index once, then, alternating, the strip added to a
 * copy of it and the whole index built from base + strip at once. Both end with the same
 * tiles; the ratio add ÷ rebuild (wall time, medians over the rounds) is what an add saves,
 * with the cells each re-cuts.
 *
 * usage: node dist/bench/index-add.js [--strip 0.15] [--cell-size 250] [--rounds 2]
 *          [--workers 1] [--no-features] [--model fixtures/model/model.onnx] [--out bench/results/index-add.json]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { addImagery } from '../models/addImagery';
import { buildIndex } from '../models/buildIndex';
import { gdal } from '../models/gdal';
import type { IndexManifest } from '../models/indexFiles';
import { defaultModelPath } from '../models/modelInfo';
import { fixtureCacheDir, repoRoot } from '../pipeline/core/paths';
import { summarize } from '../pipeline/core/stats';

const MS_PER_S = 1000;

function run(tool: string, ...args: string[]): void {
  const result = spawnSync(tool, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${result.stderr}`);
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { seconds: (performance.now() - started) / MS_PER_S, result };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      strip: { type: 'string', default: '0.15' },
      'cell-size': { type: 'string', default: '250' },
      rounds: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1' },
      'no-features': { type: 'boolean', default: false },
      model: { type: 'string', default: defaultModelPath() },
      out: { type: 'string', default: join(repoRoot(), 'bench', 'results', 'index-add.json') },
    },
  });
  const work = join(repoRoot(), 'bench', 'results', 'index-add-data');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const world = join(fixtureCacheDir(), 'world', 'world.png');
  const { x: width, y: height } = gdal().open(world).rasterSize;
  const stripPx = Math.round(width * Number(values.strip));
  const base = join(work, 'base.tif');
  const strip = join(work, 'strip.tif');
  // the world's PNG has a world file in Web-Mercator metres
  run('gdal_translate', '-q', '-a_srs', 'EPSG:3857', '-srcwin', '0', '0', String(width - stripPx), String(height), world, base);
  run('gdal_translate', '-q', '-a_srs', 'EPSG:3857', '-srcwin', String(width - stripPx), '0', String(stripPx), String(height), world, strip);
  const settings = { modelPath: values.model!, cellSizeM: Number(values['cell-size']), workers: Number(values.workers), referenceFeatures: !values['no-features'], log: () => undefined };
  const baseIndex = join(work, 'base-index');
  const baseBuild = await timed(() => buildIndex({ ...settings, imagery: base, out: baseIndex }));
  process.stdout.write(`base: ${baseBuild.result.tiles} tiles in ${baseBuild.result.partition.cells} cells, built in ${baseBuild.seconds.toFixed(1)} s\n`);

  const adds: number[] = [];
  const rebuilds: number[] = [];
  let added: IndexManifest | undefined;
  let rebuilt: IndexManifest | undefined;
  let recut = 0;
  for (let round = 0; round < Number(values.rounds); round++) {
    const extended = join(work, `extended-${round}`);
    cpSync(baseIndex, extended, { recursive: true });
    let steps = 0;
    const add = await timed(() => addImagery({ ...settings, index: extended, imagery: strip, cellStep: async () => void steps++ }));
    recut = steps;
    const rebuild = await timed(() => buildIndex({ ...settings, imagery: [base, strip], out: join(work, `rebuilt-${round}`) }));
    adds.push(add.seconds);
    rebuilds.push(rebuild.seconds);
    added = add.result;
    rebuilt = rebuild.result;
    process.stdout.write(`round ${round + 1}: add ${add.seconds.toFixed(1)} s (${steps} cells re-cut), rebuild ${rebuild.seconds.toFixed(1)} s\n`);
  }
  const result = {
    world: { widthPx: width, heightPx: height, stripPx, stripShare: stripPx / width },
    cellSizeM: settings.cellSizeM,
    referenceFeatures: settings.referenceFeatures,
    tiles: { base: baseBuild.result.tiles, added: added!.tiles, rebuilt: rebuilt!.tiles },
    cells: { total: added!.partition.cells, recutByAdd: recut },
    addSeconds: adds,
    rebuildSeconds: rebuilds,
    ratioAddToRebuild: summarize(adds).p50 / summarize(rebuilds).p50,
  };
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    `add a ${(result.world.stripShare * 100).toFixed(0)}% strip: ${summarize(adds).p50.toFixed(1)} s (re-cut ${recut} of ${result.cells.total} cells), ` +
      `rebuild from both: ${summarize(rebuilds).p50.toFixed(1)} s; add ÷ rebuild ${result.ratioAddToRebuild.toFixed(2)} (tiles ${result.tiles.added} = ${result.tiles.rebuilt})\n`,
  );
  rmSync(work, { recursive: true, force: true });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
