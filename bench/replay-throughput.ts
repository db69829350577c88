/**
 * Replay throughput of the whole pipeline (decode → preprocess → batch → embed → search →
 * track) against raw ONNX Runtime throughput of the same model at the same batch size on the
 * same machine, measured in one run. Target: ratio ≥ 0.9.
 *
 *   node dist/bench/replay-throughput.js [--video v.mp4 --telemetry v.srt --index dir --model m.onnx]
 *        [--batch 8] [--fps 5] [--workers 1] [--threads N] [--rounds 3]
 *
 * Raw baseline: one InferenceSession in this thread, the pipeline's session options, running
 * batches of random input back to back (no decode, no transfer, no search), after a warm-up.
 * Pipeline: `replay` of the video, lossless, fixes/s over its wall time. Each is measured
 * `rounds` times, interleaved, and the medians are compared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { embedderSessionOptions } from '../models/sessionOptions';
import { imageTensorLength } from '../models/tensor';
import { demoPaths } from '../pipeline/commands/demo';
import { configFromArgs, openLocalizer } from '../pipeline/commands/pipelineSession';
import { silentLogger } from '../pipeline/log';
import { repoRoot } from '../pipeline/paths';
import { replay } from '../pipeline/replay';
import { percentile } from '../pipeline/stats';

const TARGET_RATIO = 0.9;
const WARMUP_BATCHES = 3;

async function rawImagesPerSecond(modelPath: string, batch: number, inputSize: [number, number], images: number, threads: number | undefined): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath, embedderSessionOptions('cpu', threads));
  const [h, w] = inputSize;
  const input = new Float32Array(batch * imageTensorLength({ inputSize }));
  for (let i = 0; i < input.length; i++) input[i] = Math.sin(i);
  // the model's one image input (embedWorker.ts names it; importing that module would start a worker)
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [batch, 3, h, w]) };
  for (let i = 0; i < WARMUP_BATCHES; i++) await session.run(feeds);
  const runs = Math.max(1, Math.round(images / batch));
  const started = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds);
  const seconds = (performance.now() - started) / 1000;
  await session.release();
  return (runs * batch) / seconds;
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
    },
  });
  const config = configFromArgs({ batch: values.batch, fps: values.fps, workers: values.workers, threads: values.threads, cpu: true, flight: 'bench' });
  const rounds = Number(values.rounds);
  const localizer = await openLocalizer(values.model, values.index, config);
  const raw: number[] = [];
  const pipeline: number[] = [];
  let framesIn = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const { report } = await replay({ video: values.video, telemetryPath: values.telemetry, config, localizer, logger: silentLogger });
      pipeline.push(report.fps);
      framesIn = report.framesIn;
      raw.push(await rawImagesPerSecond(localizer.embedder.info.path, config.maxBatch, localizer.embedder.info.inputSize, report.framesIn, config.intraOpThreads));
      process.stderr.write(`round ${round + 1}/${rounds}: pipeline ${report.fps.toFixed(1)} fixes/s, raw ORT ${raw[raw.length - 1]!.toFixed(1)} images/s\n`);
    }
  } finally {
    await localizer.close();
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const ratio = median(pipeline) / median(raw);
  const result = {
    bench: 'replay-throughput',
    video: values.video,
    model: localizer.embedder.info.path,
    inputSize: localizer.embedder.info.inputSize,
    batch: config.maxBatch,
    fps: config.fps,
    workers: config.workers,
    intraOpThreads: config.intraOpThreads ?? 'ort-default',
    framesPerReplay: framesIn,
    pipelineFixesPerSecond: pipeline,
    rawImagesPerSecond: raw,
    ratio,
    target: TARGET_RATIO,
    pass: ratio >= TARGET_RATIO,
    measuredAt: new Date().toISOString(),
  };
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'replay-throughput.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    `replay throughput (batch ${config.maxBatch}, ${framesIn} frames, median of ${rounds}): pipeline ${median(pipeline).toFixed(1)} fixes/s ÷ raw ONNX Runtime ${median(raw).toFixed(1)} images/s = ${ratio.toFixed(3)} (target ≥ ${TARGET_RATIO}: ${result.pass ? 'PASS' : 'MISS'})\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`replay-throughput: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
