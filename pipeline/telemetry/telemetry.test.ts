import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIfSharedData } from '../../tests/support/sharedData';
import { isGeolocError } from '../core/errors';
import { sharedDataPath } from '../core/paths';
import { formatSrt, parseCsvTrack, parseSrt, readTelemetry, telemetryAt, type TelemetryRecord } from '.';

const MINI3_CUE = `1
00:00:00,000 --> 00:00:00,033
<font size="28">FrameCnt: 1, DiffTime: 33ms
2023-05-13 10:22:13.123
[iso: 100] [shutter: 1/1000.0] [fnum: 2.8] [ev: 0] [ct: 5500] [color_md: default] [focal_len: 24.00] [latitude: 31.780841] [longitude: 76.997963] [rel_alt: 120.500 abs_alt: 1325.400] </font>

2
00:00:00,033 --> 00:00:00,066
<font size="28">FrameCnt: 2, DiffTime: 33ms
2023-05-13 10:22:13.156
[iso: 100] [latitude: 31.780851] [longitude: 76.997973] [rel_alt: 120.600 abs_alt: 1325.500] </font>
`;

describe('DJI SRT', () => {
  test('Mini/Air dialect with rel_alt and abs_alt', () => {
    const { records, warnings } = parseSrt(MINI3_CUE);
    expect(warnings).toEqual([]);
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ index: 2, lat: 31.780851, lon: 76.997973, alt: 120.6, absAlt: 1325.5, datetime: '2023-05-13 10:22:13.156' });
    expect(records[1]!.t).toBeCloseTo(0.033, 9);
  });

  test('Mavic dialect: spaces before colons and the longtitude typo', () => {
    const text = '1\n00:00:01,000 --> 00:00:02,000\n[latitude : 60.40324] [longtitude : 22.46213] [altitude: 119.9] [gb_yaw : -4.7 gb_pitch : -90.3 gb_roll : 0.0]\n';
    const [r] = parseSrt(text).records;
    expect(r).toMatchObject({ t: 1, lat: 60.40324, lon: 22.46213, alt: 119.9, gimbalPitchDeg: -90.3 });
    expect(r!.headingDeg).toBeCloseTo(355.3, 9);
  });

  test('Phantom dialect: GPS(lon, lat, satellites) with BAROMETER, and Spark with H', () => {
    const phantom = parseSrt('1\n00:00:00,000 --> 00:00:01,000\nHOME(22.4600,60.4000) 2017.08.23 14:02:11\nGPS(22.4621,60.4032,15) BAROMETER:87.5\n').records[0];
    expect(phantom).toMatchObject({ lat: 60.4032, lon: 22.4621, alt: 87.5 });
    const spark = parseSrt('1\n00:00:00,000 --> 00:00:01,000\nF/2.6, SS 320, ISO 100, EV 0, GPS (8.5491, 47.3745, 17), D 10.5m, H 45.2m, H.S 3.1m/s, V.S 0.0m/s\n').records[0];
    expect(spark).toMatchObject({ lat: 47.3745, lon: 8.5491, alt: 45.2 });
  });

  test('a garbled or truncated file keeps every good cue and names each bad line', () => {
    const text = [
      '1', '00:00:00,000 --> 00:00:00,033', '[latitude: 31.7800] [longitude: 77.0000] [altitude: 300]', '',
      '2', '00:00:00,033 -> 00:00:0,066', '[latitude: 31.7801] [longitude: 77.0001] [altitude: 300]', '',
      '3', '00:00:00,066 --> 00:00:00,100', '[latitude: 31.7802] [longitude: 77.0002] [altitude: 300]',
      '4', '00:00:00,100 --> 00:00:00,133', '[latitude: 0.000000] [longitude: 0.000000] [altitude: 0]', '',
      '5', '00:00:00,133 --> 00:00:00,166', '[latitude: 131.7804] [longitude: 77.0004]', '',
      '6', '00:00:00,166 --> 00:00:00,200', '[latitude: 31.7805] [longitude: 77.0005] [altitude: 301]', '',
      '7', '00:00:00,200 --> 00:00:00,233', '[iso : 100] [shutter : 1/6',
    ].join('\n');
    const { records, warnings } = parseSrt(text, 'flight.srt');
    expect(records.map((r) => r.index)).toEqual([1, 3, 6]);
    expect(records[1]!.lat).toBe(31.7802); // cue 3 had no blank line after it, cue 4 still parsed apart
    expect(warnings.map((w) => w.line)).toEqual([6, 13, 17, 25]);
    expect(warnings[0]!.message).toContain('does not parse');
    expect(warnings[1]!.message).toContain('no GPS fix');
    expect(warnings[2]!.message).toContain('outside the Earth');
    expect(warnings[3]!.message).toContain('cue 7');
  });

  test('a number is read only as a whole token: a cue with a malformed one is skipped, named by line and field', () => {
    const cue = (n: number, fields: string) => [String(n), `00:00:0${n},000 --> 00:00:0${n + 1},000`, fields, ''];
    const text = [
      ...cue(1, '[latitude: 48.5906807] [longitude: 11.5000000] [altitude: 120.0]'),
      ...cue(2, '[latitude: 4x.5906807] [longitude: 11.5000100] [altitude: 120.0]'),
      ...cue(3, '[latitude: 48.59abc06807] [longitude: 11.5000200] [altitude: 120.0]'),
      ...cue(4, '[latitude: 48.5906837] [longitude: 11.5000300] [altitude: 12O.0] [gb_yaw: 90.0 gb_pitch: -90.0]'),
      ...cue(5, 'GPS(11.5000400,48.59068x,15) BAROMETER:120.0'),
      ...cue(6, '[latitude: 48.5906867] [longitude: 11.5000500] [altitude: 120.0] [gb_yaw: 1.5.0 gb_pitch: -90.0]'),
      ...cue(7, '[latitude: 48.5906877] [longitude: 11.5000600] [altitude: 120.0]'),
    ].join('\n');
    const { records, warnings } = parseSrt(text, 'flight.srt');
    expect(records.map((r) => r.index)).toEqual([1, 7]);
    expect(warnings.map((w) => w.line)).toEqual([6, 10, 14, 18, 22]);
    expect(warnings.map((w) => w.message)).toEqual([
      'cue 2 (line 6) has a malformed number: latitude "4x.5906807"; skipped',
      'cue 3 (line 10) has a malformed number: latitude "48.59abc06807"; skipped',
      'cue 4 (line 14) has a malformed number: altitude "12O.0"; skipped',
      'cue 5 (line 18) has a malformed number: GPS latitude "48.59068x"; skipped',
      'cue 6 (line 22) has a malformed number: gb_yaw "1.5.0"; skipped',
    ]);
  });

  test('a file with no position at all is refused with its code', () => {
    let caught: unknown;
    try {
      parseSrt('1\n00:00:00,000 --> 00:00:01,000\nhello\n', 'subtitles.srt');
    } catch (err) {
      caught = err;
    }
    expect(isGeolocError(caught, 'GEOLOC_ERR_TELEMETRY_EMPTY')).toBe(true);
    expect((caught as Error).message).toContain('subtitles.srt');
  });

  test('what formatSrt writes, parseSrt reads back', () => {
    const records: TelemetryRecord[] = Array.from({ length: 90 }, (_, i) => ({
      index: i + 1, t: i / 30, lat: 48.1 + i * 1e-6, lon: 11.5 - i * 2e-6, alt: 150 + i / 10, headingDeg: (350 + i) % 360, line: 0,
    }));
    const text = formatSrt(records);
    expect(text).toContain('[latitude: 48.1000000] [longitude: 11.5000000] [altitude: 150.000]');
    const back = parseSrt(text).records;
    expect(back).toHaveLength(90);
    back.forEach((r, i) => {
      expect(r.t).toBeCloseTo(records[i]!.t, 3);
      expect(r.lat).toBeCloseTo(records[i]!.lat, 7);
      expect(r.lon).toBeCloseTo(records[i]!.lon, 7);
      expect(r.alt).toBeCloseTo(records[i]!.alt!, 3);
      expect(r.headingDeg).toBeCloseTo(records[i]!.headingDeg!, 1);
    });
  });
});

describe('CSV tracks', () => {
  test('flight-log export with units in the header', () => {
    const csv = 'time(millisecond),latitude,longitude,height_above_takeoff(feet),compass_heading(degrees)\n1000,60.40,22.46,328.084,90\n1500,60.41,22.47,656.168,95\n';
    const { records } = parseCsvTrack(csv);
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ lat: 60.41, lon: 22.47, headingDeg: 95 });
    expect(records[1]!.t).toBeCloseTo(0.5, 9);
    expect(records[0]!.alt).toBeCloseTo(100, 4);
  });

  test('bad rows are skipped with their line; a header without positions is refused', () => {
    const { records, warnings } = parseCsvTrack('t;lat;lon;alt\n0;1;2;3\n1;x;2;3\n2;"1.5";2.5;3\n');
    expect(records.map((r) => r.lat)).toEqual([1, 1.5]);
    expect(warnings).toEqual([expect.objectContaining({ line: 3 })]);
    expect(() => parseCsvTrack('time,speed\n0,1\n')).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_TELEMETRY_PARSE' }));
  });

  test('a number is read only as a whole token: a row with a malformed one is skipped, named by line and column', () => {
    const { records, warnings } = parseCsvTrack('t,lat,lon,alt(feet),heading\n0,48.59,11.5,328.084,90\n1,0x30,11.5,328.084,90\n2,48.59abc,11.5,328.084,90\n3,48.59,11.5,32.8e,90\n4,48.59,11.5,328.084,Infinity\n5,48.6,11.6,,\n');
    expect(records.map((r) => r.t)).toEqual([0, 5]);
    expect(records[1]).not.toHaveProperty('alt');
    expect(warnings.map((w) => w.message)).toEqual([
      'CSV line 3 has a malformed number: lat "0x30"; skipped',
      'CSV line 4 has a malformed number: lat "48.59abc"; skipped',
      'CSV line 5 has a malformed number: alt(feet) "32.8e"; skipped',
      'CSV line 6 has a malformed number: heading "Infinity"; skipped',
    ]);
  });

  test('readTelemetry picks the format by extension and names missing files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoloc-telemetry-'));
    writeFileSync(join(dir, 'track.csv'), 't,lat,lon\n0,1,2\n');
    expect(readTelemetry(join(dir, 'track.csv')).records).toHaveLength(1);
    expect(() => readTelemetry(join(dir, 'none.srt'))).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_FILE_NOT_FOUND' }));
  });
});

describe('telemetryAt', () => {
  const records: TelemetryRecord[] = [
    { index: 1, t: 0, lat: 10, lon: 20, alt: 100, headingDeg: 350, line: 1 },
    { index: 2, t: 1, lat: 11, lon: 22, alt: 200, headingDeg: 10, line: 2 },
  ];
  test('interpolates between records, across north for headings', () => {
    const mid = telemetryAt(records, 0.25)!;
    expect(mid.lat).toBeCloseTo(10.25, 9);
    expect(mid.lon).toBeCloseTo(20.5, 9);
    expect(mid.alt).toBeCloseTo(125, 9);
    expect(mid.headingDeg).toBeCloseTo(355, 9);
  });
  test('is undefined past the end (telemetry that ends before the video)', () => {
    expect(telemetryAt(records, 5)).toBeUndefined();
    expect(telemetryAt(records, 1.2)).toBeDefined();
  });
});

describeIfSharedData(['mandi-flight', 'DJI_0995.SRT'], 'the real DJI_0995.SRT', () => {
  test('every one of its 6,302 cues parses, 30 fps, ~300 m', () => {
    const { records, warnings } = readTelemetry(sharedDataPath('mandi-flight', 'DJI_0995.SRT'));
    expect(warnings).toEqual([]);
    expect(records).toHaveLength(6302);
    expect(records[6301]!.t).toBeCloseTo(210.23, 2);
    for (const r of records) {
      expect(r.lat).toBeGreaterThan(31.77);
      expect(r.lat).toBeLessThan(31.79);
      expect(r.alt).toBeGreaterThan(250);
    }
  });
});
