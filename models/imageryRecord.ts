/**
 * What an index's manifest records of its imagery: each source (where it is, its fingerprint,
 * CRS and bounds), in the order they are stacked, and the stack as the build read it.
 */
import { createHash } from 'node:crypto';
import { relative, resolve, sep } from 'node:path';
import { repoRoot } from '../pipeline/core/paths';
import type { ImagerySourceRecord, IndexManifest } from './indexFiles';
import { imageryFingerprint, openImagery, type Imagery } from './imagerySource';

/** Where the manifest says a source is: relative to the index when both are inside the repository, else absolute. */
function manifestImageryPath(imagery: string, out: string): string {
  const inRepo = (path: string) => resolve(path).startsWith(repoRoot() + sep);
  return inRepo(imagery) && inRepo(out) ? relative(resolve(out), resolve(imagery)) : resolve(imagery);
}

export async function sourceRecord(path: string, out: string): Promise<ImagerySourceRecord> {
  const imagery = await openImagery(path, () => undefined);
  imagery.close();
  return { path: manifestImageryPath(path, out), fingerprint: await imageryFingerprint(path), sourceCrs: imagery.sourceCrs, bounds: imagery.bounds };
}

/** One source's fingerprint as it is (an index from before stacks stays current); several: a hash over theirs, in order. */
export function stackFingerprint(fingerprints: string[]): string {
  return fingerprints.length === 1 ? fingerprints[0]! : createHash('sha256').update(fingerprints.join('\n')).digest('hex');
}

export function imageryRecord(sources: ImagerySourceRecord[], stack: Imagery): IndexManifest['imagery'] {
  const { crs, sourceCrs, bounds, width, height, metersPerPixel, images } = stack;
  return { sources, crs, sourceCrs, bounds, width, height, metersPerPixel, images, fingerprint: stackFingerprint(sources.map((s) => s.fingerprint)) };
}
