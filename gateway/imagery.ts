/**
 * Finds the imagery the map tiles are cut from: georeferenced imagery named directly (one
 * image, or a folder of images with a corner-coordinate CSV), or the source imagery recorded
 * in a satellite index's manifest.json. Reading it is the index builder's own reader, so
 * the map shows exactly what the index was built from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { openImagery, type Imagery } from '../models/imagerySource';
import { GeolocError } from '../pipeline/core/errors';
import type { ImagerySource } from './options';

const MANIFEST_FILE = 'manifest.json';

export interface LoadedImagery {
  name: string;
  /** opened, not decoded: tiles read it by windows */
  imagery: Imagery;
}

export async function loadImagery(source: ImagerySource, log: (line: string) => void): Promise<LoadedImagery> {
  const path = source.imagery ?? (source.index !== undefined ? imageryPathFromIndex(source.index) : undefined);
  if (path === undefined) throw new GeolocError('GEOLOC_ERR_USAGE', 'imagery needs either an image path or an index folder');
  return { name: basename(path), imagery: await openImagery(path, log) };
}

/** Reads `imagery.path` from an index manifest; the path may be relative to the index folder. */
export function imageryPathFromIndex(indexDir: string): string {
  const manifestPath = join(indexDir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `${manifestPath} does not exist; build the index with \`geoloc index build\` or pass --imagery <image>`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_MANIFEST', `${manifestPath} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const imagery = (manifest as { imagery?: { path?: unknown } } | null)?.imagery;
  if (typeof imagery?.path !== 'string' || imagery.path.length === 0) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_MANIFEST', `${manifestPath} has no "imagery.path"; rebuild the index, or pass --imagery <image> instead`);
  }
  return isAbsolute(imagery.path) ? imagery.path : resolve(indexDir, imagery.path);
}
