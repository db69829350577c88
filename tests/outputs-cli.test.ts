/**
 * `geoloc run` and `geoloc replay` with fix outputs, end to end: the compiled CLI on the
 * synthetic flight, its NMEA read by a real gpsd over loopback UDP, written to a file, and sent
 * to a TCP port that refuses; the counts in the report, the last log line and /metrics.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { common } from 'node-mavlink';
import { join } from 'node:path';
import { readJsonl, runCli, startCli } from './support/cli';
import { ensureGpsd, type Gpsd, GPSD_TOLERANCE, NMEA_SENTENCES_PER_FIX, startGpsd } from './support/gpsd';
import { udpReceiver } from './support/loopback';
import { freeTcpPort, waitFor } from './support/processes';
import { syntheticFlight, type SyntheticFlight } from './support/syntheticFlight';
import { runArtifactsDir } from './support/testVideos';
import { scrapeMetric } from './support/gatewayClients';
import { dataOf, decodeMavlink } from './support/mavlinkDecode';

const FPS = 5;
const START = '2024-05-01T09:30:00Z';
const MS_PER_S = 1000;
const GPSD_SETTLE_MS = 1000;
/** MAVLink's GPS_INPUT message id, and its unit for coordinates */
const GPS_INPUT_ID = 232;
const DEG_E7 = 1e7;
/** decimals of a CoT point's latitude */
const COT_DECIMALS = 7;

describe('geoloc run and replay with outputs', () => {
  let flight: SyntheticFlight;
  let out: string;
  let gpsd: Gpsd | undefined;

  beforeAll(async () => {
    ensureGpsd();
    flight = await syntheticFlight();
    out = runArtifactsDir('outputs-cli');
  });

  afterEach(async () => {
    await gpsd?.stop();
    gpsd = undefined;
  });

  const common = () => ['--index', flight.index, '--model', flight.model, '--fps', String(FPS), '--cpu'];

  test('replay --nmea to gpsd and to a file: gpsd reports the positions, modes, speeds and 95% radii of the fixes; the report counts both outputs', async () => {
    gpsd = await startGpsd();
    const report = join(out, 'report.json');
    const fixesPath = join(out, 'fixes.jsonl');
    const nmeaPath = join(out, 'fixes.nmea');
    const result = await runCli(['replay', flight.video, '--telemetry', flight.telemetry, '--report', report, '--out', fixesPath, '--realtime', '--nmea', gpsd.nmeaUrl, '--nmea', nmeaPath, '--output-start', START, ...common()]);
    expect(result.code).toBe(0);
    await new Promise((r) => setTimeout(r, GPSD_SETTLE_MS));

    const fixes = readJsonl(fixesPath);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r.outputs).toEqual({
      'nmea#1': { target: gpsd.nmeaUrl, sent: expect.any(Number), dropped: 0, errors: 0, cutOffs: 0 },
      'nmea#2': { target: nmeaPath, sent: expect.any(Number), dropped: 0, errors: 0, cutOffs: 0 },
    });
    expect(r.outputs['nmea#1'].sent).toBe(r.outputs['nmea#2'].sent);
    // one message per fix; the rate limit runs on the flight's clock: at 5 fps under the default 10 Hz, every fix goes
    expect(r.outputs['nmea#1'].sent).toBe(fixes.length);
    expect(result.stderr).toContain(`output  nmea#1 → ${gpsd.nmeaUrl}: ${r.outputs['nmea#1'].sent} sent, 0 dropped, 0 errors`);
    expect(readFileSync(nmeaPath, 'ascii').split('\r\n').filter((line) => line !== '')).toHaveLength(NMEA_SENTENCES_PER_FIX * r.outputs['nmea#2'].sent);

    // every fix gpsd reports is one the pipeline emitted, found by its time: --output-start + t
    const byTime = new Map(fixes.map((f) => [Date.parse(START) + Math.round(f.properties.t * MS_PER_S), f]));
    const tpvs = gpsd.ofClass('TPV').filter((tpv) => tpv.time !== undefined);
    expect(new Set(tpvs.map((tpv) => tpv.time)).size).toBeGreaterThanOrEqual(0.8 * fixes.length);
    for (const tpv of tpvs) {
      const fix = byTime.get(Date.parse(tpv.time));
      expect(fix).toBeDefined();
      const { lost, speedMps, radiusM } = fix!.properties;
      expect(tpv.mode).toBe(lost ? 1 : 2);
      if (lost) continue;
      expect(Math.abs(tpv.lat - fix!.geometry.coordinates[1])).toBeLessThanOrEqual(GPSD_TOLERANCE.degrees);
      expect(Math.abs(tpv.lon - fix!.geometry.coordinates[0])).toBeLessThanOrEqual(GPSD_TOLERANCE.degrees);
      if (speedMps !== undefined) expect(Math.abs(tpv.speed - speedMps)).toBeLessThanOrEqual(GPSD_TOLERANCE.speedMps);
      expect(Math.abs(tpv.eph - radiusM)).toBeLessThanOrEqual(GPSD_TOLERANCE.ephM);
    }
  });

  test('a lossless replay to NMEA, MAVLink and CoT files: each output carries every fix, in order', async () => {
    const paths = { fixes: join(out, 'all.jsonl'), nmea: join(out, 'all.nmea'), mavlink: join(out, 'all.mavlink'), cot: join(out, 'all.cot') };
    const result = await runCli(['replay', flight.video, '--telemetry', flight.telemetry, '--report', join(out, 'all.json'), '--out', paths.fixes, '--nmea', paths.nmea, '--mavlink', paths.mavlink, '--cot', paths.cot, ...common()]);
    expect(result.code).toBe(0);
    const fixes = readJsonl(paths.fixes);
    expect(fixes.length).toBeGreaterThan(0);
    const degE7 = (degrees: number) => Math.round(degrees * DEG_E7);

    const ggas = readFileSync(paths.nmea, 'ascii').split('\r\n').filter((line) => line.startsWith('$GPGGA'));
    expect(ggas).toHaveLength(fixes.length);

    const { packets, invalid } = await decodeMavlink(createReadStream(paths.mavlink));
    expect(invalid).toBe(0);
    const gpsInputs = packets.filter((p) => p.header.msgid === GPS_INPUT_ID).map((p) => dataOf<common.GpsInput>(p));
    expect(gpsInputs.map((m) => [m.lat, m.lon])).toEqual(fixes.map((f) => [degE7(f.geometry.coordinates[1]), degE7(f.geometry.coordinates[0])]));

    const events = readFileSync(paths.cot, 'utf8').split('\n').filter((line) => line.includes('<event '));
    expect(events.map((event) => Number(/ lat="([^"]+)"/.exec(event)![1]))).toEqual(fixes.map((f) => Number(f.geometry.coordinates[1].toFixed(COT_DECIMALS))));
  });

  test('run --serve with a refusing TCP output and a UDP one: the run ends normally, /metrics and the last log line count both', async () => {
    const refusing = await freeTcpPort();
    const receiver = await udpReceiver();
    const tcpUrl = `tcp://127.0.0.1:${refusing}`;
    const udpUrl = `udp://127.0.0.1:${receiver.port}`;
    try {
      const cli = startCli(['run', '--source', flight.video, '--out', join(out, 'run.jsonl'), '--serve', '0', '--nmea', tcpUrl, '--nmea', udpUrl, ...common()]);
      await waitFor(() => /still serving http:\/\/127\.0\.0\.1:\d+/.test(cli.stderr()), 30_000, 'the run to finish and keep serving');
      const url = /map at (http:\/\/127\.0\.0\.1:\d+)\//.exec(cli.stderr())![1]!;
      const last = /fixes out.*(\{"outputs".*\})$/m.exec(cli.stderr());
      expect(last).not.toBeNull();
      const { outputs } = JSON.parse(last![1]!);
      expect(outputs['nmea#1']).toMatchObject({ target: tcpUrl, sent: 0 });
      expect(outputs['nmea#1'].errors).toBeGreaterThan(0);
      expect(outputs['nmea#2']).toMatchObject({ target: udpUrl, dropped: 0, errors: 0 });
      expect(outputs['nmea#2'].sent).toBe(receiver.datagrams.length);
      expect(cli.stderr()).toContain('GEOLOC_ERR_OUTPUT_UNAVAILABLE');

      const metric = (name: string, output: string, target: string) => scrapeMetric(url, name, { output, target });
      expect(await metric('geoloc_output_errors_total', 'nmea#1', tcpUrl)).toBe(outputs['nmea#1'].errors);
      expect(await metric('geoloc_output_messages_sent_total', 'nmea#2', udpUrl)).toBe(outputs['nmea#2'].sent);
      expect(await metric('geoloc_output_connected', 'nmea#1', tcpUrl)).toBe(0);
      cli.child.kill('SIGINT');
      expect((await cli.done).code).toBe(0);
    } finally {
      await receiver.close();
    }
  });

  test('a bad output target stops the command before anything runs, with its code', async () => {
    const result = await runCli(['run', '--source', flight.video, '--nmea', 'http://127.0.0.1:80', ...common()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^geoloc run: GEOLOC_ERR_OUTPUT_URL: output "http:\/\/127\.0\.0\.1:80"/m);
  });
});
