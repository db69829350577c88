/**
 * The picture of a match: the frame on the left, the map's imagery around it on the right
 * (north up), a line from each inlier in the frame to where the fit puts it on the map, the
 * frame's footprint, the estimate with its 95% circle and the truth, and under them the numbers
 * in words. A frame that registered nowhere gets the same picture with the reason written under it.
 */
import sharp from 'sharp';
import { footprintM } from '../models/locate';
import type { MapSampler } from '../models/mapWindow';
import { GeolocError } from './core/errors';
import { spreadSample } from './core/stats';
import { haversineMeters, LocalFrame, type LatLon } from './geo/wgs84';
import type { Explanation } from './explain';

export interface PictureOptions {
  /** most inlier lines drawn, spread over the inliers */
  maxLines: number;
  /** side of the square map panel, and width of the frame panel, pixels */
  panelPx: number;
  /** ground the map panel shows beyond the footprint (and the estimate and truth), as a share of their extent */
  mapMargin: number;
}

export const DEFAULT_PICTURE: PictureOptions = { maxLines: 64, panelPx: 480, mapMargin: 0.25 };

const GAP_PX = 12;
const LINE_HEIGHT_PX = 18;
const FONT_PX = 13;
/** characters per caption line before it wraps (DejaVu Sans at 13 px over two panels) */
const WRAP_CHARS = 140;
const BACKGROUND = '#1d1f21';
const COORD_DIGITS = 7;
/** ground shown around a place when nothing registered: this many footprints across */
const UNREGISTERED_FOOTPRINTS = 2;

export async function explanationPicture(explanation: Explanation, sampler: MapSampler, options: PictureOptions = DEFAULT_PICTURE): Promise<Buffer> {
  const { subject, result, truth } = explanation;
  const { photo } = subject;
  const panel = options.panelPx;
  const scale = panel / photo.width;
  const frameHeight = Math.round(photo.height * scale);
  const mapLeft = panel + GAP_PX;

  const view = mapView(explanation, panel, options.mapMargin);
  const mapWindow = await sampler.window({ centre: view.centre, headingDeg: 0, metersPerPixel: view.metersPerPixel, width: panel, height: panel });
  const toMap = (p: LatLon) => {
    const { e, n } = view.frame.toEnu({ ...p, alt: 0 });
    return { x: mapLeft + panel / 2 + e / view.metersPerPixel, y: panel / 2 - n / view.metersPerPixel };
  };

  const caption = wrap(captionLines(explanation, options.maxLines));
  const width = mapLeft + panel;
  const top = Math.max(frameHeight, panel);
  const height = top + GAP_PX + caption.length * LINE_HEIGHT_PX + GAP_PX;

  const svg: string[] = [];
  if (result.ok) {
    const lines = spreadSample(result.inlierPairs, options.maxLines);
    lines.forEach((p, i) => {
      const m = toMap(p);
      const colour = `hsl(${Math.round((360 * i) / lines.length)},90%,60%)`;
      svg.push(`<line x1="${f(p.x * scale)}" y1="${f(p.y * scale)}" x2="${f(m.x)}" y2="${f(m.y)}" stroke="${colour}" stroke-width="1" stroke-opacity="0.7"/>`);
      svg.push(`<circle cx="${f(p.x * scale)}" cy="${f(p.y * scale)}" r="2.5" fill="${colour}"/><circle cx="${f(m.x)}" cy="${f(m.y)}" r="2.5" fill="${colour}"/>`);
    });
    svg.push(`<polygon points="${result.footprint.map((c) => { const m = toMap(c); return `${f(m.x)},${f(m.y)}`; }).join(' ')}" fill="none" stroke="#ffd400" stroke-width="2"/>`);
    const at = toMap(result);
    svg.push(`<circle cx="${f(at.x)}" cy="${f(at.y)}" r="${f(Math.max(3, result.uncertainty.radiusM / view.metersPerPixel))}" fill="none" stroke="#ff3b30" stroke-width="2"/>`);
    svg.push(cross(at, '#ff3b30'));
  }
  if (truth) {
    const t = toMap(truth);
    svg.push(`<circle cx="${f(t.x)}" cy="${f(t.y)}" r="6" fill="none" stroke="#34c759" stroke-width="2.5"/>`);
  }
  caption.forEach((line, i) => {
    svg.push(`<text x="${GAP_PX}" y="${top + GAP_PX + (i + 0.8) * LINE_HEIGHT_PX}" font-family="DejaVu Sans, sans-serif" font-size="${FONT_PX}" fill="#e8e8e8">${escapeXml(line)}</text>`);
  });
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join('')}</svg>`;

  const frameImage = await sharp(photo.rgb, { raw: { width: photo.width, height: photo.height, channels: 3 } }).resize(panel, frameHeight).png().toBuffer();
  const mapImage = await sharp(mapWindow.rgb, { raw: { width: panel, height: panel, channels: 3 } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: BACKGROUND } })
    .composite([
      { input: frameImage, left: 0, top: 0 },
      { input: mapImage, left: mapLeft, top: 0 },
      { input: Buffer.from(overlay), left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** The map panel: north up, centred on the footprint (or where registration looked first), wide enough for it, the estimate and the truth. */
function mapView(e: Explanation, panel: number, margin: number): { centre: LatLon; frame: LocalFrame; metersPerPixel: number } {
  const { result, truth, subject } = e;
  const points: LatLon[] = result.ok ? [...result.footprint, result] : [];
  if (truth) points.push(truth);
  const fallback = e.firstPlace ?? truth;
  if (points.length === 0 && !fallback) throw new GeolocError('GEOLOC_ERR_NOT_LOCATED', `${subject.label}: nothing proposed a place to register at and no telemetry says where it is, so there is no map to draw; add --near lat,lon`);
  const centre = result.ok ? mean(result.footprint) : (fallback as LatLon);
  const frame = new LocalFrame(centre);
  let halfExtent = 0;
  for (const p of points) {
    const { e: east, n: north } = frame.toEnu({ ...p, alt: 0 });
    halfExtent = Math.max(halfExtent, Math.abs(east), Math.abs(north));
  }
  if (!result.ok) {
    const { widthM } = footprintM(subject.photo, subject.hfovDeg, e.pitchDeg, Math.max(...e.heightsM));
    halfExtent = Math.max(halfExtent, (UNREGISTERED_FOOTPRINTS * widthM) / 2);
  }
  return { centre, frame, metersPerPixel: (2 * halfExtent * (1 + margin)) / panel };
}

function captionLines({ subject, result, truth, heightsM, pitchDeg }: Explanation, maxLines: number): string[] {
  const lines = [`${subject.label}: ${subject.photo.width}×${subject.photo.height} px, hfov ${subject.hfovDeg.toFixed(1)}°, pitch ${pitchDeg.toFixed(1)}°, heights tried ${heightsM.map((h) => h.toFixed(0)).join(', ')} m`];
  if (result.ok) {
    lines.push(
      `estimate (red, 95% circle): ${result.lat.toFixed(COORD_DIGITS)}, ${result.lon.toFixed(COORD_DIGITS)} ±${result.uncertainty.radiusM.toFixed(1)} m, heading ${result.headingDeg.toFixed(1)}°, height ${result.heightM.toFixed(1)} m`,
      `${result.inliers} inliers of ${result.matches} matches (lines: up to ${maxLines}), reprojection ${result.reprojectionPx.toFixed(2)} px (${result.reprojectionM.toFixed(2)} m); footprint in yellow; proposed by ${result.place.source}, attempt ${result.attempts}`,
    );
  } else {
    lines.push(`not registered (exit 2): ${result.reason}`);
  }
  if (truth) {
    const error = result.ok ? `, error ${haversineMeters(result, truth).toFixed(1)} m` : '';
    lines.push(`truth (green, telemetry): ${truth.lat.toFixed(COORD_DIGITS)}, ${truth.lon.toFixed(COORD_DIGITS)}${error}`);
  }
  return lines;
}

function wrap(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let rest = line;
    while (rest.length > WRAP_CHARS) {
      const cut = rest.lastIndexOf(' ', WRAP_CHARS);
      const at = cut > 0 ? cut : WRAP_CHARS;
      out.push(rest.slice(0, at));
      rest = `  ${rest.slice(at).trimStart()}`;
    }
    out.push(rest);
  }
  return out;
}

function cross(p: { x: number; y: number }, colour: string): string {
  const r = 7;
  return `<path d="M${f(p.x - r)},${f(p.y)}H${f(p.x + r)}M${f(p.x)},${f(p.y - r)}V${f(p.y + r)}" stroke="${colour}" stroke-width="2.5"/>`;
}

function mean(points: LatLon[]): LatLon {
  return { lat: points.reduce((s, p) => s + p.lat, 0) / points.length, lon: points.reduce((s, p) => s + p.lon, 0) / points.length };
}

const f = (v: number) => v.toFixed(1);

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
