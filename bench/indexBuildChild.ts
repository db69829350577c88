/**
 * One index build in its own process, for bench/index-build.ts: its peak RSS is the build's
 * alone, and the bench can kill it partway. Prints `progress <done> <total>` lines as tiles
 * are read and, at the end, `result <json>` with the time split and the peak RSS.
 *
 * usage: node dist/bench/indexBuildChild.js '<BuildIndexOptions as JSON>'
 */
import { performance } from 'node:perf_hooks';
import { buildIndex, type BuildIndexOptions } from '../models/buildIndex';
import type { BuildTiming } from '../models/embedCell';

const KIB = 1024;
const PROGRESS_EVERY = 200;

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as BuildIndexOptions;
  let timing: BuildTiming | undefined;
  let resumed = 0;
  const started = performance.now();
  const manifest = await buildIndex({
    ...options,
    log: (line) => process.stderr.write(line + '\n'),
    onProgress: (done, total, fromEarlierRun) => {
      resumed = fromEarlierRun;
      if (done % PROGRESS_EVERY === 0 || done === total) process.stdout.write(`progress ${done} ${total}\n`);
    },
    onTiming: (t) => (timing = t),
  });
  const seconds = (performance.now() - started) / 1000;
  const result = { tiles: manifest.tiles, build: manifest.build, seconds, resumed, timing, peakRssBytes: process.resourceUsage().maxRSS * KIB };
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
