/**
 * Several imagery sources read as one raster, in order: where they overlap, a later source
 * lies on top of the earlier ones (a fresher survey over an old one). The stack keeps the
 * first source's working CRS and pixel grid and grows it by whole pixels to cover every
 * source; each source is warped into that grid (whatever its own CRS) and the warped sources
 * are mosaicked by a VRT that composites each over the others through its alpha. One source
 * is read as openImagery reads it, unchanged.
 */
import { existsSync } from 'node:fs';
import { GeolocError } from '../pipeline/core/errors';
import { boundsOf, groundResolution, type GeoBounds } from '../pipeline/geo/geoImage';
import { Georef } from '../pipeline/geo/georef';
import { closeAtExit, gdal, memoryPath } from './gdal';
import { indexImageryPaths, type RecordedImagery } from './indexFiles';
import { openImagery, windowReader, type Imagery } from './imagerySource';
import type { PixelRect } from './tiling';

/** The pixel rectangle of a box in `grid`'s pixels, grown outward to whole pixels. */
export function pixelRectOf(grid: Georef, { west, south, east, north }: GeoBounds): PixelRect {
  const corners = [grid.lonLatToPixel({ lon: west, lat: north }), grid.lonLatToPixel({ lon: east, lat: south })];
  // the corner pixels of one grid meet on whole numbers up to rounding: snap those first
  const snap = (v: number, outward: (x: number) => number) => (Math.abs(v - Math.round(v)) < 1e-6 ? Math.round(v) : outward(v));
  const left = snap(Math.min(...corners.map((c) => c.px)), Math.floor);
  const top = snap(Math.min(...corners.map((c) => c.py)), Math.floor);
  const right = snap(Math.max(...corners.map((c) => c.px)), Math.ceil);
  const bottom = snap(Math.max(...corners.map((c) => c.py)), Math.ceil);
  return { left, top, width: right - left, height: bottom - top };
}

function closeAll(layers: Imagery[]): void {
  for (const layer of layers.reverse()) layer.close();
}

export async function openImageryStack(paths: string[], log: (line: string) => void): Promise<Imagery> {
  if (paths.length === 0) throw new GeolocError('GEOLOC_ERR_USAGE', 'no imagery given; name at least one source');
  if (paths.length === 1) return openImagery(paths[0]!, log);
  const layers: Imagery[] = [];
  try {
    for (const path of paths) layers.push(await openImagery(path, log));
  } catch (err) {
    closeAll(layers);
    throw err;
  }
  const first = layers[0]!;
  const { a, e, c, f } = first.georef.affine;
  const rects = layers.map((layer) => pixelRectOf(first.georef, layer.bounds));
  const left = Math.min(...rects.map((r) => r.left));
  const top = Math.min(...rects.map((r) => r.top));
  const width = Math.max(...rects.map((r) => r.left + r.width)) - left;
  const height = Math.max(...rects.map((r) => r.top + r.height)) - top;
  const g = gdal();
  const warped = layers.map((layer, i) => {
    const r = rects[i]!;
    const [xmin, xmax] = [c + r.left * a, c + (r.left + r.width) * a];
    const [ymax, ymin] = [f + r.top * e, f + (r.top + r.height) * e];
    // a world file states no CRS: the source is read in the one openImagery guessed
    const sourceSrs = layer.source.srs ? [] : ['-s_srs', layer.crs];
    return g.warp(memoryPath('stacked'), null, [layer.source], ['-of', 'VRT', ...sourceSrs, '-t_srs', first.crs, '-te', String(xmin), String(ymin), String(xmax), String(ymax), '-tr', String(Math.abs(a)), String(Math.abs(e)), '-r', 'bilinear', '-dstalpha']);
  });
  const mosaic = g.buildVRT(memoryPath('stack'), warped, []);
  // registered after the layers' own, so closed before them at exit
  const close = closeAtExit([...warped, mosaic]);
  const georef = new Georef(first.crs, { ...first.georef.affine, c: c + left * a, f: f + top * e });
  return {
    path: paths.join(' + '),
    kind: 'raster',
    sourceCrs: [...new Set(layers.map((l) => l.sourceCrs))].join(', '),
    crs: first.crs,
    georef,
    width,
    height,
    bounds: boundsOf(georef, width, height),
    metersPerPixel: groundResolution(georef, width, height),
    images: layers.reduce((n, l) => n + l.images, 0),
    files: layers.flatMap((l) => l.files),
    source: mosaic,
    layers: rects.map((r) => ({ ...r, left: r.left - left, top: r.top - top })),
    read: windowReader(paths.join(' + '), mosaic),
    close: () => {
      close();
      closeAll(layers);
    },
  };
}

/** The sources an index records, each checked to be there: a gone one is named with what to do. */
export function existingIndexImagery(dir: string, manifest: RecordedImagery): string[] {
  const paths = indexImageryPaths(dir, manifest);
  if (paths.length === 0) throw new GeolocError('GEOLOC_ERR_IMAGERY_MANIFEST', `index ${dir} records no imagery; rebuild it with geoloc index build --imagery <path> --out ${dir} --force`);
  for (const path of paths) {
    if (existsSync(path)) continue;
    const others = paths.filter((p) => p !== path);
    const rebuild = others.length > 0 ? `from the imagery that remains (geoloc index build ${others.map((p) => `--imagery ${p} `).join('')}--out ${dir} --force)` : `from other imagery (geoloc index build --imagery <path> --out ${dir} --force)`;
    throw new GeolocError('GEOLOC_ERR_INDEX_IMAGERY_MISSING', `index ${dir} was built from imagery ${path}, which is gone; put it back at that path, or rebuild the index ${rebuild}`);
  }
  return paths;
}

/** The union of an index's sources, as its build read them. */
export async function openIndexImagery(dir: string, manifest: RecordedImagery, log: (line: string) => void): Promise<Imagery> {
  return openImageryStack(existingIndexImagery(dir, manifest), log);
}
