import { SharedOutputStats, sharedOutputStatsBytes } from './sharedOutputStats';

describe('SharedOutputStats', () => {
  test('what one thread writes the other reads from the same memory, output by output, past 32 bits', () => {
    const buffer = new SharedArrayBuffer(sharedOutputStatsBytes(2));
    const writer = new SharedOutputStats(buffer);
    const reader = new SharedOutputStats(buffer);
    const first = { sent: 2 ** 40 + 1, dropped: 3, errors: 4, cutOffs: 5, connected: true, queued: 6, bufferedBytes: 7 };
    const second = { sent: 10, dropped: 0, errors: 1, cutOffs: 0, connected: false, queued: 64, bufferedBytes: 262_144 };
    writer.write(0, first);
    writer.write(1, second);
    expect(reader.read(0)).toEqual(first);
    expect(reader.read(1)).toEqual(second);
  });
});
