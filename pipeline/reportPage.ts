/**
 * report.html: a replay's report as a page an analyst opens offline. Everything is inline (the
 * map's imagery as a data URL, the drawings as SVG, the style) but the explain pictures, which
 * lie beside it: the track and the truth on the imagery, the error and the 95% radius over time,
 * how each fix was made, the headline numbers, and the worst stretches with their pictures.
 */
import type { LatLon } from './geo/wgs84';
import type { ReplayReport } from './replayReport';
import type { ReportFix, Stretch } from './reportStretches';
import type { EstimateMethod } from './tracking/types';

/** The map's imagery around the flight, and where a point falls on it. */
export interface ReportMap {
  dataUrl: string;
  width: number;
  height: number;
  toPx(p: LatLon): { x: number; y: number };
}

export interface ReportStretch extends Stretch {
  /** the explain picture's file name, beside the page */
  picture?: string;
  /** why there is no picture, or why its frame registered nowhere */
  note?: string;
}

export interface ReportPageInput {
  report: ReplayReport;
  fixes: readonly ReportFix[];
  map?: ReportMap;
  stretches: readonly ReportStretch[];
}

const METHOD_COLOURS: Record<EstimateMethod, string> = { registered: '#34c759', retrieval: '#00b4ff', lost: '#9aa0a6' };
const TRUTH_COLOUR = '#ffd000';
const ERROR_COLOUR = '#ff3b30';
const RADIUS_COLOUR = '#00b4ff';
const STRETCH_COLOUR = '#ff2d55';
const CHART = { width: 960, height: 260, left: 52, right: 12, top: 12, bottom: 34, strip: 14 };
const Y_TICKS = 5;
const X_TICKS = 8;
const PERCENT = 100;

export function reportPageHtml({ report, fixes, map, stretches }: ReportPageInput): string {
  const e = report.errorMeters;
  const rows: [string, string][] = [
    ['video', report.video],
    ['fixes', `${report.fixesOut} of ${report.framesIn} frames, ${num(report.fps)} fixes/s`],
    ['error (smoothed)', `p50 ${num(e.p50)} m, p95 ${num(e.p95)} m, max ${num(e.max)} m`],
    ['raw top-1 error', `p50 ${num(report.rawTop1ErrorMeters.p50)} m, p95 ${num(report.rawTop1ErrorMeters.p95)} m`],
    ['95% radius holds the truth', `${num(report.coverage95 * PERCENT)}% of ${report.fixesWithTruth} fixes (median radius ${num(report.radiusM.p50)} m)`],
    ['method', Object.entries(report.methods).map(([m, n]) => `${m} ${n}`).join(', ')],
    ['seed', report.seed ? `${report.seed.lat}, ${report.seed.lon} ±${report.seed.radiusM} m` : 'none'],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>geoloc replay report: ${esc(report.video)}</title>
<link rel="icon" href="data:,">
<style>
body { margin: 0 auto; max-width: 1000px; padding: 1em; font: 14px/1.45 system-ui, sans-serif; background: #1d2126; color: #e8eaed; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.8em 0.2em 0; text-align: left; vertical-align: top; }
.key i { display: inline-block; width: 1.6em; height: 0; border-top: 3px solid; vertical-align: middle; margin: 0 0.4em 0 1em; }
svg text { fill: #c8ccd0; font: 11px system-ui, sans-serif; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #3a4047; }
</style>
</head>
<body>
<h1>Replay report</h1>
<table id="summary">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h2>Track and truth</h2>
<p class="key"><i style="border-color:${TRUTH_COLOUR};border-top-style:dashed"></i>truth (telemetry)<i style="border-color:${RADIUS_COLOUR}"></i>track; fixes by method:${methodKey()}<i style="border-color:${STRETCH_COLOUR}"></i>worst stretches</p>
${trackSvg(fixes, map, stretches)}
<h2>Error and 95% radius over time</h2>
<p class="key"><i style="border-color:${ERROR_COLOUR}"></i>error<i style="border-color:${RADIUS_COLOUR}"></i>95% radius; the strip under the time axis: the method of each fix</p>
${chartSvg(fixes, stretches)}
<h2>Worst stretches</h2>
${stretches.length === 0 ? '<p>No fix had ground truth.</p>' : stretches.map(stretchFigure).join('\n')}
</body>
</html>
`;
}

function methodKey(): string {
  return Object.entries(METHOD_COLOURS)
    .map(([m, c]) => `<i style="border-color:${c}"></i>${m}`)
    .join('');
}

function trackSvg(fixes: readonly ReportFix[], map: ReportMap | undefined, stretches: readonly ReportStretch[]): string {
  if (!map) return '<p id="track">No imagery to draw the track on.</p>';
  const at = (p: LatLon) => map.toPx(p);
  const line = (points: readonly LatLon[]) => points.map((p) => { const q = at(p); return `${q.x.toFixed(1)},${q.y.toFixed(1)}`; }).join(' ');
  const truths = fixes.filter((f) => f.truth).map((f) => f.truth!);
  const dots = fixes.map((f) => { const q = at(f); return `<circle cx="${q.x.toFixed(1)}" cy="${q.y.toFixed(1)}" r="2.2" fill="${METHOD_COLOURS[f.method]}"><title>frame ${f.frame}, t ${f.t.toFixed(1)} s, ${f.method}${f.errorM !== undefined ? `, error ${f.errorM.toFixed(1)} m` : ''}, radius ${f.radiusM.toFixed(1)} m</title></circle>`; });
  const marks = stretches.map((s, i) => { const q = at(s.worst); return `<circle cx="${q.x.toFixed(1)}" cy="${q.y.toFixed(1)}" r="9" fill="none" stroke="${STRETCH_COLOUR}" stroke-width="2"/><text x="${(q.x + 11).toFixed(1)}" y="${(q.y + 4).toFixed(1)}">${i + 1}</text>`; });
  return `<svg id="track" xmlns="http://www.w3.org/2000/svg" width="${map.width}" height="${map.height}" viewBox="0 0 ${map.width} ${map.height}" style="max-width:100%;height:auto">
<image href="${map.dataUrl}" width="${map.width}" height="${map.height}"/>
<polyline points="${line(truths)}" fill="none" stroke="${TRUTH_COLOUR}" stroke-width="2.5" stroke-dasharray="7 6"/>
<polyline id="track-line" points="${line(fixes)}" fill="none" stroke="${RADIUS_COLOUR}" stroke-width="2"/>
${dots.join('')}${marks.join('')}
</svg>`;
}

function chartSvg(fixes: readonly ReportFix[], stretches: readonly ReportStretch[]): string {
  const c = CHART;
  if (fixes.length === 0) return '<p id="chart">No fixes.</p>';
  const t0 = fixes[0]!.t;
  const t1 = Math.max(t0 + 1e-9, fixes[fixes.length - 1]!.t);
  const yMax = niceCeiling(Math.max(1, ...fixes.map((f) => Math.max(f.radiusM, f.errorM ?? 0))));
  const plotW = c.width - c.left - c.right;
  const plotH = c.height - c.top - c.bottom - c.strip;
  const x = (t: number) => c.left + ((t - t0) / (t1 - t0)) * plotW;
  const y = (m: number) => c.top + plotH - (m / yMax) * plotH;
  const path = (points: [number, number][]) => points.map(([t, m]) => `${x(t).toFixed(1)},${y(m).toFixed(1)}`).join(' ');
  const parts: string[] = [];
  for (const s of stretches) parts.push(`<rect x="${x(s.fromT).toFixed(1)}" y="${c.top}" width="${Math.max(1, x(s.toT) - x(s.fromT)).toFixed(1)}" height="${plotH}" fill="${STRETCH_COLOUR}" fill-opacity="0.15"/>`);
  for (let i = 0; i <= Y_TICKS; i++) {
    const m = (yMax * i) / Y_TICKS;
    parts.push(`<line x1="${c.left}" x2="${c.width - c.right}" y1="${y(m).toFixed(1)}" y2="${y(m).toFixed(1)}" stroke="#3a4047"/><text x="${c.left - 6}" y="${(y(m) + 4).toFixed(1)}" text-anchor="end">${trim(m)} m</text>`);
  }
  for (let i = 0; i <= X_TICKS; i++) {
    const t = t0 + ((t1 - t0) * i) / X_TICKS;
    parts.push(`<text x="${x(t).toFixed(1)}" y="${c.height - 4}" text-anchor="middle">${trim(t)} s</text>`);
  }
  parts.push(`<polyline id="radius-line" points="${path(fixes.map((f) => [f.t, f.radiusM]))}" fill="none" stroke="${RADIUS_COLOUR}" stroke-width="1.5"/>`);
  parts.push(`<polyline id="error-line" points="${path(fixes.filter((f) => f.errorM !== undefined).map((f) => [f.t, f.errorM!]))}" fill="none" stroke="${ERROR_COLOUR}" stroke-width="1.5"/>`);
  const stripY = c.top + plotH + 4;
  const step = plotW / Math.max(1, fixes.length);
  fixes.forEach((f) => parts.push(`<rect class="method" x="${x(f.t).toFixed(1)}" y="${stripY}" width="${Math.max(1, step).toFixed(1)}" height="${c.strip - 4}" fill="${METHOD_COLOURS[f.method]}"/>`));
  return `<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="${c.width}" height="${c.height}" viewBox="0 0 ${c.width} ${c.height}" style="max-width:100%;height:auto">${parts.join('')}</svg>`;
}

function stretchFigure(s: ReportStretch, i: number): string {
  const head = `${i + 1}. ${s.fromT.toFixed(1)}–${s.toT.toFixed(1)} s: mean error ${s.meanErrorM.toFixed(1)} m; worst fix frame ${s.worst.frame} (t ${s.worst.t.toFixed(1)} s, ${s.worst.method}, error ${s.worst.errorM!.toFixed(1)} m, radius ${s.worst.radiusM.toFixed(1)} m)`;
  const picture = s.picture ? `<img class="explain" src="${esc(s.picture)}" alt="explain frame ${s.worst.frame}">` : '';
  return `<figure class="stretch">${picture}<figcaption>${esc(head)}${s.note ? `<br>${esc(s.note)}` : ''}</figcaption></figure>`;
}

/** 1, 2 or 5 times a power of ten, at least v */
function niceCeiling(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((k) => k * p >= v) ?? 10) * p;
}

const trim = (v: number) => (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(1));
const num = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
