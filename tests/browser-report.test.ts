/**
 * report.html, the page `geoloc replay --report report.json` writes beside its report, opened
 * offline in the real browser: the first seconds of the fixture flight replayed by the CLI, the
 * page loaded from disk with every request beyond its own folder refused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { demoPaths } from '../fixtures/defaults';
import { describeIfChromium, openBrowser } from './support/browser';
import { runCli } from './support/cli';
import { runArtifactsDir } from './support/testVideos';

/** long enough for two five-second stretches */
const CLIP_SECONDS = 8;
const VIEWPORT = { width: 1100, height: 900 };

describeIfChromium('report.html in chromium, offline', () => {
  const paths = demoPaths();
  const missing = [paths.video, paths.telemetry, paths.indexManifest].filter((p) => !existsSync(p));
  let out: string;
  let report: { fixesOut: number };

  beforeAll(async () => {
    if (missing.length > 0) return;
    out = runArtifactsDir('report-page');
    const clip = join(out, 'clip.mp4');
    expect(spawnSync('ffmpeg', ['-loglevel', 'error', '-nostdin', '-y', '-i', paths.video, '-t', String(CLIP_SECONDS), '-c', 'copy', clip]).status).toBe(0);
    const r = await runCli(['replay', clip, '--telemetry', paths.telemetry, '--index', paths.index, '--report', join(out, 'report.json'), '--cpu']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/page +\S+report-explain-\d+\.png, .*report\.html/);
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  });

  (missing.length === 0 ? test : test.skip)(
    missing.length === 0 ? 'loads with nothing from the network and no console errors: the track on the imagery, the chart, the methods and the explain pictures' : `skipped: ${missing.join(', ')} not built (make setup)`,
    async () => {
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      const browser = await openBrowser(VIEWPORT);
      try {
        const page = await browser.context.newPage();
        const errors: string[] = [];
        const refused: string[] = [];
        page.on('pageerror', (err) => errors.push(err.message));
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        await page.route('**/*', (route) => {
          const url = route.request().url();
          if (url.startsWith(pathToFileURL(out).href) || url.startsWith('data:')) return route.continue();
          refused.push(url);
          return route.abort();
        });
        await page.goto(pathToFileURL(join(out, 'report.html')).href);
        await page.waitForLoadState('load');
        const seen = await page.evaluate(() => {
          const box = (selector: string) => {
            const r = document.querySelector(selector)?.getBoundingClientRect();
            return r ? { width: r.width, height: r.height } : null;
          };
          const points = (selector: string) => (document.querySelector(selector) as SVGPolylineElement | null)?.points.numberOfItems ?? 0;
          const pictures = [...document.querySelectorAll('img.explain')] as HTMLImageElement[];
          const imagery = document.querySelector('#track image') as SVGImageElement | null;
          return {
            track: box('#track'),
            chart: box('#chart'),
            trackPoints: points('#track-line'),
            errorPoints: points('#error-line'),
            radiusPoints: points('#radius-line'),
            methods: document.querySelectorAll('#chart rect.method').length,
            imagery: imagery ? imagery.getBBox().width : 0,
            pictures: pictures.map((img) => ({ complete: img.complete, width: img.naturalWidth, src: img.getAttribute('src') })),
          };
        });
        expect(errors).toEqual([]);
        expect(refused).toEqual([]);
        expect(seen.track!.width).toBeGreaterThan(300);
        expect(seen.track!.height).toBeGreaterThan(100);
        expect(seen.chart!.width).toBeGreaterThan(300);
        expect(seen.chart!.height).toBeGreaterThan(100);
        expect(seen.imagery).toBeGreaterThan(300);
        for (const n of [seen.trackPoints, seen.errorPoints, seen.radiusPoints, seen.methods]) expect(n).toBe(report.fixesOut);
        expect(seen.pictures.length).toBeGreaterThanOrEqual(1);
        for (const picture of seen.pictures) {
          expect(picture).toMatchObject({ complete: true, src: expect.stringMatching(/^report-explain-\d+\.png$/) });
          expect(picture.width).toBeGreaterThan(900);
        }
        await page.screenshot({ path: join(out, 'report-page.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    },
  );
});
