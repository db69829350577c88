import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from './core/log';
import { fixFeature } from '../tests/support/fixFeatures';
import { scratchDir } from '../tests/support/scratch';
import { OUTPUT_ARG_OPTIONS, OUTPUT_ARGS_USAGE, openOutputs, outputsReport } from './outputArgs';

const parse = (args: string[]) => parseArgs({ args, options: OUTPUT_ARG_OPTIONS, strict: true }).values;

describe('output flags', () => {
  const scratch = scratchDir('output-args');
  afterAll(() => scratch.remove());

  test('every flag is in the usage text', () => {
    for (const flag of Object.keys(OUTPUT_ARG_OPTIONS)) expect(OUTPUT_ARGS_USAGE).toContain(`--${flag} `);
  });

  test('a format named once keeps its name; named twice, its outputs are numbered', async () => {
    const one = openOutputs(parse(['--nmea', join(scratch.dir, 'a.nmea')]), silentLogger);
    const two = openOutputs(parse(['--nmea', join(scratch.dir, 'b.nmea'), '--nmea', join(scratch.dir, 'c.nmea')]), silentLogger);
    await Promise.all([one.close(), two.close()]);
    expect(one.stats().map((o) => o.name)).toEqual(['nmea']);
    expect(Object.keys(outputsReport(two))).toEqual(['nmea#1', 'nmea#2']);
    expect(outputsReport(two)['nmea#2']).toEqual({ target: join(scratch.dir, 'c.nmea'), sent: 0, dropped: 0, errors: 0, cutOffs: 0 });
  });

  test('--output-start stamps each fix with the start + t; the format flags reach the format', async () => {
    const path = join(scratch.dir, 'stamped.nmea');
    const outputs = openOutputs(parse(['--nmea', path, '--nmea-talker', 'GN', '--output-start', '2024-05-01T09:30:00+02:00']), silentLogger);
    outputs.fix(fixFeature(7.5, 46.5, { t: 12.5 }));
    await outputs.close();
    expect(readFileSync(path, 'ascii')).toMatch(/^\$GNRMC,073012\.50,A,/m);
  });

  test.each([
    [['--nmea', 'udp://127.0.0.1:10110', '--nmea-rate', '0'], 'GEOLOC_ERR_OUTPUT_OPTIONS'],
    [['--nmea', 'udp://127.0.0.1:10110', '--nmea-rate', 'fast'], 'GEOLOC_ERR_USAGE'],
    [['--nmea', 'udp://127.0.0.1:10110', '--nmea', 'udp://127.0.0.1'], 'GEOLOC_ERR_OUTPUT_URL'],
    [['--nmea', 'udp://127.0.0.1:10110', '--nmea-talker', 'G'], 'GEOLOC_ERR_OUTPUT_OPTIONS'],
    [['--nmea', 'udp://127.0.0.1:10110', '--output-queue', '0'], 'GEOLOC_ERR_OUTPUT_OPTIONS'],
    [['--nmea', 'udp://127.0.0.1:10110', '--output-start', '2024-05-01T09:30:00'], 'GEOLOC_ERR_USAGE'],
  ])('%j is refused with %s, before any output opens', (args, code) => {
    expect(() => openOutputs(parse(args), silentLogger)).toThrow(expect.objectContaining({ code }));
  });
});
