/**
 * The ground map in a real browser (Debian's chromium through playwright-core): the fixture
 * flight replayed by `geoloc replay --serve` shows up live on the map, and the page
 * reconnects and subscribes again when the gateway restarts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createGateway } from '../gateway/server';
import { makeFix, scrapeMetric } from './support/gatewayClients';
import { haversineMeters } from '../pipeline/geo/wgs84';
import { repoRoot } from '../pipeline/core/paths';
import { killAndWait, waitFor } from './support/processes';
import { CLI_PATH } from './support/cli';
import { demoPaths } from '../fixtures/defaults';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1280, height: 800 };
const ARTIFACTS = join(repoRoot(), 'test-artifacts');
const FLIGHT = 'fixture-flight';
/** The first seconds of the fixture flight, replayed at the video's own speed. */
const REPLAY_SECONDS = 20;
const URL_LINE = /map at (http:\/\/\S+?)\/ /;
const REPLAY_DONE = /replay done; still serving/;
const STARTUP_MS = 45_000;
const GROWTH_MS = 30_000;
const RECONNECT_MS = 15_000;

interface MapState {
  trackLength: number;
  truthLength: number;
  marker: { lat: number; lon: number } | null;
  connected: boolean;
  tiles: number;
  status: string;
}

/** What the page's read-only test hook reports. */
function mapState(page: Page): Promise<MapState> {
  return page.evaluate(() => {
    const hook = (window as unknown as { geolocMap: Record<string, () => unknown> }).geolocMap;
    const status = hook.status!() as { connected: boolean; text: string };
    return {
      trackLength: hook.trackLength!() as number,
      truthLength: hook.truthLength!() as number,
      marker: hook.markerLatLng!() as { lat: number; lon: number } | null,
      connected: status.connected,
      tiles: hook.tileCount!() as number,
      status: status.text,
    };
  });
}

async function waitForMap(page: Page, condition: (s: MapState) => boolean, timeoutMs: number, what: string): Promise<MapState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await mapState(page);
    if (condition(state)) return state;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the map shows ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const describeIfChromium = existsSync(CHROMIUM) ? describe : describe.skip;

describeIfChromium('the ground map in chromium', () => {
  let profile: string;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'geoloc-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: VIEWPORT });
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  async function openPage(url: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(url);
    return page;
  }

  describe('replaying the fixture flight', () => {
    const paths = demoPaths();
    const needed = [paths.video, paths.telemetry, paths.model, paths.indexManifest];
    const missing = needed.filter((p) => !existsSync(p));
    let work: string;
    let replay: ChildProcess | undefined;

    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), 'geoloc-browser-'));
    });

    afterAll(async () => {
      if (replay) await killAndWait(replay);
      rmSync(work, { recursive: true, force: true });
    });

    (missing.length === 0 ? test : test.skip)(
      missing.length === 0 ? 'the marker moves, the track grows beside the truth track, over the satellite tiles' : `skipped: ${missing.join(', ')} not built (make setup)`,
      async () => {
        const clip = join(work, 'clip.mp4');
        const cut = spawnSync('ffmpeg', ['-loglevel', 'error', '-nostdin', '-y', '-i', paths.video, '-t', String(REPLAY_SECONDS), '-c', 'copy', clip]);
        expect(cut.status).toBe(0);

        replay = spawn(
          process.execPath,
          [CLI_PATH, 'replay', clip, '--telemetry', paths.telemetry, '--index', paths.index, '--model', paths.model, '--report', join(work, 'report.json'), '--flight', FLIGHT, '--realtime', '--serve', '0'],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        replay.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        await waitFor(() => URL_LINE.test(stderr) || replay!.exitCode !== null, STARTUP_MS, 'the replay to print its map URL');
        const url = URL_LINE.exec(stderr)?.[1];
        if (!url) throw new Error(`replay exited (${replay.exitCode}) without serving: ${stderr}`);

        const page = await openPage(`${url}/?flight=${FLIGHT}`);
        const first = await waitForMap(page, (s) => s.trackLength >= 2 && s.marker !== null, GROWTH_MS, 'the first fixes');
        const later = await waitForMap(page, (s) => s.trackLength >= first.trackLength + 5, GROWTH_MS, 'the track to grow');
        expect(haversineMeters(first.marker!, later.marker!)).toBeGreaterThan(0);
        expect(later.truthLength).toBeGreaterThan(0);
        expect(later.connected).toBe(true);
        expect(later.tiles).toBeGreaterThan(0);
        expect(later.status).toMatch(/fps [\d.]+ · conf \d+% · r95 \d+ m · err \d+ m · lag \d+ ms/);

        // Once the replay is done, the page holds every fix it published, the truth beside each.
        await waitFor(() => REPLAY_DONE.test(stderr), GROWTH_MS, 'the replay to finish');
        const report = JSON.parse(readFileSync(join(work, 'report.json'), 'utf8')) as { fixesOut: number; fixesWithTruth: number };
        const done = await waitForMap(page, (s) => s.trackLength === report.fixesOut, GROWTH_MS, `all ${report.fixesOut} fixes of the replay`);
        expect(done.truthLength).toBe(report.fixesWithTruth);
        await page.waitForLoadState('networkidle');
        await page.screenshot({ path: join(ARTIFACTS, 'map.png') });
        expect(pageErrors).toEqual([]);

        // The replay keeps serving after its end; Ctrl-C ends it cleanly.
        const exit = new Promise<number | null>((resolve) => replay!.once('exit', (code) => resolve(code)));
        replay.kill('SIGINT');
        expect(await exit).toBe(0);
        await page.close();
      },
    );
  });

  test('with a token, the page connects when its URL carries it and stays out when not', async () => {
    const token = 'map-token';
    const gateway = await createGateway({ token });
    try {
      const refused = await openPage(`${gateway.url}/?flight=f1`);
      const allowed = await openPage(`${gateway.url}/?flight=f1&token=${token}`);
      await waitForMap(allowed, (s) => s.connected, RECONNECT_MS, 'the page with the token to connect');
      gateway.publish('f1', makeFix('f1', 0));
      await waitForMap(allowed, (s) => s.trackLength === 1, RECONNECT_MS, 'a fix on the page with the token');
      // The page without the token did try, and was turned away.
      expect(await scrapeMetric(gateway.url, 'geoloc_ws_rejected_total', { reason: 'unauthorized' })).toBeGreaterThan(0);
      const outside = await mapState(refused);
      expect(outside.connected).toBe(false);
      expect(outside.trackLength).toBe(0);
      await Promise.all([refused.close(), allowed.close()]);
    } finally {
      await gateway.close();
    }
  });

  test('the page reconnects by itself when the gateway restarts, and subscribes again', async () => {
    const flight = 'reconnect-flight';
    const first = await createGateway({});
    const port = first.port;
    let second: Awaited<ReturnType<typeof createGateway>> | undefined;
    try {
      const page = await openPage(`${first.url}/?flight=${flight}`);
      await waitForMap(page, (s) => s.connected, RECONNECT_MS, 'the page to connect');
      for (let frame = 0; frame < 5; frame++) first.publish(flight, makeFix(flight, frame));
      await waitForMap(page, (s) => s.trackLength === 5, RECONNECT_MS, 'the first five fixes');

      await first.close();
      await waitForMap(page, (s) => !s.connected, RECONNECT_MS, 'the page to notice the gateway is gone');

      // Fixes the page missed while it was away reach it in the snapshot it asks for when it subscribes again.
      second = await createGateway({ port });
      for (let frame = 5; frame < 10; frame++) second.publish(flight, makeFix(flight, frame));
      await waitForMap(page, (s) => s.connected && s.trackLength === 10, RECONNECT_MS, 'the page to reconnect and get the snapshot');
      expect(second.clientCount()).toBe(1);
      second.publish(flight, makeFix(flight, 10));
      const after = await waitForMap(page, (s) => s.trackLength === 11, RECONNECT_MS, 'a live fix after the restart');
      expect(after.marker!.lon).toBeCloseTo(makeFix(flight, 10).geometry.coordinates[0], 9);
      await page.screenshot({ path: join(ARTIFACTS, 'map-reconnected.png') });
      expect(pageErrors).toEqual([]);
      await page.close();
    } finally {
      await first.close();
      await second?.close();
    }
  });
});
