/**
 * Finds the imagery the map tiles are cut from: georeferenced imagery named directly (one
 * image, or a folder of images with a corner-coordinate CSV), or the imagery sources recorded
 * in a satellite index's manifest.json, stacked as the index's build stacked them. Reading it
 * is the index builder's own reader, so the map shows exactly what the index was built from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { RecordedImagery } from '../models/indexFiles';
import type { Imagery } from '../models/imagerySource';
import { existingIndexImagery, openImageryStack } from '../models/imageryStack';
import { GeolocError } from '../pipeline/core/errors';
import type { ImagerySource } from './options';

const MANIFEST_FILE = 'manifest.json';

export interface LoadedImagery {
  name: string;
  /** opened, not decoded: tiles read it by windows */
  imagery: Imagery;
}

export async function loadImagery(source: ImagerySource, log: (line: string) => void): Promise<LoadedImagery> {
  const paths = source.imagery !== undefined ? [source.imagery] : source.index !== undefined ? imageryPathsFromIndex(source.index) : undefined;
  if (paths === undefined) throw new GeolocError('GEOLOC_ERR_USAGE', 'imagery needs either an image path or an index folder');
  return { name: paths.map((p) => basename(p)).join(' + '), imagery: await openImageryStack(paths, log) };
}

/** The imagery sources an index manifest records (`imagery.sources`, or an older index's `imagery.path`), each checked to exist. */
export function imageryPathsFromIndex(indexDir: string): string[] {
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
  const imagery = (manifest as { imagery?: { path?: unknown; sources?: unknown } } | null)?.imagery;
  const sources = imagery?.sources;
  const named = Array.isArray(sources) ? sources.length > 0 && sources.every((s) => typeof s?.path === 'string' && s.path.length > 0) : typeof imagery?.path === 'string' && imagery.path.length > 0;
  if (!named) {
    throw new GeolocError('GEOLOC_ERR_IMAGERY_MANIFEST', `${manifestPath} has no "imagery.sources" (or "imagery.path"); rebuild the index, or pass --imagery <image> instead`);
  }
  return existingIndexImagery(indexDir, { imagery: imagery as RecordedImagery['imagery'] });
}
