/**
 * The ground map in a real browser (Debian's chromium through playwright-core): the fixture
 * flight replayed by `geoloc replay --serve` shows up live on the map, and the page
 * reconnects and subscribes again when the gateway restarts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describeIfChromium, openBrowser } from './support/browser';
import { createGateway } from '../gateway/server';
import { makeFix, scrapeMetric } from './support/gatewayClients';
import { haversineMeters } from '../pipeline/geo/wgs84';
import { repoRoot } from '../pipeline/core/paths';
import type { GeoJsonPolygon as FixFootprint } from '../pipeline/fixEvidence';
import { killAndWait, waitFor } from './support/processes';
import { CLI_PATH } from './support/cli';
import { demoPaths } from '../fixtures/defaults';

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
/** the replay's last fix to its end: report.json, and report.html with its explain pictures (seconds each on shared cores) */
const REPORT_MS = 90_000;

interface MapState {
  trackLength: number;
  /** the newest fix's footprint as drawn */
  footprint: { lat: number; lon: number }[] | null;
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
      footprint: hook.footprint!() as { lat: number; lon: number }[] | null,
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


describeIfChromium('the ground map in chromium', () => {
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let context: BrowserContext;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await openBrowser(VIEWPORT);
    context = browser.context;
  });

  afterAll(() => browser?.close());

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
        // the newest frame's footprint, from the camera model at the fix (no --register): around the marker, a few hundred metres across
        expect(later.footprint).toHaveLength(4);
        for (const corner of later.footprint!) expect(haversineMeters(corner, later.marker!)).toBeLessThan(400);

        // Once the replay is done, the page holds every fix it published, the truth beside each.
        await waitFor(() => REPLAY_DONE.test(stderr), REPORT_MS, 'the replay to finish and write its report page');
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

  test("the newest fix's footprint is drawn live, and a click on it draws that fix's matched points", async () => {
    const token = 'evidence-token';
    const flight = 'evidence-flight';
    const gateway = await createGateway({ token });
    try {
      const page = await openPage(`${gateway.url}/?flight=${flight}&token=${token}`);
      await waitForMap(page, (s) => s.connected, RECONNECT_MS, 'the page to connect');
      const square = (lon: number, lat: number, d: number): FixFootprint => ({ type: 'Polygon', coordinates: [[[lon - d, lat + d], [lon + d, lat + d], [lon + d, lat - d], [lon - d, lat - d], [lon - d, lat + d]]] });
      const points = Array.from({ length: 12 }, (_, i) => ({ x: 40 * i, y: 30 * i, lat: 47.3 - 0.0008 + 0.00012 * i, lon: 8.5 + 0.0006 - 0.0001 * i }));
      const withEvidence = (frame: number, matches: number) => {
        const fix = makeFix(flight, frame, 8.5 + frame * 0.01, 47.3);
        fix.properties.evidence = { footprint: square(8.5 + frame * 0.01, 47.3, 0.002), footprintFrom: 'registration', matches };
        return fix;
      };
      gateway.publish(flight, withEvidence(0, 0));
      gateway.publish(flight, withEvidence(1, points.length), { frameWidth: 480, frameHeight: 360, points: points.map((p) => ({ ...p, lon: p.lon + 0.01 })) });
      const shown = await waitForMap(page, (s) => s.trackLength === 2, RECONNECT_MS, 'two fixes with footprints');
      // the newest footprint only, where the fix put it
      expect(shown.footprint!.map((c) => c.lon.toFixed(3))).toEqual(['8.508', '8.512', '8.512', '8.508']);

      // following pans the map to the new fix, animated: click once the footprint has come to rest
      const footprintCentre = () => page.evaluate(() => (window as unknown as { geolocMap: { footprintCentre(): { x: number; y: number } } }).geolocMap.footprintCentre());
      let centre = await footprintCentre();
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const again = await footprintCentre();
        if (again.x === centre.x && again.y === centre.y) break;
        centre = again;
      }
      await page.mouse.click(centre.x + 30, centre.y + 30);
      const drawn = async () => page.evaluate(() => {
        const hook = (window as unknown as { geolocMap: { selectedFrame(): number | null; matchedPoints(): { lat: number; lon: number }[] } }).geolocMap;
        return { frame: hook.selectedFrame(), points: hook.matchedPoints() };
      });
      await page.waitForFunction((n) => (window as unknown as { geolocMap: { matchedPoints(): unknown[] } }).geolocMap.matchedPoints().length === n, points.length, { timeout: RECONNECT_MS });
      const picked = await drawn();
      expect(picked.frame).toBe(1);
      picked.points.forEach((p, i) => {
        expect(p.lat).toBeCloseTo(points[i]!.lat, 9);
        expect(p.lon).toBeCloseTo(points[i]!.lon + 0.01, 9);
      });
      expect((await mapState(page)).status).toContain('frame 1: 12 matched points');
      await page.screenshot({ path: join(ARTIFACTS, 'map-matches.png') });
      expect(pageErrors).toEqual([]);
      await page.close();
    } finally {
      await gateway.close();
    }
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
