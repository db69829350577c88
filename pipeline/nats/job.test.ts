import { parseJob } from './job';
import { checkFlightName, fixMessageId } from './names';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const good = { flight: 'drone-07', source: 'udp://127.0.0.1:5600', index: '/srv/index' };

describe('flight jobs', () => {
  test('a whole job is read back as it was written', () => {
    const job = { ...good, model: '/srv/model.onnx', settings: { fps: 5 }, outputs: { nmea: ['udp://127.0.0.1:10110'], 'nmea-rate': '1' }, queuedAt: 1 };
    expect(parseJob(bytes(job))).toEqual(job);
  });

  test.each([
    ['not JSON', 'not JSON'],
    [[1, 2], 'not a JSON object'],
    [{ ...good, flight: 'has space' }, 'flight must be'],
    [{ ...good, flight: 'x'.repeat(65) }, 'flight must be'],
    [{ ...good, flight: 'a.b' }, 'flight must be'],
    [{ ...good, source: '' }, 'source must be'],
    [{ ...good, index: 7 }, 'index must be'],
    [{ ...good, model: 3 }, 'model must be'],
    [{ ...good, settings: [] }, 'settings must be'],
    [{ ...good, outputs: { nmea: [5] } }, 'outputs must'],
    [{ ...good, queuedAt: 'now' }, 'queuedAt must'],
  ])('%j is refused naming the field (%s)', (value, mention) => {
    expect(() => parseJob(bytes(value))).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_NATS_JOB_MALFORMED', message: expect.stringContaining(mention) }));
  });

  test('flight names are one subject token; message ids tell claims apart', () => {
    expect(checkFlightName('A_b-9')).toBe('A_b-9');
    for (const name of ['', 'a b', 'a.b', 'a*', 'a>', 'x'.repeat(65), 3]) expect(() => checkFlightName(name)).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_USAGE' }));
    expect(fixMessageId('f', 1, 7)).not.toBe(fixMessageId('f', 2, 7));
  });
});
