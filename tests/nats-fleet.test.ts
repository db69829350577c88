/**
 * The NATS fleet on loopback, every part its own process: a nats-server with JetStream in a
 * scratch folder, 3 workers, 2 gateways and 6 flights streamed over UDP from the fixture video.
 * Clients on both gateways get every flight's fixes in stream order; a worker killed with -9
 * loses its flights to the others within the bound, with nothing lost or repeated for a client;
 * a killed gateway's clients continue on the other from their last fix; NATS restarted
 * mid-flight costs no fix already published and the flights go on; a gateway started after
 * it all gives a new client the same fixes, read from the stream.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ChildProcess } from 'node:child_process';
import type { WireFix } from '../gateway/protocol';
import { demoPaths } from '../fixtures/defaults';
import { silentLogger } from '../pipeline/core/log';
import { connectNats } from '../pipeline/nats/connect';
import { FlightBook } from '../pipeline/nats/flightBook';
import { FIXES_STREAM, fixSubject } from '../pipeline/nats/names';
import { ensureStreams } from '../pipeline/nats/streams';
import { queueFlight } from '../pipeline/nats/queueFlight';
import { configFromArgs } from '../pipeline/pipelineArgs';
import { ensureNats, type NatsServer, startNats } from './support/nats';
import { FollowingClient, type GatewayCli, reapDecoders, startNatsGateway, startWorker } from './support/natsFleet';
import { freeUdpPort, killAndWait, startSender, waitFor } from './support/processes';

const FLIGHTS = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
const WORKERS = 3;
/** 3 × 3 slots: two workers hold all six flights when one dies */
const SLOTS = 3;
/** the issue's bound: a dead worker's flights resume on the others within 10 s */
const RESUME_WITHIN_MS = 10_000;
const CLAIM_TIMEOUT_MS = 3000;
/** fixes per second per flight, kept low for two shared cores */
const FPS = 2;
const FIXES_PER_PHASE = 3;
const PHASE_MS = 60_000;
/** the whole test: ~35–50 s alone on two shared cores; room for a full parallel `make test` */
const TEST_TIMEOUT_MS = 300_000;

/** Every fix stored for a flight, in stream order. */
async function streamFixes(nc: NatsConnection, flight: string): Promise<WireFix[]> {
  const { state } = await (await jetstreamManager(nc)).streams.info(FIXES_STREAM, { subjects_filter: fixSubject(flight) });
  const count = (state.subjects as Record<string, number> | undefined)?.[fixSubject(flight)] ?? 0;
  const fixes: WireFix[] = [];
  if (count === 0) return fixes;
  const consumer = await jetstream(nc).consumers.get(FIXES_STREAM, { filter_subjects: fixSubject(flight), deliver_policy: DeliverPolicy.All });
  for await (const msg of await consumer.consume()) {
    fixes.push({ ...msg.json<WireFix>(), properties: { ...msg.json<WireFix>().properties, seq: msg.seq } });
    if (fixes.length === count) break;
  }
  return fixes;
}

const ids = (fixes: readonly WireFix[]) => fixes.map((f) => `${f.properties.claim}:${f.properties.frame}@${f.properties.seq}`);

describe('a NATS fleet on loopback', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let book: FlightBook;
  const senders: ChildProcess[] = [];
  const workers: Array<ReturnType<typeof startWorker>> = [];
  const gateways: GatewayCli[] = [];
  const clients = [new FollowingClient(FLIGHTS), new FollowingClient(FLIGHTS)];

  beforeAll(async () => {
    ensureNats();
    server = await startNats();
    nc = await connectNats(server.url, { logger: silentLogger });
    book = new FlightBook(await ensureStreams(nc, { fixesMaxAgeS: 3600, fixesMaxBytes: 1 << 28, claimTimeoutMs: CLAIM_TIMEOUT_MS, duplicateWindowS: 120 }));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([...workers.map((w) => killAndWait(w.child)), ...gateways.map((g) => killAndWait(g.child)), ...senders.map((s) => killAndWait(s))]);
    workers.forEach(reapDecoders);
    await nc?.close();
    await server?.remove();
  });

  const everyFlightHas = (client: FollowingClient, counts: Map<string, number>, more: number, flights = FLIGHTS) => () => flights.every((f) => client.count(f) >= (counts.get(f) ?? 0) + more);
  const countsOf = (client: FollowingClient) => new Map(FLIGHTS.map((f) => [f, client.count(f)]));

  test('workers fail over, gateways hand over, NATS restarts: every client sees each stored fix once, in order', async () => {
    const video = demoPaths().video;
    for (let i = 0; i < WORKERS; i += 1) workers.push(startWorker(server.url, `w${i + 1}`, ['--slots', String(SLOTS)]));
    gateways.push(await startNatsGateway(server.url), await startNatsGateway(server.url));
    await clients[0]!.connect(gateways[0]!.wsUrl);
    await clients[1]!.connect(gateways[1]!.wsUrl);
    for (const flight of FLIGHTS) {
      const url = `udp://127.0.0.1:${await freeUdpPort()}`;
      senders.push(startSender(video, `${url}?pkt_size=1316`));
      // registration off: these flights test the fleet, not the fix quality, on two shared cores
      const { flight: _name, ...settings } = configFromArgs({ fps: String(FPS), register: false }, { flight });
      await queueFlight(nc, book, { flight, source: url, index: demoPaths().index, settings });
    }
    const none = new Map<string, number>();
    await waitFor(everyFlightHas(clients[0]!, none, FIXES_PER_PHASE), PHASE_MS, 'fixes of every flight on gateway 1');
    await waitFor(everyFlightHas(clients[1]!, none, FIXES_PER_PHASE), PHASE_MS, 'fixes of every flight on gateway 2');

    // kill -9 the worker holding the most flights
    const statuses = await book.list();
    const holders = workers.map((w) => ({ worker: w, flights: statuses.filter((s) => s.worker === w.name && s.state === 'running').map((s) => s.flight) }));
    const victim = holders.sort((a, b) => b.flights.length - a.flights.length)[0]!;
    expect(victim.flights.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    await killAndWait(victim.worker.child);
    const resumed = () => {
      clients[0]!.collect();
      return victim.flights.every((f) => clients[0]!.fixes.get(f)!.some((fix) => (fix.properties.claim as number) > 1 && fix.properties.sentAt > killedAt));
    };
    await waitFor(resumed, RESUME_WITHIN_MS, `flights ${victim.flights.join(', ')} to resume on the other workers`).catch(async (err) => {
      throw new Error(`${(err as Error).message}\nstatuses: ${JSON.stringify((await book.list()).map(({ job: _job, ...s }) => s))}\n${workers.map((w) => `${w.name}:\n${w.stderr().slice(-3000)}`).join('\n')}`);
    });
    for (const flight of victim.flights) expect((await book.get(flight))?.worker).not.toBe(victim.worker.name);

    // kill a gateway: its client goes on at the other from its last fix
    await killAndWait(gateways[1]!.child);
    await clients[1]!.close();
    const beforeHandOver = countsOf(clients[1]!);
    await clients[1]!.connect(gateways[0]!.wsUrl);
    await waitFor(everyFlightHas(clients[1]!, beforeHandOver, FIXES_PER_PHASE), PHASE_MS, 'fixes after the hand-over');

    // restart NATS mid-flight
    const beforeRestart = countsOf(clients[0]!);
    await server.restart();
    await waitFor(everyFlightHas(clients[0]!, beforeRestart, FIXES_PER_PHASE), PHASE_MS, 'fixes after NATS restarted');

    await Promise.all(FLIGHTS.map((flight) => book.requestStop(flight)));
    let states: string[] = [];
    const allStopped = async () => (states = (await book.list()).map((s) => s.state)).every((s) => s === 'stopped');
    const deadline = Date.now() + PHASE_MS;
    while (!(await allStopped())) {
      if (Date.now() > deadline) throw new Error(`flights not stopped: ${states.join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // the last fixes the workers flushed reach the gateway
    await new Promise((r) => setTimeout(r, 1000));

    // a gateway started now: a new client's snapshots are read from the stream
    gateways.push(await startNatsGateway(server.url));
    const late = new FollowingClient(FLIGHTS);
    clients.push(late);
    await late.connect(gateways[2]!.wsUrl);
    const stored = new Map(await Promise.all(FLIGHTS.map(async (flight) => [flight, await streamFixes(nc, flight)] as const)));
    await waitFor(() => FLIGHTS.every((f) => late.count(f) >= stored.get(f)!.length), PHASE_MS, 'the new gateway to hold every stored fix');

    for (const flight of FLIGHTS) {
      const stored = await streamFixes(nc, flight);
      for (const client of clients) {
        client.collect();
        const got = client.fixes.get(flight)!;
        // in stream order, none twice, none left out between the first and the last it got
        expect(ids(got)).toEqual(ids(stored).slice(0, got.length));
      }
      const frames = new Set(stored.map((f) => `${f.properties.claim}:${f.properties.frame}`));
      expect(frames.size).toBe(stored.length);
    }
    for (const flight of victim.flights) expect(new Set((await streamFixes(nc, flight)).map((f) => f.properties.claim)).size).toBeGreaterThan(1);
    expect(workers.filter((w) => w !== victim.worker).every((w) => w.child.exitCode === null)).toBe(true);
  }, TEST_TIMEOUT_MS);
});
