/**
 * The flight book against a real nats-server: a name is created once, statuses read back and
 * listed, a stop request and a later claim by another worker each end a watched flight once.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { silentLogger } from '../core/log';
import { ensureNats, type NatsServer, startNats } from '../../tests/support/nats';
import { waitFor } from '../../tests/support/processes';
import { connectNats } from './connect';
import { FlightBook } from './flightBook';
import type { FlightJob } from './job';
import { ensureStreams } from './streams';

const job = (flight: string): FlightJob => ({ flight, source: 'udp://127.0.0.1:5600', index: '/srv/index' });
const WAIT_MS = 5000;

describe('FlightBook', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let book: FlightBook;

  beforeAll(async () => {
    ensureNats();
    server = await startNats();
    nc = await connectNats(server.url, { logger: silentLogger });
    book = new FlightBook(await ensureStreams(nc));
  });

  afterAll(async () => {
    await nc?.close();
    await server?.remove();
  });

  test('a name is taken once; statuses read back, list in name order, and a removed name is free again', async () => {
    await book.create(job('b'));
    await book.create(job('a'));
    await expect(book.create(job('a'))).rejects.toMatchObject({ code: 'GEOLOC_ERR_NATS_FLIGHT_EXISTS' });
    await book.put({ ...(await book.require('a')), state: 'done', worker: 'w1', claim: 1 });
    expect((await book.list()).map((s) => [s.flight, s.state])).toEqual([
      ['a', 'done'],
      ['b', 'queued'],
    ]);
    await expect(book.require('nope')).rejects.toMatchObject({ code: 'GEOLOC_ERR_NATS_FLIGHT_UNKNOWN' });
    await book.remove('a');
    expect(await book.get('a')).toBeUndefined();
    await expect(book.create(job('a'))).resolves.toMatchObject({ flight: 'a', state: 'queued' });
  });

  test('a stop request ends a watched flight, once, and a stop asked before the watch counts', async () => {
    await book.create(job('stopme'));
    const ends: string[] = [];
    const unwatch = await book.watchFlight('stopme', 1, (why) => ends.push(why));
    await book.requestStop('stopme');
    await book.requestStop('stopme');
    await waitFor(() => ends.length > 0, WAIT_MS, 'the stop');
    const late: string[] = [];
    const unwatchLate = await book.watchFlight('stopme', 1, (why) => late.push(why));
    await waitFor(() => late.length > 0, WAIT_MS, 'the earlier stop');
    unwatch();
    unwatchLate();
    expect([ends, late]).toEqual([['stop'], ['stop']]);
  });

  test("another worker's later claim supersedes the copy watching with the earlier one; its own writes do not", async () => {
    await book.create(job('over'));
    const base = (await book.require('over'))!;
    await book.put({ ...base, state: 'running', worker: 'w1', claim: 1 });
    const ends: Array<[string, string | undefined]> = [];
    const unwatch = await book.watchFlight('over', 1, (why, by) => ends.push([why, by?.worker]));
    await book.put({ ...base, state: 'running', worker: 'w1', claim: 1, fixes: 10 });
    await book.put({ ...base, state: 'running', worker: 'w2', claim: 2 });
    await waitFor(() => ends.length > 0, WAIT_MS, 'the takeover');
    unwatch();
    expect(ends).toEqual([['superseded', 'w2']]);
  });
});
