/**
 * Track filter update cost and accuracy against particle count and candidates per fix, on
 * the simulated flight of tests/support/trackingSimulation.ts (3 minutes at 5 Hz).
 *
 * Every configuration replays the same measurements through a fresh TrackFilter; each
 * update is timed on its own. Reported: update latency p50/p95/p99, updates per second,
 * the ratio of each to the baseline (the first particle count, same k) measured in the same
 * run, and the smoothed error p50/p95 and 95%-radius coverage each configuration reaches.
 *
 * usage: node dist/bench/tracking.js [--particles 500,2000,3000,5000] [--k 10,20]
 *                                     [--seed 1] [--rounds 3] [--out bench/results/tracking.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { repoRoot } from '../pipeline/core/paths';
import { summarize } from '../pipeline/core/stats';
import { DEFAULT_SIMULATION, scoreTrack, simulateFlight, type SimulatedFix } from '../tests/support/trackingSimulation';
import { TrackFilter } from '../pipeline/tracking/trackFilter';

const MS_PER_S = 1000;
/** The simulated camera's field of view, so altitude telemetry is read as the simulation meant it. */
const CAMERA_FOV_DEG = (2 * Math.atan(DEFAULT_SIMULATION.cameraFootprintM / (2 * DEFAULT_SIMULATION.altitudeM)) * 180) / Math.PI;

interface Result {
  particles: number;
  k: number;
  updateMs: { p50: number; p95: number; p99: number; mean: number };
  updatesPerS: number;
  errorM: { p50: number; p95: number };
  coverage: number;
}

function percentiles(values: number[]): Result['updateMs'] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), mean: values.reduce((s, v) => s + v, 0) / values.length };
}

/** Replays `fixes` `rounds` times (the first warms the JIT and is dropped from the timings if there are more). */
function benchOne(fixes: SimulatedFix[], particles: number, k: number, seed: number, rounds: number): Result {
  const times: number[] = [];
  let score = scoreTrack(fixes, () => undefined);
  for (let round = 0; round < rounds; round++) {
    const filter = new TrackFilter({ particles, seed, cameraFovDeg: CAMERA_FOV_DEG });
    const roundTimes: number[] = [];
    score = scoreTrack(fixes, (m) => {
      const start = performance.now();
      const estimate = filter.update(m);
      roundTimes.push(performance.now() - start);
      return estimate;
    });
    if (round > 0 || rounds === 1) times.push(...roundTimes);
  }
  const updateMs = percentiles(times);
  const errors = summarize(score.errors);
  return { particles, k, updateMs, updatesPerS: MS_PER_S / updateMs.mean, errorM: { p50: errors.p50, p95: errors.p95 }, coverage: score.coverage };
}

function table(results: Result[]): string {
  const header = ['k', 'particles', 'p50 ms', 'p95 ms', 'p99 ms', 'updates/s', 'p50 ×base', 'p99 ×base', 'err p50 m', 'err p95 m', 'coverage'];
  const fmt = (x: number, digits: number) => x.toFixed(digits);
  const rows = results.map((r) => {
    const base = results.find((b) => b.k === r.k)!;
    return [
      String(r.k),
      String(r.particles),
      fmt(r.updateMs.p50, 3),
      fmt(r.updateMs.p95, 3),
      fmt(r.updateMs.p99, 3),
      fmt(r.updatesPerS, 0),
      fmt(r.updateMs.p50 / base.updateMs.p50, 2),
      fmt(r.updateMs.p99 / base.updateMs.p99, 2),
      fmt(r.errorM.p50, 1),
      fmt(r.errorM.p95, 1),
      fmt(r.coverage, 3),
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((cell, c) => cell.padStart(widths[c]!)).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      particles: { type: 'string', default: '500,2000,3000,5000' },
      k: { type: 'string', default: '10,20' },
      seed: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      out: { type: 'string', default: join(repoRoot(), 'bench', 'results', 'tracking.json') },
    },
  });
  const counts = values.particles.split(',').map(Number);
  const ks = values.k.split(',').map(Number);
  const seed = Number(values.seed);
  const rounds = Number(values.rounds);
  const results: Result[] = [];
  for (const k of ks) {
    const fixes = simulateFlight({ seed, k });
    for (const particles of counts) results.push(benchOne(fixes, particles, k, seed, rounds));
  }
  const text = [
    `track filter update latency, simulated flight seed ${seed} (${DEFAULT_SIMULATION.durationS} s at ${DEFAULT_SIMULATION.rateHz} Hz), ${rounds} rounds (first dropped as warm-up)`,
    `ratios are against ${counts[0]} particles with the same k, measured in this run`,
    '',
    table(results),
  ].join('\n');
  process.stdout.write(text + '\n');
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), seed, rounds, results }, null, 2) + '\n');
  process.stderr.write(`[bench] results in ${values.out}\n`);
}

main();
