/**
 * What the fix outputs cost the pipeline: every registered format (--nmea, …) at once, each to
 * every transport named (a UDP receiver, a TCP consumer, a file), at their default rates, fed 10
 * fixes a second as a live run would, against a baseline with no outputs, the two alternating
 * in the same run. The consumers run in a child process so that their work is not counted.
 *
 * Per fix, as percentiles, each against the baseline:
 *   hand-over    the synchronous call of the outputs' fix(): what the pipeline waits for (the fix
 *                handed to the outputs' own thread)
 *   main thread  the CPU time of the pipeline's thread from one fix to the next, the hand-over
 *                included: whatever the outputs leave on it (Linux's per-thread schedstat: CPU
 *                time, so that other processes taking the core do not count)
 * and the process CPU per fix (every thread: the outputs' own, where they encode and write,
 * libuv's file writes, V8's helpers). Target: the outputs add at most 1 ms of main-thread CPU per
 * fix, at p99, over the baseline's.
 *
 * usage: node dist/bench/outputs.js [--seconds 30] [--rounds 2] [--rate 10] [--transports udp,tcp,file]
 *                                  [--out bench/results/outputs.json]
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { silentLogger } from '../pipeline/core/log';
import { repoRoot } from '../pipeline/core/paths';
import { percentile } from '../pipeline/core/stats';
import type { PipelineSink } from '../pipeline/core/types';
import { OUTPUT_ARG_OPTIONS, OUTPUT_NAMES, openOutputs, outputsReport, type OutputsReport } from '../pipeline/outputArgs';
import { straightFlight } from '../tests/support/fixFeatures';
import { tcpConsumer, udpReceiver } from '../tests/support/loopback';
import { freeTcpPort, waitFor } from '../tests/support/processes';
import { scratchDir } from '../tests/support/scratch';

const CONSUMER_ROLE = '--role=consumer';
const MS_PER_S = 1000;
const US_PER_MS = 1000;
const TARGET_MS = 1;
/** fixes cycled through: a few minutes of flight, lost fixes among them */
const FLIGHT_FIXES = 3000;
const LOST_EVERY = 50;
const CONNECT_TIMEOUT_MS = 10_000;
const NS_PER_MS = 1e6;

/** CPU time of the calling thread, ms: the first field of /proc/thread-self/schedstat (ns). */
const threadCpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / NS_PER_MS;

interface ConsumerPorts {
  udp: number[];
  tcp: number[];
}

/** The child: a UDP receiver and a TCP consumer per output format, reading everything. */
async function runConsumer(): Promise<void> {
  const udp = await Promise.all(OUTPUT_NAMES.map(() => udpReceiver()));
  const tcp = await Promise.all(
    OUTPUT_NAMES.map(async () => {
      const port = await freeTcpPort();
      await tcpConsumer(port);
      return port;
    }),
  );
  process.send!({ udp: udp.map((u) => u.port), tcp } satisfies ConsumerPorts);
  process.on('disconnect', () => process.exit(0));
}

interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

interface Arm {
  fixes: number;
  /** µs */
  handOverUs: Percentiles;
  /** main-thread CPU ms from one fix to the next */
  mainThreadMs: Percentiles;
  cpuMsPerFix: number;
}

function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
}

/** Feeds `sinks` `rate` fixes a second for `seconds`, timing each hand-over and the main thread's CPU between fixes. */
function feed(sinks: readonly PipelineSink[], rate: number, seconds: number, start: number): Promise<{ handOverMs: number[]; busyMs: number[]; cpuMs: number }> {
  const fixes = straightFlight(FLIGHT_FIXES, { rateHz: rate, lostEvery: LOST_EVERY });
  const total = Math.round(rate * seconds);
  const handOverMs: number[] = [];
  const busyMs: number[] = [];
  const cpuBefore = process.cpuUsage();
  let cpuMs = threadCpuMs();
  let sent = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const next = threadCpuMs();
      if (sent > 0) busyMs.push(next - cpuMs);
      cpuMs = next;
      if (sent === total) {
        clearInterval(timer);
        const cpu = process.cpuUsage(cpuBefore);
        resolve({ handOverMs, busyMs, cpuMs: (cpu.user + cpu.system) / US_PER_MS });
        return;
      }
      const fix = fixes[(start + sent++) % fixes.length]!;
      const t0 = performance.now();
      for (const sink of sinks) sink.fix?.(fix, 0);
      handOverMs.push(performance.now() - t0);
    }, MS_PER_S / rate);
  });
}

function summarizeArm(runs: Array<{ handOverMs: number[]; busyMs: number[]; cpuMs: number }>): Arm {
  const handOver = runs.flatMap((r) => r.handOverMs);
  return {
    fixes: handOver.length,
    handOverUs: percentiles(handOver.map((ms) => ms * US_PER_MS)),
    mainThreadMs: percentiles(runs.flatMap((r) => r.busyMs)),
    cpuMsPerFix: runs.reduce((s, r) => s + r.cpuMs, 0) / handOver.length,
  };
}

function table(baseline: Arm, outputs: Arm): string {
  const rows: Array<[string, (a: Arm) => number, number]> = [
    ['hand-over p50 (µs)', (a) => a.handOverUs.p50, 1],
    ['hand-over p95 (µs)', (a) => a.handOverUs.p95, 1],
    ['hand-over p99 (µs)', (a) => a.handOverUs.p99, 1],
    ['hand-over max (µs)', (a) => a.handOverUs.max, 1],
    ['main-thread CPU p50 (ms)', (a) => a.mainThreadMs.p50, 3],
    ['main-thread CPU p95 (ms)', (a) => a.mainThreadMs.p95, 3],
    ['main-thread CPU p99 (ms)', (a) => a.mainThreadMs.p99, 3],
    ['process CPU mean (ms)', (a) => a.cpuMsPerFix, 3],
  ];
  const cells = rows.map(([name, get, digits]) => [name, get(baseline).toFixed(digits), get(outputs).toFixed(digits), (get(outputs) - get(baseline)).toFixed(digits)]);
  const header = ['per fix', 'no outputs', 'all outputs', 'added'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) => '| ' + row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '30' },
      rounds: { type: 'string', default: '2' },
      rate: { type: 'string', default: '10' },
      transports: { type: 'string', default: 'udp,tcp,file' },
      out: { type: 'string', default: join(repoRoot(), 'bench', 'results', 'outputs.json') },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const rate = Number(values.rate);
  const transports = values.transports.split(',');
  const child = fork(__filename, [CONSUMER_ROLE], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<ConsumerPorts>((resolve) => child.once('message', (m) => resolve(m as ConsumerPorts)));
  const scratch = scratchDir('bench-outputs');
  const target = (kind: string, name: string, i: number, round: number): string => {
    if (kind === 'udp') return `udp://127.0.0.1:${ports.udp[i]}`;
    if (kind === 'tcp') return `tcp://127.0.0.1:${ports.tcp[i]}`;
    if (kind === 'file') return join(scratch.dir, `${name}-${round}.out`);
    throw new Error(`--transports: ${kind} is none of udp, tcp, file`);
  };
  const baselineRuns: Array<Awaited<ReturnType<typeof feed>>> = [];
  const outputRuns: typeof baselineRuns = [];
  const reports: OutputsReport[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      baselineRuns.push(await feed([], rate, seconds, round * rate * seconds));
      const args = OUTPUT_NAMES.flatMap((name, i) => transports.flatMap((kind) => [`--${name}`, target(kind, name, i, round)]));
      const outputs = openOutputs(parseArgs({ args, options: OUTPUT_ARG_OPTIONS, strict: true }).values, silentLogger);
      await waitFor(() => outputs.stats().every((o) => o.connected), CONNECT_TIMEOUT_MS, 'every output to connect');
      outputRuns.push(await feed([outputs], rate, seconds, round * rate * seconds));
      await outputs.close();
      reports.push(outputsReport(outputs));
      process.stderr.write(`[bench] round ${round + 1} of ${rounds} done\n`);
    }
  } finally {
    child.disconnect();
    scratch.remove();
  }
  const baseline = summarizeArm(baselineRuns);
  const outputs = summarizeArm(outputRuns);
  const count = OUTPUT_NAMES.length * transports.length;
  const added = (p: 'p50' | 'p99') => outputs.mainThreadMs[p] - baseline.mainThreadMs[p];
  const addedP99Ms = added('p99');
  const text = [
    `fix outputs: ${OUTPUT_NAMES.join(', ')}, each to ${transports.join(', ')} (${count} outputs), ${rate} fixes/s, ${rounds} rounds of ${seconds} s per arm, alternating`,
    '',
    table(baseline, outputs),
    '',
    `main-thread CPU the outputs add per fix: p50 ${added('p50').toFixed(3)} ms, p99 ${addedP99Ms.toFixed(3)} ms (${(addedP99Ms / count).toFixed(3)} ms per output); target ≤ ${TARGET_MS} ms at p99: ${addedP99Ms <= TARGET_MS ? 'met' : 'NOT met'}`,
  ].join('\n');
  process.stdout.write(text + '\n');
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), rate, seconds, rounds, formats: OUTPUT_NAMES, transports, baseline, outputs, addedP99Ms, targetMs: TARGET_MS, outputReports: reports }, null, 2) + '\n');
  process.stderr.write(`[bench] results in ${values.out}\n`);
}

if (process.argv.includes(CONSUMER_ROLE)) void runConsumer();
else void main();
