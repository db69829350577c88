/**
 * Float feature matching per image pair at XFeat's size (2048 × 2048 unit 64-d descriptors,
 * seeded random): the exhaustive JavaScript double loop geoloc used before (the baseline)
 * against FeatureMatcher's ONNX Runtime GEMM screening with exact recomputation, measured in
 * the same run on the same pairs, interleaved so that load from elsewhere hits both alike.
 *
 *   old               tests/support/referenceMatching.ts, on this thread
 *   new/worker        FeatureWorker.match as `geoloc locate` calls it (round trip included,
 *                     ONNX Runtime's default intra-op threads)
 *   new/in-thread     FeatureMatcher on this thread (no worker round trip)
 *
 * Every pair's matches are checked equal to the baseline's. Reported: ms per pair p50/p95 and
 * old ÷ new.
 *
 * usage: node dist/bench/matching.js [--pairs 24] [--count 2048] [--out bench/results/matching.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DEFAULT_FLOAT_RATIO, FeatureMatcher, type Matches } from '../models/featureMatching';
import { FeatureWorker } from '../models/featureWorkerClient';
import type { LocalFeatures } from '../models/localFeatures';
import { XFEAT_DIM } from '../models/xfeat';
import { repoRoot } from '../pipeline/core/paths';
import { mulberry32 } from '../pipeline/core/random';
import { summarize, type Summary } from '../pipeline/core/stats';
import { randomUnitDescriptors, referenceFloatMatches } from '../tests/support/referenceMatching';

const SEED = 2048;
/** how far b's rows are moved from a's: most rows then have a mutual nearest, as real pairs do */
const PAIR_NOISE = 0.5;
const OPTIONS = { maxRatio: DEFAULT_FLOAT_RATIO };

function features(descriptors: Float32Array, count: number): LocalFeatures {
  return { count, dim: XFEAT_DIM, descriptors, keypoints: new Float32Array(2 * count), scores: new Float32Array(count) };
}

async function timed<T>(f: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await f();
  return { ms: performance.now() - t, value };
}

const same = (x: Matches, y: Matches) => x.count === y.count && x.a.every((v, k) => v === y.a[k]) && x.b.every((v, k) => v === y.b[k]);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: '24' },
      count: { type: 'string', default: '2048' },
      out: { type: 'string', default: join(repoRoot(), 'bench', 'results', 'matching.json') },
    },
  });
  const pairs = Number(values.pairs);
  const count = Number(values.count);
  const random = mulberry32(SEED);
  const worker = await FeatureWorker.start({ method: 'xfeat' });
  const matcher = await FeatureMatcher.load();
  const times: Record<'old' | 'new/worker' | 'new/in-thread', number[]> = { old: [], 'new/worker': [], 'new/in-thread': [] };
  let matches = 0;
  try {
    for (let p = 0; p < pairs; p++) {
      const a = randomUnitDescriptors(count, XFEAT_DIM, random);
      const noise = randomUnitDescriptors(count, XFEAT_DIM, random);
      const b = a.map((v, k) => v + PAIR_NOISE * noise[k]!);
      const old = await timed(() => referenceFloatMatches(a, count, b, count, XFEAT_DIM, OPTIONS));
      const viaWorker = await timed(() => worker.match(features(a, count), features(b, count), OPTIONS));
      const inProcess = await timed(() => matcher.match(features(a, count), features(b, count), OPTIONS));
      if (!same(old.value, viaWorker.value) || !same(old.value, inProcess.value)) throw new Error(`pair ${p}: the matches differ from the baseline's`);
      times.old.push(old.ms);
      times['new/worker'].push(viaWorker.ms);
      times['new/in-thread'].push(inProcess.ms);
      matches += old.value.count;
    }
  } finally {
    await worker.close();
    await matcher.release();
  }
  const summaries = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summarize(v)])) as Record<keyof typeof times, Summary>;
  const old = summaries.old;
  const lines = [`float matching, ${count} × ${count} × ${XFEAT_DIM}, ${pairs} pairs, ${Math.round(matches / pairs)} matches per pair (identical in all three)`];
  lines.push('mode            p50 ms   p95 ms   old÷new p50   old÷new p95');
  for (const [mode, s] of Object.entries(summaries)) {
    lines.push(`${mode.padEnd(14)} ${s.p50.toFixed(1).padStart(7)}  ${s.p95.toFixed(1).padStart(7)}  ${(old.p50 / s.p50).toFixed(1).padStart(11)}×  ${(old.p95 / s.p95).toFixed(1).padStart(11)}×`);
  }
  console.log(lines.join('\n'));
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), count, dim: XFEAT_DIM, pairs, summaries }, null, 2) + '\n');
  process.stderr.write(`[bench] results in ${values.out}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
