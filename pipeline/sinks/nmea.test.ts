import { fixFeature } from '../../tests/support/fixFeatures';
import { HDOP_RANGE_ERROR_95_M, nmeaChecksum, nmeaFormat } from './nmea';

/** A fix's one message, split into its sentences (each keeps its CRLF). */
const text = (messages: Buffer[]) => {
  expect(messages).toHaveLength(1);
  return messages[0]!.toString('ascii').split(/(?<=\r\n)/);
};
/** 12:35:19 UTC on 23 March 1994, the time of the NMEA examples below */
const SPEC_TIME = new Date('1994-03-23T12:35:19Z');
/** the examples' position, 48°07.038' N 11°31.000' E, as a fix (rounded to 1e-7°) */
const SPEC_LON = 11.5166667;
const SPEC_LAT = 48.1173;
const NMEA_MAX_CHARS = 82;

describe('NMEA checksum', () => {
  test.each([
    ['GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,', '47'],
    ['GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W', '6A'],
    ['GPVTG,054.7,T,034.4,M,005.5,N,010.2,K', '48'],
    ['GPGST,172814.0,0.006,0.023,0.020,273.6,0.023,0.020,0.031', '6A'],
  ])('%s*%s (the published example)', (body, checksum) => {
    expect(nmeaChecksum(body)).toBe(checksum);
  });
});

describe('nmeaFormat', () => {
  const nmea = nmeaFormat();

  test('a fix: GSA, RMC, VTG, GST and GGA with the fields computed by hand', () => {
    // HDOP 1.2 ⇔ a 95% radius of 1.2 × 19 m; σ = 22.8 / 2.4477 = 9.31 m; 10 m/s = 19.438 kn = 36 km/h
    const fix = fixFeature(SPEC_LON, SPEC_LAT, { radiusM: 1.2 * HDOP_RANGE_ERROR_95_M, speedMps: 10, headingDeg: 84.4 });
    expect(text(nmea.encodeFix(fix, SPEC_TIME))).toEqual([
      '$GPGSA,A,2,,,,,,,,,,,,,,1.20,*00\r\n',
      '$GPRMC,123519.00,A,4807.038000,N,01131.000002,E,19.438,84.40,230394,,,A*63\r\n',
      '$GPVTG,84.40,T,,M,19.438,N,36.000,K,A*07\r\n',
      '$GPGST,123519.00,,9.31,9.31,0.0,9.31,9.31,*5A\r\n',
      '$GPGGA,123519.00,4807.038000,N,01131.000002,E,1,12,1.20,,M,,M,,*61\r\n',
    ]);
  });

  test('a lost track: GSA mode 1, RMC status V, mode N, fix quality 0, every estimate empty, the same five sentences', () => {
    const fix = fixFeature(SPEC_LON, SPEC_LAT, { lost: true, speedMps: 10, headingDeg: 84.4 });
    expect(text(nmea.encodeFix(fix, SPEC_TIME))).toEqual([
      '$GPGSA,A,1,,,,,,,,,,,,,,,*1E\r\n',
      '$GPRMC,123519.00,V,,,,,,,230394,,,N*7F\r\n',
      '$GPVTG,,T,,M,,N,,K,N*2C\r\n',
      '$GPGST,123519.00,,,,,,,*74\r\n',
      '$GPGGA,123519.00,,,,,0,,,,M,,M,,*45\r\n',
    ]);
  });

  test('south and west, and a minute that rounds up to the next degree', () => {
    const gga = (lon: number, lat: number) => text(nmea.encodeFix(fixFeature(lon, lat), SPEC_TIME))[4]!.split(',').slice(2, 6);
    expect(gga(-151.2093, -33.8688)).toEqual(['3352.128000', 'S', '15112.558000', 'W']);
    expect(gga(-0.999999999, 47.999999999)).toEqual(['4800.000000', 'N', '00100.000000', 'W']);
  });

  test('time rounds to the hundredth once, date and all', () => {
    const [, rmc] = text(nmea.encodeFix(fixFeature(SPEC_LON, SPEC_LAT), new Date('1999-12-31T23:59:59.996Z')));
    expect(rmc!.split(',')[1]).toBe('000000.00');
    expect(rmc!.split(',')[9]).toBe('010100');
  });

  test('without speed and course: their fields empty', () => {
    const [, rmc, vtg] = text(nmea.encodeFix(fixFeature(SPEC_LON, SPEC_LAT), SPEC_TIME));
    expect(rmc!.split(',').slice(7, 9)).toEqual(['', '']);
    expect(vtg).toBe('$GPVTG,,T,,M,,N,,K,A*23\r\n');
  });

  test('GST follows the covariance when the fix has one; HDOP follows its 95% radius', () => {
    // eigenvalues of [[10, 6], [6, 10]]: 16 and 4, the major axis north-east
    const fix = fixFeature(SPEC_LON, SPEC_LAT, { covarianceM2: [10, 6, 10], radiusM: 28.5 });
    const [gsa, , , gst, gga] = text(nmea.encodeFix(fix, SPEC_TIME));
    expect(gst!.split('*')[0]!.split(',').slice(3)).toEqual(['4.00', '2.00', '45.0', '3.16', '3.16', '']);
    // 28.5 m / 19 m
    expect(gga!.split(',')[8]).toBe('1.50');
    expect(gsa!.split(',')[16]).toBe('1.50');
  });

  test('a talker and a satellite count of choice; anything out of range is refused', () => {
    const [, , , , gga] = text(nmeaFormat({ talker: 'GN', satellites: 6 }).encodeFix(fixFeature(SPEC_LON, SPEC_LAT), SPEC_TIME));
    expect(gga).toMatch(/^\$GNGGA,(?:[^,]*,){6}06,/);
    expect(() => nmeaFormat({ talker: 'gps' })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_OUTPUT_OPTIONS' }));
    expect(() => nmeaFormat({ satellites: 100 })).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_OUTPUT_OPTIONS' }));
  });

  test('every sentence fits in 82 characters and carries a valid checksum', () => {
    const fix = fixFeature(-179.9999999, -89.9999999, { radiusM: 99_999, speedMps: 340.123, headingDeg: 359.99 });
    for (const sentence of text(nmea.encodeFix(fix, SPEC_TIME))) {
      expect(sentence.length).toBeLessThanOrEqual(NMEA_MAX_CHARS);
      const [, body, checksum] = /^\$(.*)\*([0-9A-F]{2})\r\n$/.exec(sentence)!;
      expect(nmeaChecksum(body!)).toBe(checksum);
    }
  });
});
