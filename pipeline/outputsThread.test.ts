import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RecordingLogger, silentLogger } from './core/log';
import { straightFlight } from '../tests/support/fixFeatures';
import { udpReceiver, type UdpReceiver } from '../tests/support/loopback';
import { freeTcpPort, waitFor } from '../tests/support/processes';
import { scratchDir } from '../tests/support/scratch';
import { OUTPUT_ARG_OPTIONS, openOutputs } from './outputArgs';
import { type Outputs, OutputsThread } from './outputsThread';

const parse = (args: string[]) => parseArgs({ args, options: OUTPUT_ARG_OPTIONS, strict: true }).values;
const START = '2024-05-01T09:30:00Z';
const FIXES = 20;
const WAIT_MS = 10_000;
/** GGA's latitude field (ddmm.mmmmmm) back to degrees */
const ggaLatitude = (gga: string) => {
  const field = gga.split(',')[2]!;
  return Number(field.slice(0, 2)) + Number(field.slice(2)) / 60;
};

describe('the outputs on a thread of their own', () => {
  const scratch = scratchDir('outputs-thread');
  let receiver: UdpReceiver;
  let outputs: Outputs | undefined;

  beforeEach(async () => {
    receiver = await udpReceiver();
  });

  afterEach(async () => {
    await outputs?.close();
    await receiver.close();
  });

  afterAll(() => scratch.remove());

  test('each fix handed over reaches every output whole and in order; the counts come back while they run', async () => {
    const cotPath = join(scratch.dir, 'fixes.cot');
    outputs = openOutputs(parse(['--nmea', `udp://127.0.0.1:${receiver.port}`, '--cot', cotPath, '--output-start', START]), silentLogger);
    const fixes = straightFlight(FIXES, { lostEvery: 7 });
    for (const fix of fixes) outputs.fix(fix);
    await waitFor(() => outputs!.stats().every((s) => s.sent === FIXES), WAIT_MS, 'every fix counted as sent');
    expect(outputs.stats()).toEqual([
      { name: 'nmea', target: `udp://127.0.0.1:${receiver.port}`, sent: FIXES, dropped: 0, errors: 0, cutOffs: 0, connected: true, queued: 0, bufferedBytes: 0 },
      { name: 'cot', target: cotPath, sent: FIXES, dropped: 0, errors: 0, cutOffs: 0, connected: true, queued: 0, bufferedBytes: 0 },
    ]);
    await outputs.close();

    // NMEA: one datagram per fix, its GGA at the fix's place (no position when lost)
    const ggas = receiver.datagrams.map((d) => d.toString('ascii').split('\r\n').find((s) => s.startsWith('$GPGGA'))!);
    expect(ggas).toHaveLength(FIXES);
    ggas.forEach((gga, i) => {
      if (fixes[i]!.properties.lost) expect(gga.split(',')[6]).toBe('0');
      else expect(ggaLatitude(gga)).toBeCloseTo(fixes[i]!.geometry.coordinates[1], 6);
    });
    // CoT: the fix's flight, time, place and track, so the whole fix crossed over
    const events = readFileSync(cotPath, 'utf8').trim().split('\n');
    expect(events).toHaveLength(FIXES);
    events.forEach((event, i) => {
      const { t, speedMps, flight } = fixes[i]!.properties;
      expect(event).toContain(`time="${new Date(Date.parse(START) + t * 1000).toISOString()}"`);
      expect(event).toContain(`lat="${fixes[i]!.geometry.coordinates[1].toFixed(7)}"`);
      expect(event).toContain(`speed="${(speedMps as number).toFixed(2)}"`);
      expect(event).toContain(`callsign="${flight}"`);
    });
  });

  test("what the outputs' thread logs reaches the pipeline's logger; a refusing consumer is counted there", async () => {
    const logger = new RecordingLogger();
    const target = `tcp://127.0.0.1:${await freeTcpPort()}`;
    outputs = openOutputs(parse(['--nmea', target]), logger);
    await waitFor(() => logger.withCode('GEOLOC_ERR_OUTPUT_UNAVAILABLE').length > 0, WAIT_MS, 'the refusal logged');
    expect(logger.withCode('GEOLOC_ERR_OUTPUT_UNAVAILABLE')[0]!.message).toContain(target);
    await waitFor(() => outputs!.stats()[0]!.errors > 0, WAIT_MS, 'the refusal counted');
    expect(outputs.stats()[0]).toMatchObject({ name: 'nmea', target, sent: 0, connected: false });
  });

  test('closed: close again resolves, later fixes are left out and the last counts stay', async () => {
    outputs = openOutputs(parse(['--nmea', `udp://127.0.0.1:${receiver.port}`]), silentLogger);
    const [first, second] = straightFlight(2);
    outputs.fix(first!);
    await outputs.close();
    await outputs.close();
    outputs.fix(second!);
    expect(outputs.stats()[0]).toMatchObject({ sent: 1, dropped: 0 });
    expect(receiver.datagrams).toHaveLength(1);
  });

  test("a thread that fails costs the run its outputs, not the pipeline: said once as an error, fixes left out, close resolves", async () => {
    const logger = new RecordingLogger();
    // flags openOutputs would have refused: the thread's own check throws
    outputs = new OutputsThread({ nmea: ['udp://127.0.0.1'] }, [{ name: 'nmea', target: 'udp://127.0.0.1' }], logger);
    await waitFor(() => logger.withCode('GEOLOC_ERR_OUTPUT_UNAVAILABLE').length > 0, WAIT_MS, 'the failure logged');
    expect(logger.records).toEqual([expect.objectContaining({ level: 'error', code: 'GEOLOC_ERR_OUTPUT_UNAVAILABLE', message: expect.stringContaining("the outputs' thread failed") })]);
    outputs.fix(straightFlight(1)[0]!);
    await outputs.close();
    expect(outputs.stats()[0]).toMatchObject({ sent: 0, connected: false });
  });
});
