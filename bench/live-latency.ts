/**
 * Live latency: the fixture video streamed in real time over loopback MPEG-TS (UDP) at its
 * 30 fps by an ffmpeg sender, localized at 5 fps with the embedded model, newest frame wins,
 * each frame registered against the map (--no-register: retrieval only) with the flight's
 * telemetry as priors, as `geoloc run --telemetry` does.
 * Reports latency from frame decoded to fix emitted (p50, p95; target p95 ≤ 250 ms), its drift
 * (first vs last minute), and RSS growth after warm-up (target ≤ 5%), against the model's own
 * single-frame inference time measured in the same run.
 *
 *   node dist/bench/live-latency.js [--minutes 10] [--video v.mp4] [--telemetry t.srt] [--index dir] [--model m.onnx] [--fps 5] [--hfov 70] [--no-register]
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Subscription } from 'rxjs';
import { openLocalizer, telemetryPriors } from '../pipeline/session';
import { localize, PipelineStats } from '../pipeline/localize';
import { type LogRecord } from '../pipeline/core/log';
import { repoRoot } from '../pipeline/core/paths';
import { summarize } from '../pipeline/core/stats';
import { imageTensorLength } from '../models/tensor';
import { FIXTURE_CAMERA, demoPaths } from '../fixtures/defaults';
import { readTelemetry } from '../pipeline/telemetry';
import { configFromArgs } from '../pipeline/pipelineArgs';

const TARGET_P95_MS = 250;
const TARGET_RSS_GROWTH = 0.05;
const MS_PER_MINUTE = 60_000;
const RSS_SAMPLE_MS = 5000;
/** RSS is taken as the baseline once this share of the run is over (allocators and JIT settle) */
const WARMUP_FRACTION = 0.1;
const SINGLE_FRAME_RUNS = 20;

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const demo = demoPaths();
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      video: { type: 'string', default: demo.video },
      telemetry: { type: 'string', default: demo.telemetry },
      hfov: { type: 'string', default: String(FIXTURE_CAMERA.hfovDeg) },
      register: { type: 'boolean', default: true },
      index: { type: 'string', default: demo.index },
      model: { type: 'string', default: demo.model },
      fps: { type: 'string', default: '5' },
      threads: { type: 'string' },
    },
    allowNegative: true,
  });
  const durationMs = Number(values.minutes) * MS_PER_MINUTE;
  const config = configFromArgs({ fps: values.fps, threads: values.threads, hfov: values.hfov, register: values.register, cpu: true, flight: 'bench-live' });
  const priorsAt = telemetryPriors(readTelemetry(values.telemetry).records);
  const methods: Record<string, number> = {};
  const localizer = await openLocalizer(values.model, values.index, config, false);

  // the model's own time for one frame, the floor under any latency
  const single = new Float32Array(imageTensorLength(localizer.embedder.info));
  const inferenceMs: number[] = [];
  for (let i = 0; i < SINGLE_FRAME_RUNS; i++) inferenceMs.push((await localizer.embedder.embed(single.slice(), 1)).inferenceMs);

  const port = await freeUdpPort();
  const sender = spawn('ffmpeg', ['-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', values.video, '-an', '-c:v', 'copy', '-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stats = new PipelineStats();
  const samples: Array<{ atMs: number; latencyMs: number }> = [];
  const rss: Array<{ atMs: number; bytes: number }> = [];
  const warnings: string[] = [];
  const started = Date.now();
  let subscription: Subscription | undefined;
  const failure = new Promise<never>((_, reject) => {
    subscription = localize(`udp://127.0.0.1:${port}`, config, {
      embedder: localizer.embedder,
      index: localizer.index,
      registrar: localizer.registrar,
      priorsAt,
      sinks: [stats],
      onProcessStart: () => (stats.decoderStarts += 1),
      logger: { log: (r: LogRecord) => void (r.code && warnings.push(`${r.code}: ${r.message}`)) },
    }).subscribe({
      next: (fix) => {
        samples.push({ atMs: Date.now() - started, latencyMs: fix.latencyMs });
        methods[fix.estimate.method] = (methods[fix.estimate.method] ?? 0) + 1;
      },
      error: reject,
    });
  });
  const sampler = setInterval(() => rss.push({ atMs: Date.now() - started, bytes: process.memoryUsage().rss }), RSS_SAMPLE_MS);
  try {
    await Promise.race([failure, new Promise((r) => setTimeout(r, durationMs))]);
  } finally {
    clearInterval(sampler);
    subscription?.unsubscribe();
    sender.kill('SIGKILL');
    await localizer.close();
  }

  const window = Math.min(MS_PER_MINUTE, durationMs / 3);
  const first = summarize(samples.filter((s) => s.atMs <= window).map((s) => s.latencyMs));
  const last = summarize(samples.filter((s) => s.atMs >= durationMs - window).map((s) => s.latencyMs));
  const all = summarize(samples.map((s) => s.latencyMs));
  const baseline = rss.find((r) => r.atMs >= durationMs * WARMUP_FRACTION) ?? rss[0];
  const end = rss[rss.length - 1];
  const rssGrowth = baseline && end ? (end.bytes - baseline.bytes) / baseline.bytes : Number.NaN;
  const single1 = summarize(inferenceMs);
  const result = {
    bench: 'live-latency',
    minutes: Number(values.minutes),
    video: values.video,
    model: localizer.embedder.info.path,
    fps: config.fps,
    register: config.register,
    fixes: stats.fixesOut,
    methods,
    framesIn: stats.framesIn,
    droppedFrames: stats.droppedFrames,
    decoderStarts: stats.decoderStarts,
    latencyMs: all,
    latencyFirstWindowMs: first,
    latencyLastWindowMs: last,
    driftP50Ms: last.p50 - first.p50,
    singleFrameInferenceMs: single1,
    latencyP50OverInference: all.p50 / single1.p50,
    rssBaselineMB: baseline ? baseline.bytes / 2 ** 20 : null,
    rssEndMB: end ? end.bytes / 2 ** 20 : null,
    rssGrowth,
    targets: { p95Ms: TARGET_P95_MS, rssGrowth: TARGET_RSS_GROWTH },
    pass: all.p95 <= TARGET_P95_MS && rssGrowth <= TARGET_RSS_GROWTH,
    warnings: warnings.slice(0, 20),
    measuredAt: new Date().toISOString(),
  };
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `live-latency-${values.minutes}min${config.register ? '' : '-retrieval'}.json`), JSON.stringify(result, null, 2) + '\n');
  const f = (v: number) => v.toFixed(1);
  process.stdout.write(
    [
      `live latency over ${values.minutes} min (UDP MPEG-TS loopback, ${config.fps} fps localized, ${config.register ? 'registration on' : 'retrieval only'}): ${stats.fixesOut} fixes (${Object.entries(methods).map(([m, n]) => `${m} ${n}`).join(', ')}), ${stats.framesIn} frames, ${stats.droppedFrames} dropped`,
      `  decoded → fix  p50 ${f(all.p50)} ms, p95 ${f(all.p95)} ms, max ${f(all.max)} ms (target p95 ≤ ${TARGET_P95_MS} ms: ${all.p95 <= TARGET_P95_MS ? 'PASS' : 'MISS'})`,
      `  vs inference   single-frame ONNX Runtime p50 ${f(single1.p50)} ms; latency p50 is ${f(result.latencyP50OverInference)}× that`,
      `  drift          first window p50 ${f(first.p50)} / p95 ${f(first.p95)} ms, last window p50 ${f(last.p50)} / p95 ${f(last.p95)} ms`,
      `  RSS            ${f(result.rssBaselineMB ?? Number.NaN)} MB after warm-up → ${f(result.rssEndMB ?? Number.NaN)} MB at the end: ${(rssGrowth * 100).toFixed(2)}% (target ≤ ${TARGET_RSS_GROWTH * 100}%: ${rssGrowth <= TARGET_RSS_GROWTH ? 'PASS' : 'MISS'})`,
    ].join('\n') + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`live-latency: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
