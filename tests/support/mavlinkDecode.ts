/** MAVLink bytes read back by node-mavlink's own splitter (start byte, length, CRC with CRC-extra) and parser. */
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { common, minimal, MavLinkPacketParser, MavLinkPacketSplitter, type MavLinkData, type MavLinkPacket } from 'node-mavlink';

const REGISTRY = { ...minimal.REGISTRY, ...common.REGISTRY };

/** Every packet of a byte stream, and how many the splitter refused (bad CRC, truncated). */
export async function decodeMavlink(source: Readable): Promise<{ packets: MavLinkPacket[]; invalid: number }> {
  const splitter = new MavLinkPacketSplitter();
  const packets: MavLinkPacket[] = [];
  const collect = new Writable({
    objectMode: true,
    write(packet: MavLinkPacket, _encoding, done) {
      packets.push(packet);
      done();
    },
  });
  await pipeline(source, splitter, new MavLinkPacketParser(), collect);
  return { packets, invalid: splitter.invalidPackages };
}

/** A packet's message, by the common dialect's definition of its id. */
export function dataOf<T extends MavLinkData>(packet: MavLinkPacket): T {
  const clazz = REGISTRY[packet.header.msgid];
  if (!clazz) throw new Error(`message ${packet.header.msgid} is not in the common dialect`);
  return packet.protocol.data(packet.payload, clazz) as T;
}
