/**
 * The reference features an index holds (referenceFeatures.ts), loaded and checked once, and
 * the view of them a registration needs: the keypoints inside the ground a map window would
 * cover, at the stored resolution nearest the window's, as pixels of a north-up window.
 */
import { GeolocError } from '../pipeline/core/errors';
import { LocalFrame, METERS_PER_DEGREE } from '../pipeline/geo/wgs84';
import { indexImageryPaths, type IndexManifest } from './indexFiles';
import type { MapReference, ReferenceView } from './mapReference';
import type { WindowSpec } from './mapWindow';
import { cellsTouching, type PartitionGrid } from './partition';
import { currentExtractor, readFeatureFile, type CellFeatures } from './referenceFeatures';

/**
 * Most map keypoints one view hands to matching, strongest first: about twice what a runtime
 * window of the same ground yields, so the cap bites only where views overlap many cells' edges.
 */
export const DEFAULT_MAX_VIEW_FEATURES = 4096;

/** The command that rebuilds an index as it was built, for messages. */
export function rebuildCommand(dir: string, manifest: IndexManifest): string {
  const { camera, altitudesM } = manifest.settings;
  const hfov = camera && camera.hfovDeg[0] === camera.hfovDeg[1] ? String(camera.hfovDeg[0]) : camera?.hfovDeg.join(',');
  const flags = camera ? ` --hfov ${hfov} --aspect ${Number(camera.aspect.toFixed(4))} --altitudes ${altitudesM.join(',')}` : '';
  return `geoloc index build ${indexImageryPaths(dir, manifest).map((p) => `--imagery ${p} `).join('')}--out ${dir}${flags} --force`;
}

export class ReferenceStore implements MapReference {
  readonly orientation = 'north-up';

  private constructor(
    private readonly grid: PartitionGrid,
    private readonly resolutions: number[],
    /** by cell, then by resolution */
    private readonly cells: Map<number, CellFeatures[]>,
    private readonly dim: number,
    private readonly maxFeatures: number,
  ) {}

  /**
   * The index's features, every file checked against its recorded size and hash; undefined for
   * an index built without them. Refuses features from another extractor (GEOLOC_ERR_FEATURES_MISMATCH)
   * and a file that is missing, truncated or altered (GEOLOC_ERR_FEATURES_CORRUPT).
   */
  static async open(dir: string, manifest: IndexManifest, maxFeatures = DEFAULT_MAX_VIEW_FEATURES): Promise<ReferenceStore | undefined> {
    const stored = manifest.features;
    if (!stored) return undefined;
    const rebuild = rebuildCommand(dir, manifest);
    const current = await currentExtractor();
    if (JSON.stringify(stored.extractor) !== JSON.stringify(current)) {
      throw new GeolocError(
        'GEOLOC_ERR_FEATURES_MISMATCH',
        `the reference features of ${dir}/manifest.json were extracted by ${JSON.stringify(stored.extractor)}, this geoloc registers with ${JSON.stringify(current)}; rebuild the index: ${rebuild}`,
      );
    }
    const cells = new Map<number, CellFeatures[]>();
    for (const entry of stored.files) {
      const perScale = cells.get(entry.cell) ?? [];
      perScale[entry.scale] = await readFeatureFile(dir, entry, current.dim, rebuild);
      cells.set(entry.cell, perScale);
    }
    return new ReferenceStore(manifest.partition, stored.metersPerPixel, cells, current.dim, maxFeatures);
  }

  /** The stored resolution nearest (by ratio) the one asked for. */
  private resolutionFor(metersPerPixel: number): number {
    let best = 0;
    for (let s = 1; s < this.resolutions.length; s++) {
      if (Math.abs(Math.log(this.resolutions[s]! / metersPerPixel)) < Math.abs(Math.log(this.resolutions[best]! / metersPerPixel))) best = s;
    }
    return best;
  }

  async view(spec: WindowSpec): Promise<ReferenceView> {
    const scale = this.resolutionFor(spec.metersPerPixel);
    const mpp = this.resolutions[scale]!;
    const halfW = (spec.width * spec.metersPerPixel) / 2;
    const halfH = (spec.height * spec.metersPerPixel) / 2;
    const reach = Math.hypot(halfW, halfH);
    const frame = new LocalFrame(spec.centre);
    const dLat = reach / METERS_PER_DEGREE;
    const dLon = reach / (METERS_PER_DEGREE * Math.cos((spec.centre.lat * Math.PI) / 180));
    const sin = Math.sin((spec.headingDeg * Math.PI) / 180);
    const cos = Math.cos((spec.headingDeg * Math.PI) / 180);
    const picked: { f: CellFeatures; k: number; e: number; n: number }[] = [];
    for (const cell of cellsTouching(this.grid, { lat: spec.centre.lat, lon: spec.centre.lon, radiusM: reach })) {
      const f = this.cells.get(cell)?.[scale];
      if (!f) continue;
      for (let k = 0; k < f.count; k++) {
        const lat = f.latLon[2 * k]!;
        const lon = f.latLon[2 * k + 1]!;
        if (Math.abs(lat - spec.centre.lat) > dLat || Math.abs(lon - spec.centre.lon) > dLon) continue;
        const { e, n } = frame.toEnu({ lat, lon });
        // inside the window's rectangle, turned to its heading
        if (Math.abs(e * cos - n * sin) > halfW || Math.abs(e * sin + n * cos) > halfH) continue;
        picked.push({ f, k, e, n });
      }
    }
    if (picked.length > this.maxFeatures) {
      picked.sort((a, b) => b.f.scores[b.k]! - a.f.scores[a.k]!);
      picked.length = this.maxFeatures;
    }
    // a north-up window round the same centre, large enough to hold the turned rectangle
    const side = Math.ceil((2 * reach) / mpp);
    const window: WindowSpec = { centre: spec.centre, headingDeg: 0, metersPerPixel: mpp, width: side, height: side };
    const count = picked.length;
    const keypoints = new Float32Array(2 * count);
    const descriptors = new Float32Array(count * this.dim);
    const scores = new Float32Array(count);
    picked.forEach(({ f, k, e, n }, i) => {
      keypoints[2 * i] = e / mpp + side / 2;
      keypoints[2 * i + 1] = side / 2 - n / mpp;
      descriptors.set(f.descriptors.subarray(k * this.dim, (k + 1) * this.dim), i * this.dim);
      scores[i] = f.scores[k]!;
    });
    return { window, features: { count, keypoints, descriptors, dim: this.dim, scores } };
  }
}
