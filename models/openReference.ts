/**
 * What registrations against an index match with: its stored reference features when it has
 * them and the feature method is the one that made them, else windows cut from its imagery at
 * run time (slower: each attempt extracts the window's features), which is said once.
 */
import type { IndexManifest } from './indexFiles';
import { openIndexImagery } from './imageryStack';
import type { FeatureMethod } from './localFeatures';
import { RuntimeWindows, type MapReference } from './mapReference';
import { MapSampler } from './mapWindow';
import { ReferenceStore, rebuildCommand } from './referenceStore';

export async function openMapReference(dir: string, manifest: IndexManifest, method: FeatureMethod, say: (line: string) => void): Promise<MapReference> {
  const stored = manifest.features?.extractor.name === method ? await ReferenceStore.open(dir, manifest) : undefined;
  if (stored) return stored;
  const why = manifest.features ? `its reference features are ${manifest.features.extractor.name}'s, not ${method}'s` : 'it has no reference features';
  say(`[registration] index ${dir}: ${why}; map windows are cut from its imagery and their features extracted at each attempt (slower). Rebuild with reference features: ${rebuildCommand(dir, manifest)}`);
  return new RuntimeWindows(new MapSampler(await openIndexImagery(dir, manifest, say)));
}
