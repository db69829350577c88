/**
 * Writes report.html beside a replay's report.json: the imagery around the flight cut from the
 * index's map, the worst stretches found and each explained by a picture (report-explain-<frame>.png
 * beside it, its frame registered near the fix the pipeline made, as registerFrame tries the
 * track's estimate first), and the page.
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import type { MapSampler } from '../models/mapWindow';
import { GeolocError } from './core/errors';
import { Explainer } from './explain';
import { explanationPicture } from './explainPicture';
import { LocalFrame, type LatLon } from './geo/wgs84';
import { DEFAULT_MAX_ATTEMPTS } from '../operators/registerFrame';
import { REGISTRATION_FRAME } from './localize';
import type { ReplayReport } from './replayReport';
import { reportPageHtml, type ReportMap, type ReportStretch } from './reportPage';
import { DEFAULT_STRETCHES, worstStretches, type ReportFix, type StretchOptions } from './reportStretches';
import { readTelemetry, telemetryAt } from './telemetry';
import { readVideoFrames } from './videoFrame';

export interface ReportPageOptions {
  stretches: StretchOptions;
  /** the longer side of the map's imagery on the page, pixels */
  mapPx: number;
  /** ground shown beyond the flight, as a share of its extent */
  mapMargin: number;
  /** ground the map shows at least across each side, metres: a hovering flight still gets its surroundings */
  minMapSpanM: number;
  /** registrations tried per picture; by default as many as registerFrame tries per frame */
  explainBudget: number;
  /** the prior circle a picture registers in is the fix's 95% radius, at least this, metres */
  minExplainRadiusM: number;
}

export const DEFAULT_REPORT_PAGE: ReportPageOptions = { stretches: DEFAULT_STRETCHES, mapPx: 960, mapMargin: 0.1, minMapSpanM: 300, explainBudget: DEFAULT_MAX_ATTEMPTS, minExplainRadiusM: 50 };

const COORD_DIGITS = 7;
const round = (v: number, digits: number) => Number(v.toFixed(digits));

export interface ReportPageInputs {
  report: ReplayReport;
  fixes: readonly ReportFix[];
  video: string;
  telemetryPath: string;
  indexDir: string;
  /** horizontal field of view of a frame as registration reads it (REGISTRATION_FRAME) */
  hfovDeg: number;
  /** the rate the replay localized frames at: only those are decoded again */
  fps: number;
}

/** The page's path beside `reportPath`: report.json → report.html. */
export function reportPagePath(reportPath: string): string {
  return join(dirname(reportPath), `${basename(reportPath).replace(/\.json$/i, '')}.html`);
}

/** Writes the page and its pictures; returns the files written. */
export async function writeReportPage(reportPath: string, inputs: ReportPageInputs, log: (line: string) => void, options: ReportPageOptions = DEFAULT_REPORT_PAGE): Promise<string[]> {
  const htmlPath = reportPagePath(reportPath);
  const stem = basename(htmlPath).replace(/\.html$/, '');
  const written: string[] = [];
  const explainer = await Explainer.open(inputs.indexDir, log);
  try {
    const map = await imageryAround(inputs.fixes, explainer.sampler, options);
    const stretches: ReportStretch[] = worstStretches(inputs.fixes, options.stretches);
    const frames = await readVideoFrames(inputs.video, stretches.map((s) => s.worst.frame), REGISTRATION_FRAME, inputs.fps);
    const records = readTelemetry(inputs.telemetryPath).records;
    for (const stretch of stretches) {
      const { worst } = stretch;
      const frame = frames.get(worst.frame)!;
      const telemetry = telemetryAt(records, frame.t);
      const explanation = await explainer.explain(
        {
          label: `${basename(inputs.video)} frame ${worst.frame} (t ${frame.t.toFixed(2)} s)`,
          photo: { rgb: new Uint8Array(frame.pixels.buffer, frame.pixels.byteOffset, frame.pixels.byteLength), ...REGISTRATION_FRAME },
          original: { rgb: frame.pixels, ...REGISTRATION_FRAME },
          hfovDeg: inputs.hfovDeg,
          ...(telemetry ? { telemetry } : {}),
        },
        // rounded as a fix is (~1 cm, 1 m): the picture names its prior
        { near: { lat: round(worst.lat, COORD_DIGITS), lon: round(worst.lon, COORD_DIGITS), radiusM: Math.ceil(Math.max(worst.radiusM, options.minExplainRadiusM)) }, budget: options.explainBudget },
      );
      stretch.picture = `${stem}-explain-${worst.frame}.png`;
      if (!explanation.result.ok) stretch.note = `registered nowhere near the fix: ${explanation.result.reason}`;
      written.push(write(join(dirname(htmlPath), stretch.picture), await explanationPicture(explanation, explainer.sampler)));
    }
    written.push(write(htmlPath, reportPageHtml({ report: inputs.report, fixes: inputs.fixes, ...(map ? { map } : {}), stretches })));
    return written;
  } finally {
    await explainer.close();
  }
}

function write(path: string, content: string | Buffer): string {
  try {
    writeFileSync(path, content);
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_OUTPUT_WRITE', `cannot write ${path} (${(cause as Error).message})`, { cause });
  }
  return path;
}

/** The index's imagery around every fix and truth, north up, as an inline JPEG. */
async function imageryAround(fixes: readonly ReportFix[], sampler: MapSampler, options: ReportPageOptions): Promise<ReportMap | undefined> {
  const points: LatLon[] = fixes.flatMap((f) => (f.truth ? [f, f.truth] : [f]));
  if (points.length === 0) return undefined;
  const lat = points.map((p) => p.lat);
  const lon = points.map((p) => p.lon);
  const centre = { lat: (Math.min(...lat) + Math.max(...lat)) / 2, lon: (Math.min(...lon) + Math.max(...lon)) / 2 };
  const frame = new LocalFrame(centre);
  let halfE = options.minMapSpanM / 2;
  let halfN = options.minMapSpanM / 2;
  for (const p of points) {
    const { e, n } = frame.toEnu({ ...p, alt: 0 });
    halfE = Math.max(halfE, Math.abs(e));
    halfN = Math.max(halfN, Math.abs(n));
  }
  const metersPerPixel = (2 * Math.max(halfE, halfN) * (1 + options.mapMargin)) / options.mapPx;
  const width = Math.max(1, Math.round((2 * halfE * (1 + options.mapMargin)) / metersPerPixel));
  const height = Math.max(1, Math.round((2 * halfN * (1 + options.mapMargin)) / metersPerPixel));
  const window = await sampler.window({ centre, headingDeg: 0, metersPerPixel, width, height });
  const jpeg = await sharp(window.rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
  return {
    dataUrl: `data:image/jpeg;base64,${jpeg.toString('base64')}`,
    width,
    height,
    toPx: (p) => {
      const { e, n } = frame.toEnu({ ...p, alt: 0 });
      return { x: width / 2 + e / metersPerPixel, y: height / 2 - n / metersPerPixel };
    },
  };
}
