/**
 * NATS scale-out figures, measured in one run on this machine:
 *  1. fix latency through NATS against in-process: one live flight (fixture video over loopback
 *     UDP at 30 fps, localized at 5 fps) published both to an in-process gateway and through
 *     JetStream to a gateway following the stream; a WebSocket client on each; decoded → client
 *     p50/p95 of each path and of their per-fix difference;
 *  2. flights per machine at 5 fps: a `geoloc worker` process given 1, 2, 4, … live flights
 *     (with the embedded model; with --register too); a step holds when every flight keeps
 *     ≥ 90% of 5 fixes/s over the window; the most flights that held (the load average is
 *     recorded: on shared cores the figure moves with the neighbours' load), and the CPU the
 *     worker and its decoders used per flight (cores), which moves much less with the load;
 *  3. stream storage per flight-hour: the fixes stream's bytes per stored fix × 5 fixes/s × 3600.
 *
 *   node dist/bench/nats.js [--window-s 30] [--warmup-s 10] [--register-warmup-s 30] [--latency-s 30] [--max-flights 32] [--register-max 2]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { map, timer } from 'rxjs';
import { demoPaths } from '../fixtures/defaults';
import { feedFromNats } from '../gateway/natsFeed';
import { gatewaySink } from '../gateway/pipelineSink';
import { isFix } from '../gateway/protocol';
import { createGateway, type Gateway } from '../gateway/server';
import { silentLogger } from '../pipeline/core/log';
import { repoRoot } from '../pipeline/core/paths';
import { type Summary, summarize } from '../pipeline/core/stats';
import { connectNats } from '../pipeline/nats/connect';
import { FlightBook } from '../pipeline/nats/flightBook';
import { FIXES_STREAM } from '../pipeline/nats/names';
import { queueFlight } from '../pipeline/nats/queueFlight';
import { ensureStreams } from '../pipeline/nats/streams';
import { configFromArgs } from '../pipeline/pipelineArgs';
import { openLocalizer, runPipeline } from '../pipeline/session';
import { NatsFixSink } from '../pipeline/sinks/natsFixSink';
import { TestClient } from '../tests/support/gatewayClients';
import { ensureNats, startNats } from '../tests/support/nats';
import { startWorker } from '../tests/support/natsFleet';
import { readProcStat, STAT_FIELD } from '../tests/support/procStat';
import { freeUdpPort, killAndWait, startSender } from '../tests/support/processes';

const FPS = 5;
/** a flight keeps up when it publishes at least this share of FPS over the window */
const KEEPS_UP = 0.9;
const HOUR_S = 3600;
/** flights per worker tried, in order, until one falls behind */
const FLIGHT_STEPS = [1, 2, 4, 8, 12, 16, 24, 32];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Linux's clock ticks per second in /proc/<pid>/stat (getconf CLK_TCK) */
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds the processes have used so far (those gone count nothing). */
function cpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => {
    const stat = readProcStat(`/proc/${pid}/stat`);
    return sum + (stat ? (stat(STAT_FIELD.utime) + stat(STAT_FIELD.stime)) / CLOCK_TICKS_PER_S : 0);
  }, 0);
}

/** Arrival time (epoch ms) of each frame's fix at a client subscribed to `flight`. */
async function arrivals(wsUrl: string, flight: string): Promise<{ client: TestClient; at: Map<number, number> }> {
  const client = await TestClient.connect(wsUrl);
  const at = new Map<number, number>();
  client.ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (isFix(m)) at.set(m.properties.frame, Date.now());
  });
  client.send({ type: 'subscribe', flight });
  return { client, at };
}

async function latency(nc: NatsConnection, seconds: number) {
  const flight = 'bench-latency';
  const demo = demoPaths();
  // retrieval only: the path through NATS is what is compared, registration would only add the same to both
  const config = configFromArgs({ fps: String(FPS), cpu: true, flight, register: false });
  const localizer = await openLocalizer(demo.model, demo.index, config, false);
  const direct = await createGateway({ port: 0, log: () => undefined });
  const followed: Gateway = await createGateway({ port: 0, log: () => undefined });
  const feed = await feedFromNats(followed, nc, silentLogger);
  const a = await arrivals(direct.wsUrl, flight);
  const b = await arrivals(followed.wsUrl, flight);
  const port = await freeUdpPort();
  const sender = startSender(demo.video, `udp://127.0.0.1:${port}?pkt_size=1316`);
  /** epoch ms at which each frame was decoded */
  const decodedAt = new Map<number, number>();
  try {
    const sink = new NatsFixSink(jetstream(nc), { flight, claim: 1, logger: silentLogger });
    const run = runPipeline({
      source: `udp://127.0.0.1:${port}`,
      config,
      localizer,
      logger: silentLogger,
      sinks: [{ fix: (feature, latencyMs) => decodedAt.set(feature.properties.frame, Date.now() - latencyMs) }, gatewaySink(direct, flight), sink],
      stop: timer(seconds * 1000).pipe(map(() => undefined)),
    });
    await run;
    await sink.flush(5000);
    await sleep(500);
  } finally {
    await killAndWait(sender);
    await Promise.all([a.client.close(), b.client.close()]);
    await feed.stop();
    await Promise.all([direct.close(), followed.close(), localizer.close()]);
  }
  const inProcess: number[] = [];
  const throughNats: number[] = [];
  const added: number[] = [];
  for (const [frame, decoded] of decodedAt) {
    const x = a.at.get(frame);
    const y = b.at.get(frame);
    if (x === undefined || y === undefined) continue;
    inProcess.push(x - decoded);
    throughNats.push(y - decoded);
    added.push(y - x);
  }
  return { fixes: decodedAt.size, inProcessMs: summarize(inProcess), throughNatsMs: summarize(throughNats), addedMs: summarize(added) };
}

interface Step {
  flights: number;
  /** CPU the worker and its decoders used over the window, in cores (CPU seconds per second) */
  coresUsed: number;
  /** coresUsed per flight */
  coresPerFlight: number;
  ratesPerS: number[];
  lagP95Ms: number[];
  framesDropped: number;
  keepsUp: boolean;
}

/** N live flights on one worker process: their publish rates over the window. */
async function capacityStep(natsUrl: string, nc: NatsConnection, book: FlightBook, flights: number, register: boolean, warmupS: number, windowS: number, tag: string): Promise<Step> {
  const demo = demoPaths();
  const worker = startWorker(natsUrl, `bench-${tag}`, ['--slots', String(flights)]);
  const senders: ChildProcess[] = [];
  const names = [...Array(flights).keys()].map((i) => `${tag}-${i}`);
  try {
    for (const name of names) {
      const url = `udp://127.0.0.1:${await freeUdpPort()}`;
      senders.push(startSender(demo.video, `${url}?pkt_size=1316`));
      const { flight: _flight, ...settings } = configFromArgs({ fps: String(FPS), register }, { flight: name });
      await queueFlight(nc, book, { flight: name, source: url, index: demo.index, settings });
    }
    await sleep(warmupS * 1000);
    const before = await Promise.all(names.map((n) => book.get(n)));
    const cpuBefore = cpuSeconds([worker.child.pid!, ...worker.decoderPids()]);
    await sleep(windowS * 1000);
    const coresUsed = (cpuSeconds([worker.child.pid!, ...worker.decoderPids()]) - cpuBefore) / windowS;
    const after = await Promise.all(names.map((n) => book.get(n)));
    const ratesPerS = names.map((_, i) => ((after[i]?.fixes ?? 0) - (before[i]?.fixes ?? 0)) / windowS);
    const lagP95Ms = after.map((s) => s?.lagMs?.p95 ?? Number.NaN);
    const framesDropped = after.reduce((sum, s) => sum + (s?.framesDropped ?? 0), 0);
    await Promise.all(names.map((name) => book.requestStop(name)));
    return { flights, coresUsed, coresPerFlight: coresUsed / flights, ratesPerS, lagP95Ms, framesDropped, keepsUp: ratesPerS.every((r) => r >= KEEPS_UP * FPS) };
  } finally {
    worker.child.kill('SIGTERM');
    await Promise.race([new Promise((r) => worker.child.once('close', r)), sleep(15_000)]);
    await killAndWait(worker.child);
    await Promise.all(senders.map((s) => killAndWait(s)));
  }
}

async function capacity(natsUrl: string, nc: NatsConnection, book: FlightBook, register: boolean, max: number, warmupS: number, windowS: number): Promise<{ steps: Step[]; flightsAt5fps: number; atLeast: boolean; coresPerFlight: number }> {
  const steps: Step[] = [];
  let best = 0;
  for (const n of FLIGHT_STEPS.filter((count) => count <= max)) {
    const step = await capacityStep(natsUrl, nc, book, n, register, warmupS, windowS, `${register ? 'reg' : 'emb'}${n}`);
    steps.push(step);
    process.stdout.write(`  ${register ? 'with registration' : 'embedded model'}: ${n} flight(s) → fixes/s ${step.ratesPerS.map((r) => r.toFixed(2)).join(', ')}; ${step.coresPerFlight.toFixed(3)} cores per flight; ${step.keepsUp ? 'keeps up' : 'falls behind'}\n`);
    if (!step.keepsUp) break;
    best = n;
  }
  // every step held: the machine keeps at least this many, the bench did not find its limit
  const atLeast = steps.every((step) => step.keepsUp);
  // CPU per flight where every flight kept its rate (else the last step's, an underestimate of the need)
  const held = steps.filter((step) => step.keepsUp);
  const coresPerFlight = (held.length > 0 ? held : steps).map((step) => step.coresPerFlight).sort((a, b) => a - b)[0]!;
  return { steps, flightsAt5fps: best, atLeast, coresPerFlight };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'window-s': { type: 'string', default: '30' },
      'warmup-s': { type: 'string', default: '10' },
      // the feature worker and the map imagery take longer to open
      'register-warmup-s': { type: 'string', default: '30' },
      'latency-s': { type: 'string', default: '30' },
      'max-flights': { type: 'string', default: '32' },
      'register-max': { type: 'string', default: '2' },
    },
  });
  ensureNats();
  const server = await startNats();
  const nc = await connectNats(server.url, { logger: silentLogger });
  try {
    const book = new FlightBook(await ensureStreams(nc));
    const lat = await latency(nc, Number(values['latency-s']));
    const f = (s: Summary) => `p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms`;
    process.stdout.write(`latency decoded → client over ${lat.fixes} fixes: in-process ${f(lat.inProcessMs)}; through NATS ${f(lat.throughNatsMs)}; added per fix ${f(lat.addedMs)}\n`);
    const windowS = Number(values['window-s']);
    const warmupS = Number(values['warmup-s']);
    const embedded = await capacity(server.url, nc, book, false, Number(values['max-flights']), warmupS, windowS);
    const registered = await capacity(server.url, nc, book, true, Number(values['register-max']), Number(values['register-warmup-s']), windowS);
    const { state } = await (await jetstreamManager(nc)).streams.info(FIXES_STREAM);
    const bytesPerFix = state.bytes / state.messages;
    const perFlightHourMB = (bytesPerFix * FPS * HOUR_S) / 2 ** 20;
    process.stdout.write(
      [
        `flights per machine at ${FPS} fps (2 shared cores): embedded model ${embedded.atLeast ? '≥ ' : ''}${embedded.flightsAt5fps}, with registration ${registered.atLeast ? '≥ ' : ''}${registered.flightsAt5fps}`,
        `CPU per flight at ${FPS} fps (worker and its decoder): embedded model ${embedded.coresPerFlight.toFixed(3)} cores, with registration ${registered.coresPerFlight.toFixed(3)} cores`,
        `stream storage: ${state.messages} fixes, ${bytesPerFix.toFixed(0)} B per fix → ${perFlightHourMB.toFixed(1)} MB per flight-hour at ${FPS} fixes/s`,
      ].join('\n') + '\n',
    );
    const result = { bench: 'nats', loadAverage: loadavg(), cores: cpus().length, latency: lat, embedded, registered, storage: { messages: state.messages, bytes: state.bytes, bytesPerFix, perFlightHourMB }, measuredAt: new Date().toISOString() };
    const dir = join(repoRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'nats.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    await nc.close();
    await server.remove();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`nats bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
