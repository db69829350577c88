/**
 * Replay throughput of the whole pipeline (decode → preprocess → batch → embed → search →
 * track) against raw ONNX Runtime throughput of the same model at the same batch size on the
 * same machine, measured in one run. Target: ratio ≥ 0.9.
 *
 *   node dist/bench/replay-throughput.js [--video v.mp4 --telemetry v.srt --index dir --model m.onnx]
 *        [--batch 8] [--fps 5] [--workers auto|N] [--threads N] [--rounds 3] [--hfov 70] [--no-register]
 *        [--out replay-throughput.json]   (written under bench/results/)
 *
 * Raw baseline, the better of two, so that no pipeline layout can flatter itself:
 * - one InferenceSession in this thread with ONNX Runtime's own thread count (all cores) and the
 *   pipeline's session options, running batches of fixed input back to back (no decode, no
 *   search);
 * - when the pipeline's layout differs (--workers, --threads), the embedder pool in that layout
 *   fed the same way, two batches per worker in flight.
 * Pipeline: `replay` of the video, lossless, fixes/s over its wall time, each frame registered
 * against the map unless --no-register (the ratio's target is for retrieval only: registration
 * adds its own work per frame, reported as registration ms per frame). The process is set up as
 * `geoloc replay` sets itself up (openLocalizer): a lossless read makes it a batch job
 * (SCHED_BATCH), so the raw baseline measured after it runs under that policy too. Each is measured
 * `rounds` times, interleaved; the ratio of each round is its pipeline figure over its best raw
 * figure (the machine's speed drifts between rounds), and the median ratio is reported.
 * Each round also says where the replay's CPU went besides the model (bench/cpuSplit.ts): the
 * decoder, the main thread and its GC pauses, against the core-seconds the replay had.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import '../models/ortEnvironment';
import * as ort from 'onnxruntime-node';
import type { EmbedderPool } from '../models/embedderPool';
import { embedderSessionOptions } from '../models/sessionOptions';
import { imageTensorLength } from '../models/tensor';
import { openLocalizer } from '../pipeline/session';
import { silentLogger, stderrLogger } from '../pipeline/core/log';
import { repoRoot } from '../pipeline/core/paths';
import { BATCHES_IN_FLIGHT_PER_WORKER } from '../pipeline/localize';
import { replay } from '../pipeline/replay';
import type { ReplayReport } from '../pipeline/replayReport';
import { percentile } from '../pipeline/core/stats';
import { type CpuSplit, measureCpuSplit } from './cpuSplit';
import { FIXTURE_CAMERA, demoPaths } from '../fixtures/defaults';
import { configFromArgs } from '../pipeline/pipelineArgs';

const TARGET_RATIO = 0.9;
const WARMUP_BATCHES = 3;

function fixedInput(batch: number, inputSize: [number, number]): Float32Array {
  const input = new Float32Array(batch * imageTensorLength({ inputSize }));
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i);
  return input;
}

async function rawSessionImagesPerSecond(modelPath: string, batch: number, inputSize: [number, number], images: number): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath, embedderSessionOptions('cpu'));
  const [h, w] = inputSize;
  // the model's one image input (embedWorker.ts names it; importing that module would start a worker)
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', fixedInput(batch, inputSize), [batch, 3, h, w]) };
  for (let i = 0; i < WARMUP_BATCHES; i++) await session.run(feeds);
  const runs = Math.max(1, Math.round(images / batch));
  const started = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds);
  const seconds = (performance.now() - started) / 1000;
  await session.release();
  return (runs * batch) / seconds;
}

async function rawPoolImagesPerSecond(pool: EmbedderPool, batch: number, images: number, workers: number): Promise<number> {
  const input = fixedInput(batch, pool.info.inputSize);
  const inFlight = workers * BATCHES_IN_FLIGHT_PER_WORKER;
  await Promise.all(Array.from({ length: inFlight }, () => pool.embed(input, batch)));
  const runs = Math.max(1, Math.round(images / batch));
  let started = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started < runs) {
        started += 1;
        await pool.embed(input, batch);
      }
    }),
  );
  return (runs * batch) / ((performance.now() - began) / 1000);
}

/** Where a replay's CPU went besides the model: what the ratio's shortfall is made of. */
function describeCpu(cpu: CpuSplit): string {
  const seconds = (s: number | undefined) => (s === undefined ? 'n/a' : `${s.toFixed(2)} s`);
  const cores = availableParallelism();
  return (
    `${cpu.processS.toFixed(1)} s in this process (of ${(cpu.wallS * cores).toFixed(1)} core-s on ${cores} cores), decoder ${seconds(cpu.childrenS)}, ` +
    `main thread ${seconds(cpu.mainThreadS)} with ${seconds(cpu.gcPauseS)} of GC pauses (${cpu.majorGcs} major)`
  );
}

async function main(): Promise<void> {
  const demo = demoPaths();
  const { values } = parseArgs({
    options: {
      video: { type: 'string', default: demo.video },
      telemetry: { type: 'string', default: demo.telemetry },
      index: { type: 'string', default: demo.index },
      model: { type: 'string', default: demo.model },
      batch: { type: 'string', default: '8' },
      fps: { type: 'string' },
      workers: { type: 'string' },
      threads: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      out: { type: 'string', default: 'replay-throughput.json' },
      hfov: { type: 'string', default: String(FIXTURE_CAMERA.hfovDeg) },
      register: { type: 'boolean', default: true },
    },
    allowNegative: true,
  });
  const config = configFromArgs({ batch: values.batch, fps: values.fps, workers: values.workers, threads: values.threads, hfov: values.hfov, register: values.register, cpu: true, flight: 'bench' });
  const rounds = Number(values.rounds);
  const localizer = await openLocalizer(values.model, values.index, config, true, stderrLogger());
  const workers = localizer.embedder.size;
  // the raw session is one worker with ONNX Runtime's threads: any other layout is measured raw too
  const ownLayout = workers > 1 || config.intraOpThreads !== undefined;
  const pipeline: number[] = [];
  const rawSession: number[] = [];
  const rawPool: number[] = [];
  const ratios: number[] = [];
  const replayCpu: CpuSplit[] = [];
  const registration: NonNullable<ReplayReport['registration']>[] = [];
  let framesIn = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const { result, cpu } = await measureCpuSplit(() => replay({ video: values.video, telemetryPath: values.telemetry, config, localizer, logger: silentLogger }));
      const { report } = result;
      pipeline.push(report.fps);
      replayCpu.push(cpu);
      if (report.registration) registration.push(report.registration);
      framesIn = report.framesIn;
      const { path, inputSize } = localizer.embedder.info;
      rawSession.push(await rawSessionImagesPerSecond(path, config.maxBatch, inputSize, framesIn));
      if (ownLayout) rawPool.push(await rawPoolImagesPerSecond(localizer.embedder, config.maxBatch, framesIn, workers));
      const best = Math.max(rawSession[round]!, rawPool[round] ?? 0);
      ratios.push(report.fps / best);
      const poolNote = ownLayout ? `, raw pool ${rawPool[round]!.toFixed(1)} images/s` : '';
      process.stderr.write(`round ${round + 1}/${rounds}: pipeline ${report.fps.toFixed(1)} fixes/s, raw session ${rawSession[round]!.toFixed(1)} images/s${poolNote}: ${ratios[round]!.toFixed(3)}\n`);
      process.stderr.write(`  the replay's CPU: ${describeCpu(cpu)}\n`);
      if (report.registration) process.stderr.write(`  registration: ${describeRegistration(report.registration)}\n`);
    }
  } finally {
    await localizer.close();
  }
  const median = (xs: number[]) => (xs.length ? percentile([...xs].sort((a, b) => a - b), 50) : Number.NaN);
  const ratio = median(ratios);
  const threads = workers > 1 && config.workers === 'auto' ? config.intraOpThreads ?? 1 : config.intraOpThreads;
  const layout = `${workers} worker${workers > 1 ? 's' : ''} × ${threads ?? 'all-core'} thread${threads === 1 ? '' : 's'}, ${localizer.scheduling} scheduling`;
  const result = {
    bench: 'replay-throughput',
    video: values.video,
    model: localizer.embedder.info.path,
    inputSize: localizer.embedder.info.inputSize,
    batch: config.maxBatch,
    fps: config.fps,
    workers,
    intraOpThreads: threads ?? 'ort-default',
    scheduling: localizer.scheduling,
    framesPerReplay: framesIn,
    pipelineFixesPerSecond: pipeline,
    rawSessionImagesPerSecond: rawSession,
    rawPoolImagesPerSecond: rawPool,
    ratios,
    replayCpu,
    register: config.register,
    registration,
    ratio,
    // the raw-model ratio is a target for retrieval only
    target: config.register ? null : TARGET_RATIO,
    pass: config.register ? null : ratio >= TARGET_RATIO,
    measuredAt: new Date().toISOString(),
  };
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, values.out), JSON.stringify(result, null, 2) + '\n');
  const rawNote = `raw ONNX Runtime ${median(rawSession).toFixed(1)} images/s in one session${ownLayout ? `, ${median(rawPool).toFixed(1)} in the pipeline's layout` : ''}`;
  process.stdout.write(
    `replay throughput (batch ${config.maxBatch}, ${framesIn} frames, ${layout}, ${config.register ? 'registration on' : 'retrieval only'}, median of ${rounds} rounds): pipeline ${median(pipeline).toFixed(1)} fixes/s; ${rawNote}; ` +
      `pipeline ÷ best raw = ${ratio.toFixed(3)}` +
      (config.register ? `; registration ${describeRegistration(registration[registration.length - 1]!)}\n` : ` (target ≥ ${TARGET_RATIO}: ${result.pass ? 'PASS' : 'MISS'})\n`),
  );
}

/** registered share and ms per frame: the whole attempt, then features, matching and estimation of the registered frames (p50) */
function describeRegistration(r: NonNullable<ReplayReport['registration']>): string {
  const ms = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1));
  return `${r.registered} of ${r.registered + r.failed} frames registered; ms per frame p50 ${ms(r.totalMs.p50)}, p95 ${ms(r.totalMs.p95)} (registered, p50: features ${ms(r.featuresMs.p50)}, matching ${ms(r.matchingMs.p50)}, estimation ${ms(r.estimationMs.p50)})`;
}

main().catch((err: unknown) => {
  process.stderr.write(`replay-throughput: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
