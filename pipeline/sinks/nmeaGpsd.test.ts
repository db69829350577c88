/**
 * NMEA read by a real consumer: Debian's gpsd, fed over loopback UDP, watched with gpspipe.
 * Every fix comes back as one TPV with its position, speed, course, mode (2-D, or no fix when
 * the track is lost) and its 95% radius as gpsd's eph; GST carries the error ellipse.
 */
import { straightFlight } from '../../tests/support/fixFeatures';
import { ensureGpsd, type Gpsd, GPSD_TOLERANCE, startGpsd, waitForReports } from '../../tests/support/gpsd';
import { SIGMAS_PER_R95 } from './horizontalError';
import { nmeaFormat } from './nmea';
import { OutputSink } from './outputSink';
import { parseOutputTarget, transportFor } from './outputTarget';

const RATE_HZ = 10;
const FIXES = 30;
const LOST_EVERY = 10;
const START_MS = Date.parse('2024-05-01T09:30:00Z');
const MS_PER_S = 1000;
const COURSE_DEG = 0.01;
const REPORTS_TIMEOUT_MS = 10_000;

describe('NMEA into gpsd', () => {
  let gpsd: Gpsd;
  let sink: OutputSink;

  beforeAll(() => ensureGpsd());

  afterEach(async () => {
    await sink?.close();
    await gpsd?.stop();
  });

  test('gpsd reports each fix once: its position, speed, course and 2-D mode, no fix when lost, eph = the 95% radius', async () => {
    gpsd = await startGpsd();
    const fixTime = (t: number) => new Date(START_MS + t * MS_PER_S);
    sink = new OutputSink('nmea', nmeaFormat(), transportFor(parseOutputTarget(gpsd.nmeaUrl), { lines: true }), {
      maxRateHz: 2 * RATE_HZ,
      fixTime: (fix) => fixTime(fix.properties.t),
    });
    const fixes = straightFlight(FIXES, { rateHz: RATE_HZ, lostEvery: LOST_EVERY });
    for (const fix of fixes) {
      sink.fix(fix);
      await new Promise((r) => setTimeout(r, MS_PER_S / RATE_HZ));
    }
    // gpsd learns where its reporting cycle ends from the first fix: every later one is reported once
    const later = fixes.slice(1);
    await waitForReports(gpsd, 'TPV', later.length, REPORTS_TIMEOUT_MS);
    // one datagram per fix, its five sentences together
    expect(sink.stats()).toMatchObject({ sent: FIXES, dropped: 0, errors: 0 });

    const tpvs = gpsd.ofClass('TPV');
    const gsts = gpsd.ofClass('GST');
    for (const fix of later) {
      const time = fixTime(fix.properties.t).toISOString();
      const reported = tpvs.filter((tpv) => tpv.time === time);
      expect(reported).toHaveLength(1);
      const tpv = reported[0]!;
      if (fix.properties.lost) {
        expect(tpv).toMatchObject({ mode: 1 });
        expect(tpv).not.toHaveProperty('lat');
        continue;
      }
      const [lon, lat] = fix.geometry.coordinates;
      expect(tpv.mode).toBe(2);
      expect(Math.abs(tpv.lat - lat)).toBeLessThanOrEqual(GPSD_TOLERANCE.degrees);
      expect(Math.abs(tpv.lon - lon)).toBeLessThanOrEqual(GPSD_TOLERANCE.degrees);
      expect(Math.abs(tpv.speed - (fix.properties.speedMps as number))).toBeLessThanOrEqual(GPSD_TOLERANCE.speedMps);
      expect(Math.abs(tpv.track - (fix.properties.headingDeg as number))).toBeLessThanOrEqual(COURSE_DEG);
      expect(Math.abs(tpv.eph - fix.properties.radiusM)).toBeLessThanOrEqual(GPSD_TOLERANCE.ephM);
      const sigma = fix.properties.radiusM / SIGMAS_PER_R95;
      expect(gsts.find((gst) => gst.time === time)).toMatchObject({ major: Number(sigma.toFixed(2)), minor: Number(sigma.toFixed(2)), lat: Number(sigma.toFixed(2)) });
    }
    expect(later.filter((fix) => fix.properties.lost)).toHaveLength(Math.floor(FIXES / LOST_EVERY));
  });
});
