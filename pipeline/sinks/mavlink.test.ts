import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { common, minimal } from 'node-mavlink';
import { isGeolocError } from '../core/errors';
import type { FixFeature } from '../core/types';
import { scratchDir } from '../../tests/support/scratch';
import { dataOf, decodeMavlink } from '../../tests/support/mavlinkDecode';
import { simulatedFixes } from '../../tests/support/simulatedFixes';
import { DEFAULT_MAVLINK_OPTIONS, mavlinkFormat, type MavlinkOptions } from './mavlink';

/** CRC-extra of GPS_INPUT and HEARTBEAT in MAVLink's common.xml / minimal.xml (mavgen's MAVLINK_MSG_ID_*_CRC) */
const GPS_INPUT_CRC_EXTRA = 151;
const HEARTBEAT_CRC_EXTRA = 50;

const decodeBuffers = (buffers: Buffer[]) => decodeMavlink(Readable.from(buffers));

/** MAVLink's X.25 checksum over the packet after its start byte, then the CRC-extra: written here from the spec, not taken from the library. */
function mavlinkCrc(packet: Buffer, crcExtra: number): number {
  let crc = 0xffff;
  for (const byte of [...packet.subarray(1, packet.length - 2), crcExtra]) {
    let tmp = byte ^ (crc & 0xff);
    tmp = (tmp ^ (tmp << 4)) & 0xff;
    crc = ((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4)) & 0xffff;
  }
  return crc;
}

const NOW = new Date(Date.UTC(2026, 2, 1, 12, 0, 0, 250)); // a Sunday: GPS week 2408 starts that day
const LATENCY_MS = 250;

function fixFeature(properties: Record<string, unknown> = {}): FixFeature {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [8.7654321, 47.1234567] },
    properties: {
      flight: 'f',
      frame: 3,
      t: 0.6,
      radiusM: 26.5,
      confidence: 0.9,
      lost: false,
      relocalizing: false,
      latencyMs: LATENCY_MS,
      speedMps: 5,
      headingDeg: 143.13,
      velocityMps: [-4, 3],
      covarianceM2: [100, 30, 64],
      velocityCovarianceM2s2: [0.25, 0, 1],
      speedSigmaMps: 0.9,
      headingSigmaDeg: 6,
      ...properties,
    },
  };
}

const { GpsInputIgnoreFlags: Ignore, GpsFixType } = common;

describe('mavlinkFormat: GPS_INPUT', () => {
  test('every field of the definition, in its units, decoded by the library with its CRC checked', async () => {
    const format = mavlinkFormat();
    const { packets, invalid } = await decodeBuffers(format.encodeFix(fixFeature(), NOW));
    expect(invalid).toBe(0);
    expect(packets).toHaveLength(1);
    const packet = packets[0]!;
    expect(packet.header.msgid).toBe(common.GpsInput.MSG_ID);
    const gps = dataOf<common.GpsInput>(packet);
    const fixTime = NOW.getTime() - LATENCY_MS;
    // λmax of [[100, 30], [30, 64]] = 82 + √(18² + 30²)
    const worstPositionSigma = Math.sqrt(82 + Math.hypot(18, 30));
    /** field (as common.xml names it) → its units in the definition and the value we mean to send in them */
    const expected: Record<string, { units: string; value: number | bigint }> = {
      time_usec: { units: 'us', value: BigInt(fixTime) * 1000n },
      time_week_ms: { units: 'ms', value: 12 * 3600_000 + 18_000 }, // 12:00 UTC + 18 leap seconds
      time_week: { units: '', value: 2408 },
      lat: { units: 'degE7', value: 471234567 },
      lon: { units: 'degE7', value: 87654321 },
      alt: { units: 'm', value: 0 },
      hdop: { units: '', value: Math.sqrt(100 + 64) },
      vdop: { units: '', value: 65535 },
      vn: { units: 'm/s', value: -4 },
      ve: { units: 'm/s', value: 3 },
      vd: { units: 'm/s', value: 0 },
      speed_accuracy: { units: 'm/s', value: 1 },
      horiz_accuracy: { units: 'm', value: worstPositionSigma },
      vert_accuracy: { units: 'm', value: 0 },
      ignore_flags: { units: '', value: Ignore.ALT | Ignore.VDOP | Ignore.VEL_VERT | Ignore.VERTICAL_ACCURACY },
      gps_id: { units: '', value: 0 },
      fix_type: { units: '', value: GpsFixType.GPS_FIX_TYPE_3D_FIX },
      satellites_visible: { units: '', value: DEFAULT_MAVLINK_OPTIONS.satellitesVisible },
      yaw: { units: 'cdeg', value: 0 },
    };
    expect(common.GpsInput.FIELDS.map((f) => f.source).sort()).toEqual(Object.keys(expected).sort());
    for (const field of common.GpsInput.FIELDS) {
      const want = expected[field.source]!;
      expect({ field: field.source, units: field.units }).toEqual({ field: field.source, units: want.units });
      const got = (gps as unknown as Record<string, number | bigint>)[field.name];
      if (field.type === 'float') expect({ field: field.source, value: got }).toEqual({ field: field.source, value: Math.fround(Number(want.value)) });
      else expect({ field: field.source, value: got }).toEqual({ field: field.source, value: want.value });
    }
  });

  test('the checksum holds with the CRC-extra of the MAVLink definitions, and one corrupted byte is rejected', async () => {
    const format = mavlinkFormat();
    const [gps] = format.encodeFix(fixFeature(), NOW);
    const [beat] = format.periodic!.encode(NOW);
    expect(gps!.readUInt16LE(gps!.length - 2)).toBe(mavlinkCrc(gps!, GPS_INPUT_CRC_EXTRA));
    expect(beat!.readUInt16LE(beat!.length - 2)).toBe(mavlinkCrc(beat!, HEARTBEAT_CRC_EXTRA));
    const corrupted = Buffer.from(gps!);
    const latByte = 10 + 12; // MAVLink 2 header, then lat's offset in the payload
    corrupted.writeUInt8(corrupted.readUInt8(latByte) ^ 0x01, latByte);
    const { packets, invalid } = await decodeBuffers([corrupted, beat!]);
    expect(invalid).toBe(1);
    expect(packets.map((p) => p.header.msgid)).toEqual([minimal.Heartbeat.MSG_ID]);
  });

  test('re-localizing or lost: no fix and no satellites (the position still rides along)', async () => {
    const format = mavlinkFormat();
    const cases = [fixFeature({ relocalizing: true }), fixFeature({ relocalizing: true, lost: true })];
    const { packets } = await decodeBuffers(cases.flatMap((f) => format.encodeFix(f, NOW)));
    for (const gps of packets.map((p) => dataOf<common.GpsInput>(p))) {
      expect(gps.fixType).toBe(GpsFixType.NO_FIX);
      expect(gps.satellitesVisible).toBe(0);
      expect(gps.lat).toBe(471234567);
    }
  });

  test('a fix without the tracker\'s uncertainty: hdop unknown, and accuracies and velocity flagged as ignored', async () => {
    const bare = fixFeature();
    for (const name of ['velocityMps', 'covarianceM2', 'velocityCovarianceM2s2']) delete bare.properties[name];
    const { packets } = await decodeBuffers(mavlinkFormat().encodeFix(bare, NOW));
    const gps = dataOf<common.GpsInput>(packets[0]!);
    const missing = Ignore.HDOP | Ignore.HORIZONTAL_ACCURACY | Ignore.VEL_HORIZ | Ignore.SPEED_ACCURACY;
    expect(gps.ignoreFlags & missing).toBe(missing);
    expect(gps.hdop).toBe(65535);
    expect(gps.fixType).toBe(GpsFixType.GPS_FIX_TYPE_3D_FIX);
  });

  test('a fix spread over kilometres (a second candidate place) gets the largest hdop ArduPilot can hold, not one that wraps round', async () => {
    const wide = fixFeature({ covarianceM2: [4e6, 0, 4e6] });
    const gps = dataOf<common.GpsInput>((await decodeBuffers(mavlinkFormat().encodeFix(wide, NOW))).packets[0]!);
    expect(gps.hdop).toBe(Math.fround(655.35));
    expect(gps.horizAccuracy).toBe(2000);
  });

  test('dopRangeSigmaM scales hdop; gpsId and satellitesVisible go as given', async () => {
    const format = mavlinkFormat({ dopRangeSigmaM: 2, gpsId: 1, satellitesVisible: 6 });
    const gps = dataOf<common.GpsInput>((await decodeBuffers(format.encodeFix(fixFeature(), NOW))).packets[0]!);
    expect(gps.hdop).toBe(Math.fround(Math.sqrt(164) / 2));
    expect([gps.gpsId, gps.satellitesVisible]).toEqual([1, 6]);
  });
});

describe('mavlinkFormat: HEARTBEAT, ids and sequence', () => {
  test('an onboard controller that is no autopilot, every heartbeatIntervalMs, with our system and component ids', async () => {
    const format = mavlinkFormat({ systemId: 42, componentId: 191, heartbeatIntervalMs: 500 });
    expect(format.name).toBe('mavlink');
    expect(format.periodic!.intervalMs).toBe(500);
    const { packets } = await decodeBuffers(format.periodic!.encode(NOW));
    const packet = packets[0]!;
    expect([packet.header.sysid, packet.header.compid, packet.header.magic]).toEqual([42, 191, 0xfd]);
    const beat = dataOf<minimal.Heartbeat>(packet);
    expect(beat.type).toBe(minimal.MavType.ONBOARD_CONTROLLER);
    expect(beat.autopilot).toBe(minimal.MavAutopilot.INVALID);
    expect(beat.systemStatus).toBe(minimal.MavState.ACTIVE);
    expect(beat.mavlinkVersion).toBe(3);
  });

  test('one sequence number counts every message, heartbeats and fixes alike, and wraps after 255', async () => {
    const format = mavlinkFormat();
    const buffers: Buffer[] = [];
    for (let i = 0; i < 300; i++) buffers.push(...(i % 3 === 0 ? format.periodic!.encode(NOW) : format.encodeFix(fixFeature(), NOW)));
    const { packets } = await decodeBuffers(buffers);
    expect(packets.map((p) => p.header.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i % 256));
    expect(packets.every((p) => p.header.sysid === DEFAULT_MAVLINK_OPTIONS.systemId && p.header.compid === DEFAULT_MAVLINK_OPTIONS.componentId)).toBe(true);
  });

  test.each<[keyof MavlinkOptions, number]>([
    ['systemId', 0],
    ['componentId', 256],
    ['gpsId', -1],
    ['satellitesVisible', 1.5],
    ['dopRangeSigmaM', 0],
    ['heartbeatIntervalMs', Number.NaN],
  ])('option %s = %p: GEOLOC_ERR_OUTPUT_OPTIONS naming it', (name, value) => {
    let caught: unknown;
    try {
      mavlinkFormat({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(isGeolocError(caught, 'GEOLOC_ERR_OUTPUT_OPTIONS')).toBe(true);
    expect((caught as Error).message).toContain(name);
  });
});

describe('mavlinkFormat: a recorded stream', () => {
  test('a simulated flight written to a file and read back in small chunks decodes to the same fixes', async () => {
    const fixes = simulatedFixes('replayed', 10, LATENCY_MS);
    const format = mavlinkFormat();
    const scratch = scratchDir('mavlink');
    try {
      const path = join(scratch.dir, 'fixes.mavlink');
      const clock = (i: number) => new Date(NOW.getTime() + i * 200);
      writeFileSync(path, Buffer.concat(fixes.flatMap((f, i) => [...(i % 5 === 0 ? format.periodic!.encode(clock(i)) : []), ...format.encodeFix(f, clock(i))])));
      const { packets, invalid } = await decodeMavlink(createReadStream(path, { highWaterMark: 7 }));
      expect(invalid).toBe(0);
      const decoded = packets.filter((p) => p.header.msgid === common.GpsInput.MSG_ID).map((p) => dataOf<common.GpsInput>(p));
      expect(decoded).toHaveLength(fixes.length);
      expect(fixes.some((f) => f.properties.relocalizing) && fixes.some((f) => !f.properties.relocalizing)).toBe(true);
      decoded.forEach((gps, i) => {
        const fix = fixes[i]!;
        const [lon, lat] = fix.geometry.coordinates;
        const [vn, ve] = fix.properties.velocityMps as [number, number];
        expect([gps.lat, gps.lon]).toEqual([Math.round(lat * 1e7), Math.round(lon * 1e7)]);
        expect([gps.vn, gps.ve]).toEqual([Math.fround(vn), Math.fround(ve)]);
        expect(gps.timeUsec).toBe(BigInt(clock(i).getTime() - LATENCY_MS) * 1000n);
        expect(gps.fixType).toBe(fix.properties.relocalizing ? GpsFixType.NO_FIX : GpsFixType.GPS_FIX_TYPE_3D_FIX);
      });
    } finally {
      scratch.remove();
    }
  });
});
