/**
 * What registrations against an index match with: its stored reference features when it has
 * them and the feature method is the one that made them, else windows cut from its imagery at
 * run time (slower: each attempt extracts the window's features), which is said once.
 */
import { existsSync } from 'node:fs';
import { GeolocError } from '../pipeline/core/errors';
import { indexImageryPaths, type IndexManifest } from './indexFiles';
import { openIndexImagery } from './imageryStack';
import type { FeatureMethod } from './localFeatures';
import { RuntimeWindows, type MapReference } from './mapReference';
import { MapSampler } from './mapWindow';
import { ReferenceStore, rebuildCommand } from './referenceStore';

export async function openMapReference(dir: string, manifest: IndexManifest, method: FeatureMethod, say: (line: string) => void): Promise<MapReference> {
  const stored = manifest.features?.extractor.name === method ? await ReferenceStore.open(dir, manifest) : undefined;
  if (stored) return stored;
  const why = manifest.features ? `its reference features are ${manifest.features.extractor.name}'s, not ${method}'s` : 'it has no reference features';
  const missing = missingImagery(dir, manifest);
  if (missing) {
    throw new GeolocError('GEOLOC_ERR_INDEX_IMAGERY_MISSING', `index ${dir}: ${why} and its imagery ${missing} is gone, so frames cannot be registered; put the imagery back, rebuild with reference features (${rebuildCommand(dir, manifest)}), or, for run and replay, localize by retrieval only with --no-register`);
  }
  say(`[registration] index ${dir}: ${why}; map windows are cut from its imagery and their features extracted at each attempt (slower). Rebuild with reference features: ${rebuildCommand(dir, manifest)}`);
  return new RuntimeWindows(new MapSampler(await openIndexImagery(dir, manifest, say)));
}

/**
 * What a still photo registers against: windows cut from the imagery at the photo's own
 * resolution when the imagery is at hand, since the stored features were made for the video
 * camera the index was built for (on the wildnav photos they gave a third of the inliers);
 * the stored features otherwise.
 */
export async function openPhotoReference(dir: string, manifest: IndexManifest, method: FeatureMethod, say: (line: string) => void): Promise<MapReference> {
  if (missingImagery(dir, manifest)) return openMapReference(dir, manifest, method, say);
  return new RuntimeWindows(new MapSampler(await openIndexImagery(dir, manifest, say)));
}

function missingImagery(dir: string, manifest: IndexManifest): string | undefined {
  return indexImageryPaths(dir, manifest).find((path) => !existsSync(path));
}
