/**
 * Bad input to the NATS scale-out, each answered with one coded message while the processes
 * serve on: a malformed job goes to the dead-letter subject, a duplicate flight name is refused,
 * a job whose index the worker lacks fails with the coded reason in the flight's status, NATS
 * unreachable at start is said clearly and retried, and bad flags and names are usage errors.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseClientMessage } from '../gateway/protocol';
import { silentLogger } from '../pipeline/core/log';
import { connectNats } from '../pipeline/nats/connect';
import { FlightBook, type FlightStatus } from '../pipeline/nats/flightBook';
import { DEAD_STREAM, DEAD_SUBJECT, ERROR_HEADER, JOBS_STREAM, JOBS_SUBJECT } from '../pipeline/nats/names';
import { ensureStreams } from '../pipeline/nats/streams';
import { demoPaths } from '../fixtures/defaults';
import { runCli } from './support/cli';
import { ensureNats, type NatsServer, startNats } from './support/nats';
import { startWorker } from './support/natsFleet';
import { freeTcpPort, killAndWait, waitFor } from './support/processes';

const WAIT_MS = 20_000;

async function waitForStatus(book: FlightBook, flight: string, match: (s: FlightStatus) => boolean): Promise<FlightStatus> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const status = await book.get(flight);
    if (status && match(status)) return status;
    if (Date.now() > deadline) throw new Error(`flight ${flight}: status ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('NATS scale-out: bad input', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let book: FlightBook;
  let worker: ReturnType<typeof startWorker>;

  beforeAll(async () => {
    ensureNats();
    server = await startNats();
    nc = await connectNats(server.url, { logger: silentLogger });
    book = new FlightBook(await ensureStreams(nc));
    worker = startWorker(server.url, 'bad-input-worker');
  });

  afterAll(async () => {
    if (worker) await killAndWait(worker.child);
    await nc?.close();
    await server?.remove();
  });

  test('a malformed job is refused, logged and moved to the dead-letter subject; the worker serves on', async () => {
    const js = jetstream(nc);
    await js.publish(JOBS_SUBJECT, 'not json at all');
    await js.publish(JOBS_SUBJECT, JSON.stringify({ flight: 'no spaces allowed', source: 'udp://127.0.0.1:1', index: '/x' }));
    await js.publish(JOBS_SUBJECT, JSON.stringify({ flight: 'nosource', index: '/x' }));
    const consumer = await js.consumers.get(DEAD_STREAM, { filter_subjects: DEAD_SUBJECT, deliver_policy: DeliverPolicy.All });
    const dead: Array<{ data: string; reason: string }> = [];
    for await (const msg of await consumer.consume()) {
      dead.push({ data: msg.string(), reason: msg.headers?.get(ERROR_HEADER) ?? '' });
      if (dead.length === 3) break;
    }
    expect(dead.map((d) => d.data)).toEqual(expect.arrayContaining(['not json at all']));
    expect(dead.every((d) => d.reason.startsWith('GEOLOC_ERR_NATS_JOB_MALFORMED'))).toBe(true);
    expect(dead.map((d) => d.reason).join('\n')).toMatch(/not JSON[\s\S]*flight must be[\s\S]*source must be/);
    await waitFor(() => (worker.stderr().match(/^geoloc error GEOLOC_ERR_NATS_JOB_MALFORMED: flight job refused/gm) ?? []).length === 3, WAIT_MS, 'the worker to log each refusal');
    // refused for good: nothing left in the work queue
    const { state } = await (await jetstreamManager(nc)).streams.info(JOBS_STREAM);
    expect(state.messages).toBe(0);
    expect(worker.child.exitCode).toBeNull();
  });

  test("a job whose index is missing on the worker fails with the coded reason in the flight's status", async () => {
    const added = await runCli(['flights', 'add', 'noindex', '--source', 'udp://127.0.0.1:9', '--index', '/no/such/index', '--nats', server.url]);
    expect(added.code).toBe(0);
    const status = await waitForStatus(book, 'noindex', (s) => s.state === 'failed');
    expect(status).toMatchObject({ state: 'failed', worker: 'bad-input-worker', error: { code: 'GEOLOC_ERR_FILE_NOT_FOUND' } });
    expect(status.error!.message).toContain('/no/such/index');
    const shown = await runCli(['flights', 'status', 'noindex', '--nats', server.url]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'failed', error: { code: 'GEOLOC_ERR_FILE_NOT_FOUND' } });
    expect(worker.stderr()).toMatch(/GEOLOC_ERR_NATS_FLIGHT_FAILED: flight noindex failed .*GEOLOC_ERR_FILE_NOT_FOUND/);
    // not redelivered: the status keeps its first claim
    expect((await book.get('noindex'))!.claim).toBe(1);
    const listed = await runCli(['flights', 'list', '--nats', server.url]);
    expect(listed.stdout).toMatch(/^noindex\tfailed\tbad-input-worker\t1\t.*GEOLOC_ERR_FILE_NOT_FOUND$/m);
  });

  test('a duplicate flight name is refused and queues nothing', async () => {
    const args = ['--source', 'udp://127.0.0.1:9', '--index', demoPaths().index, '--nats', server.url];
    expect((await runCli(['flights', 'add', 'twice', ...args])).code).toBe(0);
    const jobsBefore = (await (await jetstreamManager(nc)).streams.info(JOBS_STREAM)).state.last_seq;
    const again = await runCli(['flights', 'add', 'twice', ...args]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('GEOLOC_ERR_NATS_FLIGHT_EXISTS');
    expect(again.stderr).toContain('twice');
    expect((await (await jetstreamManager(nc)).streams.info(JOBS_STREAM)).state.last_seq).toBe(jobsBefore);
    expect((await runCli(['flights', 'stop', 'twice', '--nats', server.url])).code).toBe(0);
    await waitForStatus(book, 'twice', (s) => s.state === 'stopped');
    expect((await runCli(['flights', 'remove', 'twice', '--nats', server.url])).code).toBe(0);
    expect((await runCli(['flights', 'status', 'twice', '--nats', server.url])).stderr).toContain('GEOLOC_ERR_NATS_FLIGHT_UNKNOWN');
  });

  test('NATS unreachable at start: a clear coded line per attempt, a retry, and work once it is up', async () => {
    const port = await freeTcpPort();
    const url = `nats://127.0.0.1:${port}`;
    const control = await runCli(['flights', 'list', '--nats', url, '--connect-timeout', '1000']);
    expect(control.code).toBe(1);
    expect(control.stderr).toMatch(/GEOLOC_ERR_NATS_UNREACHABLE: no NATS server answered at nats:\/\/127\.0\.0\.1:\d+ within 1000 ms/);
    const late = startWorker(url, 'late-worker');
    let lateServer: NatsServer | undefined;
    try {
      await waitFor(() => (late.stderr().match(/GEOLOC_ERR_NATS_UNREACHABLE: no NATS server answered/g) ?? []).length >= 2, WAIT_MS, 'two failed attempts');
      lateServer = await startNats(port);
      await waitFor(() => /connected to NATS .* after \d+ failed attempt/.test(late.stderr()) && /worker late-worker taking flight jobs/.test(late.stderr()), WAIT_MS, 'the worker to connect');
    } finally {
      await killAndWait(late.child);
      await lateServer?.remove();
    }
  });

  test.each([
    [['worker'], '--nats'],
    [['worker', '--nats', 'nats://127.0.0.1:1', '--slots', '0'], '--slots'],
    [['flights', 'add', 'bad name', '--source', 'udp://127.0.0.1:9', '--index', 'x', '--nats', 'nats://127.0.0.1:1'], 'flight name'],
    [['flights', 'add', 'f', '--index', 'x', '--nats', 'nats://127.0.0.1:1'], '--source'],
    [['flights', 'status', '--nats', 'nats://127.0.0.1:1'], 'name one flight'],
  ])('%j is a usage error naming %s', async (args, mention) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GEOLOC_ERR_USAGE');
    expect(result.stderr).toContain(mention);
  });

  test('a subscribe whose "after" is not a sequence number is malformed', () => {
    for (const after of [-1, 1.5, '3', null]) {
      expect(parseClientMessage(JSON.stringify({ type: 'subscribe', flight: 'f', after }))).toMatchObject({ ok: false, error: { code: 'GEOLOC_ERR_WS_MALFORMED' } });
    }
    expect(parseClientMessage(JSON.stringify({ type: 'unsubscribe', flight: 'f', after: 3 }))).toMatchObject({ ok: false });
    expect(parseClientMessage(JSON.stringify({ type: 'subscribe', flight: 'f', after: 3 }))).toEqual({ ok: true, message: { type: 'subscribe', flight: 'f', after: 3 } });
  });
});
