/**
 * Gateway load benchmark, loopback only. The gateway runs in a child process publishing
 * `flights` flights at `rate` fixes/s each; this process holds the WebSocket clients.
 *
 *   phase 1 (baseline, first third): the healthy clients alone, each following one flight
 *   phase 2 (with slow, the rest):    the slow clients join too; each follows every flight
 *                                      but reads through a throttle of SLOW_BYTES_PER_S, like
 *                                      a dashboard on a bad link (a twentieth of its feed)
 *
 * On loopback the kernel takes up to ~4 MB per connection (the send buffer autotunes to
 * tcp_wmem's maximum because loopback's MSS is 64 KiB) before the gateway's own queue grows
 * at all; on a real link it is tens of KB. So slow clients only reach the high-water mark,
 * and start skipping, after ~2 minutes of phase 2: the default run is 5 minutes for that.
 *
 * Reported: delivery latency (gateway publish → client 'message') p50/p99 of the healthy
 * clients in both phases and their ratio, fixes healthy clients lost or got out of order, the
 * server's RSS over time, fixes skipped for slow clients, and how busy this process was
 * (a saturated client process would inflate the latencies it measures).
 *
 * usage: node dist/bench/gateway-load.js [--minutes 5] [--clients 500] [--slow-fraction 0.1]
 *                                        [--flights 5] [--rate 10] [--out bench/results/...]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { createGateway } from '../gateway/server';
import { scrapeMetric } from '../tests/support/gatewayClients';
import { repoRoot } from '../pipeline/core/paths';
import type { FixFeature } from '../pipeline/core/types';

const SERVER_ROLE = '--role=server';
const MS_PER_S = 1000;
const MS_PER_MIN = 60_000;
const WARMUP_MS = 5000;
const RSS_SAMPLE_MS = 5000;
const PROGRESS_EVERY_SAMPLES = 6;
const CONNECT_BATCH = 50;
/** A slow client reads at most this many bytes a second (its link), far below what it is sent. */
const SLOW_BYTES_PER_S = 1024;
/** Share of the run measured before the slow clients join. */
const BASELINE_SHARE = 1 / 3;
/** Clock offset between the two processes is measured with this many IPC round trips. */
const CLOCK_PROBES = 20;
const MAX_P99_RATIO = 2;
/** RSS in the last third of phase 2 may exceed the middle third's by this factor and still count as flat. */
const MAX_RSS_GROWTH = 1.15;
const BYTES_PER_MIB = 1024 * 1024;

/** Milliseconds on a clock both processes share (the system clock, at sub-ms resolution). */
const now = () => performance.timeOrigin + performance.now();

type ServerCommand = { type: 'clock' } | { type: 'start' } | { type: 'stop' };
type ServerReport = { type: 'ready'; port: number } | { type: 'clock'; t: number };

interface BenchSettings {
  minutes: number;
  clients: number;
  slowFraction: number;
  flights: number;
  rate: number;
}

// ---------------------------------------------------------------- server (child process)

/** A fix the size of what the pipeline publishes, stamped with its publish time. */
function benchFix(flight: string, frame: number, flightIndex: number, rate: number): FixFeature {
  const angle = frame / (rate * 60) + flightIndex;
  const lat = 48.59 + 0.004 * Math.sin(angle);
  const lon = 12.25 + 0.006 * Math.cos(angle);
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [Number(lon.toFixed(7)), Number(lat.toFixed(7))] },
    properties: {
      flight,
      frame,
      t: frame / rate,
      radiusM: 31.416,
      confidence: 0.734,
      lost: false,
      relocalizing: false,
      top1: { lat: Number((lat + 1e-4).toFixed(7)), lon: Number((lon - 1e-4).toFixed(7)), score: 0.612, tileId: 12345 },
      speedMps: 12.5,
      headingDeg: 87.25,
      latencyMs: 84.5,
      emittedAt: now(),
    },
  };
}

async function runServer(settings: BenchSettings): Promise<void> {
  const runMs = settings.minutes * MS_PER_MIN;
  // Slow clients are slow, not dead: the heartbeat (which would drop a client whose pongs wait
  // behind a deep queue) is set past the run so they stay for the whole of phase 2. Every
  // client connects from 127.0.0.1, so that one address may hold them all.
  const gateway = await createGateway({
    maxClients: settings.clients * 2,
    maxConnectionsPerAddress: settings.clients * 2,
    heartbeatIntervalMs: 2 * runMs + WARMUP_MS,
  });
  const flights = Array.from({ length: settings.flights }, (_, i) => `flight-${i}`);
  const frames = flights.map(() => 0);
  const tickMs = MS_PER_S / (settings.rate * settings.flights);
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  let published = 0;
  // Drift-free schedule: each tick publishes every fix that has come due, round-robin over flights.
  const tick = () => {
    const due = Math.floor((now() - started) / tickMs);
    while (published <= due) {
      const i = published % flights.length;
      gateway.publish(flights[i]!, benchFix(flights[i]!, frames[i]!++, i, settings.rate));
      published++;
    }
    timer = setTimeout(tick, Math.max(0, started + (published * tickMs) - now()));
  };
  process.on('message', (command: ServerCommand) => {
    if (command.type === 'clock') process.send!({ type: 'clock', t: now() } satisfies ServerReport);
    if (command.type === 'start') {
      started = now();
      tick();
    }
    if (command.type === 'stop') {
      clearTimeout(timer);
      gateway.close().then(() => process.exit(0));
    }
  });
  process.send!({ type: 'ready', port: gateway.port } satisfies ServerReport);
}

// ---------------------------------------------------------------- clients (this process)

interface Phase {
  name: string;
  latencies: number[];
  slowLatencies: number[];
  slowMessages: number;
}

class Recorder {
  phase: Phase | undefined;
  lost = 0;
  outOfOrder = 0;
}

/**
 * Opens one client and subscribes it to its flights. A healthy client (one flight) resolves
 * once its snapshot has arrived; a slow one as soon as it has asked (its snapshots take it
 * minutes to read).
 */
function openClient(url: string, flights: string[], recorder: Recorder, slow: boolean, offsetMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let lastFrame: number | undefined;
    ws.on('error', reject);
    ws.on('open', () => {
      for (const flight of flights) ws.send(JSON.stringify({ type: 'subscribe', flight }));
      if (slow) {
        throttle((ws as unknown as { _socket: Socket })._socket);
        resolve(ws);
      }
    });
    ws.on('message', (data) => {
      const received = now();
      const message = JSON.parse(data.toString()) as { type: string; properties?: { frame: number; emittedAt: number } };
      if (message.type === 'snapshot') resolve(ws);
      if (message.type !== 'Feature' || !message.properties) return;
      const { frame, emittedAt } = message.properties;
      const phase = recorder.phase;
      if (phase === undefined) return;
      const latency = received - (emittedAt + offsetMs);
      if (slow) {
        phase.slowLatencies.push(latency);
        phase.slowMessages++;
        return;
      }
      phase.latencies.push(latency);
      if (lastFrame !== undefined) {
        if (frame <= lastFrame) recorder.outOfOrder++;
        else recorder.lost += frame - lastFrame - 1;
      }
      lastFrame = frame;
    });
  });
}

/** Reads the socket no faster than SLOW_BYTES_PER_S: after each chunk it pauses for as long as the chunk "took". */
function throttle(socket: Socket): void {
  socket.on('data', (chunk: Buffer) => {
    socket.pause();
    setTimeout(() => socket.resume(), (chunk.length / SLOW_BYTES_PER_S) * MS_PER_S).unref();
  });
}

async function openClients(count: number, open: (i: number) => Promise<WebSocket>): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let start = 0; start < count; start += CONNECT_BATCH) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(CONNECT_BATCH, count - start) }, (_, k) => open(start + k)))));
  }
  return sockets;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function request(server: ChildProcess, command: ServerCommand): Promise<ServerReport> {
  return new Promise((resolve) => {
    server.once('message', (report: ServerReport) => resolve(report));
    server.send(command);
  });
}

/** The server's clock minus ours, from the IPC round trip with the least delay. */
async function clockOffset(server: ChildProcess): Promise<{ offsetMs: number; rttMs: number }> {
  let best = { offsetMs: 0, rttMs: Infinity };
  for (let i = 0; i < CLOCK_PROBES; i++) {
    const sent = now();
    const report = await request(server, { type: 'clock' });
    const back = now();
    if (report.type === 'clock' && back - sent < best.rttMs) best = { offsetMs: report.t - (sent + back) / 2, rttMs: back - sent };
  }
  return best;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runDriver(settings: BenchSettings, out: string | undefined): Promise<number> {
  const slowCount = Math.round(settings.clients * settings.slowFraction);
  const healthyCount = settings.clients - slowCount;
  const baselineMs = settings.minutes * MS_PER_MIN * BASELINE_SHARE;
  const withSlowMs = settings.minutes * MS_PER_MIN - baselineMs;
  const serverArgs = [SERVER_ROLE, `--minutes=${settings.minutes}`, `--clients=${settings.clients}`, `--flights=${settings.flights}`, `--rate=${settings.rate}`];
  const server = fork(__filename, serverArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<ServerReport>((resolve) => server.once('message', resolve));
  if (ready.type !== 'ready') throw new Error('the gateway child did not start');
  const base = `http://127.0.0.1:${ready.port}`;
  const wsUrl = `ws://127.0.0.1:${ready.port}/ws`;
  const clock = await clockOffset(server);
  const flights = Array.from({ length: settings.flights }, (_, i) => `flight-${i}`);
  const recorder = new Recorder();
  const log = (line: string) => process.stderr.write(`[gateway-load] ${line}\n`);
  log(`gateway child on ${base}; clock offset ${clock.offsetMs.toFixed(3)} ms (IPC round trip ${clock.rttMs.toFixed(3)} ms)`);

  const rss: Array<{ s: number; phase: string; rssMiB: number; skipped: number; queuedKiB: number; clients: number }> = [];
  const t0 = now();
  const loadAtStart = loadavg();
  const sample = async () => {
    const [rssBytes, skipped, queued, clients] = await Promise.all([
      scrapeMetric(base, 'geoloc_process_resident_memory_bytes'),
      scrapeMetric(base, 'geoloc_ws_messages_skipped_total'),
      scrapeMetric(base, 'geoloc_ws_bytes_queued'),
      scrapeMetric(base, 'geoloc_ws_clients'),
    ]);
    const entry = { s: Math.round((now() - t0) / MS_PER_S), phase: recorder.phase?.name ?? 'setup', rssMiB: rssBytes / BYTES_PER_MIB, skipped, queuedKiB: queued / 1024, clients };
    rss.push(entry);
    if (rss.length % PROGRESS_EVERY_SAMPLES === 0) log(`${entry.s} s: ${entry.clients} clients, RSS ${entry.rssMiB.toFixed(1)} MiB, ${entry.queuedKiB.toFixed(0)} KiB queued, ${skipped} skipped`);
  };
  const sampler = setInterval(() => sample().catch((err: unknown) => log(`RSS sample failed: ${String(err)}`)), RSS_SAMPLE_MS);

  const flightOf = (i: number) => flights[i % flights.length]!;
  const healthy = await openClients(healthyCount, (i) => openClient(wsUrl, [flightOf(i)], recorder, false, clock.offsetMs));
  log(`${healthy.length} healthy clients subscribed; publishing ${settings.flights} flights × ${settings.rate} fixes/s`);
  server.send({ type: 'start' } satisfies ServerCommand);
  await sleep(WARMUP_MS);

  const elu0 = performance.eventLoopUtilization();
  const baseline: Phase = { name: 'baseline', latencies: [], slowLatencies: [], slowMessages: 0 };
  recorder.phase = baseline;
  log(`phase 1: ${healthyCount} healthy clients for ${(baselineMs / MS_PER_S).toFixed(0)} s`);
  await sleep(baselineMs);
  const elu1 = performance.eventLoopUtilization(elu0);

  const withSlow: Phase = { name: 'with-slow', latencies: [], slowLatencies: [], slowMessages: 0 };
  recorder.phase = withSlow;
  const skippedBefore = await scrapeMetric(base, 'geoloc_ws_messages_skipped_total');
  const slow = await openClients(slowCount, () => openClient(wsUrl, flights, recorder, true, clock.offsetMs));
  log(`phase 2: + ${slow.length} slow clients (every flight, read at ${SLOW_BYTES_PER_S} B/s) for ${(withSlowMs / MS_PER_S).toFixed(0)} s`);
  const elu2start = performance.eventLoopUtilization();
  await sleep(withSlowMs);
  const elu2 = performance.eventLoopUtilization(elu2start);
  clearInterval(sampler);

  const skipped = (await scrapeMetric(base, 'geoloc_ws_messages_skipped_total')) - skippedBefore;
  const terminated = {
    heartbeat: await scrapeMetric(base, 'geoloc_ws_terminated_total', { reason: 'heartbeat' }),
    hardLimit: await scrapeMetric(base, 'geoloc_ws_terminated_total', { reason: 'hard_limit' }),
  };
  const published = await scrapeMetric(base, 'geoloc_fixes_published_total');
  for (const ws of [...healthy, ...slow]) ws.terminate();
  server.send({ type: 'stop' } satisfies ServerCommand);
  await new Promise((resolve) => server.once('exit', resolve));

  const summary = (phase: Phase) => ({
    fixes: phase.latencies.length,
    p50Ms: percentile(phase.latencies, 50),
    p99Ms: percentile(phase.latencies, 99),
    maxMs: percentile(phase.latencies, 100),
  });
  const phase2Samples = rss.filter((r) => r.phase === 'with-slow');
  const third = Math.max(1, Math.floor(phase2Samples.length / 3));
  const maxOf = (samples: typeof rss) => Math.max(...samples.map((r) => r.rssMiB));
  const rssGrowth = maxOf(phase2Samples.slice(-third)) / maxOf(phase2Samples.slice(third, 2 * third));
  const steady = rss.filter((r) => r.phase !== 'setup');
  const result = {
    settings: { ...settings, healthyClients: healthyCount, slowClients: slowCount, slowBytesPerS: SLOW_BYTES_PER_S, baselineSeconds: baselineMs / MS_PER_S, withSlowSeconds: withSlowMs / MS_PER_S },
    clock,
    healthy: { baseline: summary(baseline), withSlow: summary(withSlow), lost: recorder.lost, outOfOrder: recorder.outOfOrder },
    p99Ratio: summary(withSlow).p99Ms / summary(baseline).p99Ms,
    p50Ratio: summary(withSlow).p50Ms / summary(baseline).p50Ms,
    slow: {
      received: withSlow.slowMessages,
      sentToThemIfAllDelivered: Math.round(slowCount * settings.rate * settings.flights * (withSlowMs / MS_PER_S)),
      skipped,
      latencyP50Ms: percentile(withSlow.slowLatencies, 50),
      terminated,
    },
    published,
    serverRss: {
      minMiB: Math.min(...steady.map((r) => r.rssMiB)),
      maxMiB: Math.max(...steady.map((r) => r.rssMiB)),
      maxOverMin: Math.max(...steady.map((r) => r.rssMiB)) / Math.min(...steady.map((r) => r.rssMiB)),
      phase2LastThirdOverMiddleThird: rssGrowth,
      samples: rss,
    },
    clientProcessBusy: { baseline: elu1.utilization, withSlow: elu2.utilization },
    machineLoad: { atStart: loadAtStart, atEnd: loadavg() },
  };

  const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
  const verdicts = [
    [result.p99Ratio <= MAX_P99_RATIO, `healthy p99 with slow clients is ${f(result.p99Ratio)}× the baseline (≤ ${MAX_P99_RATIO}×)`],
    [rssGrowth <= MAX_RSS_GROWTH, `server RSS flat in phase 2: last third / middle third = ${f(rssGrowth)} (≤ ${MAX_RSS_GROWTH})`],
    [recorder.lost === 0 && recorder.outOfOrder === 0, `healthy clients lost ${recorder.lost} fixes, ${recorder.outOfOrder} out of order (0)`],
    [skipped > 0, `slow clients were skipped ${skipped} fixes, so they did fall behind`],
  ] as const;
  const lines = [
    `gateway load: ${settings.clients} clients (${slowCount} slow), ${settings.flights} flights × ${settings.rate} fixes/s, ${settings.minutes} min, loopback`,
    `  healthy latency   baseline p50 ${f(result.healthy.baseline.p50Ms)} ms  p99 ${f(result.healthy.baseline.p99Ms)} ms  (${result.healthy.baseline.fixes} fixes)`,
    `                    with slow p50 ${f(result.healthy.withSlow.p50Ms)} ms  p99 ${f(result.healthy.withSlow.p99Ms)} ms  (${result.healthy.withSlow.fixes} fixes)`,
    `                    ratio     p50 ${f(result.p50Ratio)}×  p99 ${f(result.p99Ratio)}×`,
    `  slow clients      received ${result.slow.received} of ${result.slow.sentToThemIfAllDelivered}, skipped ${skipped}, their p50 age ${f(result.slow.latencyP50Ms, 0)} ms, terminated ${JSON.stringify(terminated)}`,
    `  server RSS        ${f(result.serverRss.minMiB, 1)}–${f(result.serverRss.maxMiB, 1)} MiB (max/min ${f(result.serverRss.maxOverMin)}), samples: ${steady.map((r) => `${r.s}s:${r.rssMiB.toFixed(0)}`).join(' ')}`,
    `  client process    busy ${f(elu1.utilization * 100, 0)}% (baseline), ${f(elu2.utilization * 100, 0)}% (with slow); machine load ${loadAtStart.map((l) => f(l, 1)).join('/')} → ${loadavg().map((l) => f(l, 1)).join('/')}`,
    ...verdicts.map(([ok, text]) => `  ${ok ? 'PASS' : 'MISS'}  ${text}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const outPath = out ?? join(repoRoot(), 'bench', 'results', `gateway-load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(outPath, '..'), { recursive: true });
  writeFileSync(outPath, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`  results           ${outPath}\n`);
  return verdicts.every(([ok]) => ok) ? 0 : 1;
}

function settingsFrom(argv: string[]): { settings: BenchSettings; out?: string; server: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: 'string' },
      minutes: { type: 'string', default: '5' },
      clients: { type: 'string', default: '500' },
      'slow-fraction': { type: 'string', default: '0.1' },
      flights: { type: 'string', default: '5' },
      rate: { type: 'string', default: '10' },
      out: { type: 'string' },
    },
  });
  const settings = {
    minutes: Number(values.minutes),
    clients: Number(values.clients),
    slowFraction: Number(values['slow-fraction']),
    flights: Number(values.flights),
    rate: Number(values.rate),
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${value}`);
  }
  return { settings, out: values.out, server: values.role === 'server' };
}

if (require.main === module) {
  const { settings, out, server } = settingsFrom(process.argv.slice(2));
  (server ? runServer(settings).then(() => undefined) : runDriver(settings, out).then((code) => void (process.exitCode = code))).catch((err: unknown) => {
    process.stderr.write(`gateway-load: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
