import type { OutputStats } from '../pipeline/core/types';
import { createGateway, type Gateway } from './server';
import { scrapeMetric } from '../tests/support/gatewayClients';

describe('fix outputs on /metrics', () => {
  let gateway: Gateway;

  beforeEach(async () => {
    gateway = await createGateway();
  });

  afterEach(() => gateway.close());

  test('the counts the outputs keep, read at each scrape, labelled by output and target', async () => {
    const nmea: OutputStats = { name: 'nmea', target: 'udp://127.0.0.1:10110', sent: 40, dropped: 3, errors: 2, cutOffs: 0, connected: true, queued: 1, bufferedBytes: 70 };
    const cot: OutputStats = { name: 'cot', target: 'tcp://127.0.0.1:8087', sent: 5, dropped: 9, errors: 4, cutOffs: 1, connected: false, queued: 8, bufferedBytes: 0 };
    gateway.metrics.watchOutputs(() => [nmea, cot]);
    const scrape = (metric: string, labels: OutputStats) => scrapeMetric(gateway.url, metric, { output: labels.name, target: labels.target });

    expect(await scrape('geoloc_output_messages_sent_total', nmea)).toBe(40);
    expect(await scrape('geoloc_output_messages_dropped_total', cot)).toBe(9);
    expect(await scrape('geoloc_output_errors_total', cot)).toBe(4);
    expect(await scrape('geoloc_output_cut_offs_total', cot)).toBe(1);
    expect(await scrape('geoloc_output_connected', nmea)).toBe(1);
    expect(await scrape('geoloc_output_connected', cot)).toBe(0);
    expect(await scrape('geoloc_output_queued_messages', cot)).toBe(8);
    expect(await scrape('geoloc_output_buffered_bytes', nmea)).toBe(70);

    nmea.sent = 41;
    expect(await scrape('geoloc_output_messages_sent_total', nmea)).toBe(41);
  });
});
