import { concatMap, from, map, type OperatorFunction } from 'rxjs';
import type { SatelliteIndex } from '../models/satelliteIndex';
import type { Measurement } from '../pipeline/tracking/types';
import type { Frame } from '../pipeline/core/types';
import type { EmbeddedBatch } from './embedFrames';
import type { Candidate, SearchRegion } from '../pipeline/core/types';

export type Searcher = Pick<SatelliteIndex, 'search'>;

/** Telemetry the tracker may use as priors for one frame (altimeter, compass, gimbal: none needs GNSS). */
export type FramePriors = Pick<Measurement, 'altitudeM' | 'headingDeg' | 'gimbalPitchDeg'>;

export interface SearchIndexOptions<F extends Frame> {
  /** candidates per frame */
  k: number;
  /**
   * The track prior at the moment a frame is searched: a circle to search inside, or undefined
   * for a global search (first fixes, a periodic check, or re-localization).
   */
  region: () => SearchRegion | undefined;
  /** altitude and heading from telemetry for a frame, when there is any */
  priors?: (frame: F) => FramePriors | undefined;
  /**
   * also find each frame's global top-k (searching each batch globally once), the tracker-free
   * baseline a replay report compares against (raw top-1 error, raw recall)
   */
  globalTopK?: boolean;
}

/** A measurement for the tracker, with the frame it was made from (and its global top-k, best first, when asked). */
export type FrameMeasurement<F extends Frame> = Measurement & { source: F; globalTopK?: Candidate[] };

/**
 * Searches the satellite index frame by frame with each batch's embeddings and emits one
 * measurement per frame, in order, carrying the region it was searched in (none: a global
 * search). Inference is batched, but each frame's search waits for the previous frame's
 * measurement to be consumed (the tracker runs synchronously downstream), so it reads the
 * region the tracker set from the frame just before it: the track does not depend on the
 * batch size.
 */
export function searchIndex<F extends Frame>(index: Searcher, options: SearchIndexOptions<F>): OperatorFunction<{ frames: F[] } & EmbeddedBatch, FrameMeasurement<F>> {
  return concatMap(({ frames, embedding }) => {
    // with globalTopK the whole batch is searched globally at once; a frame that needs a global
    // search then takes its row instead of a search of its own
    const global = options.globalTopK ? index.search(embedding.descriptors, embedding.n, options.k) : undefined;
    return from(frames.map((frame, i) => ({ frame, i }))).pipe(
      concatMap(({ frame, i }) => {
        const region = options.region();
        const descriptor = embedding.descriptors.subarray(i * embedding.dim, (i + 1) * embedding.dim);
        const own = region || !global ? index.search(descriptor, 1, options.k, region).then(([candidates]) => candidates!) : undefined;
        return from(Promise.all([own, global])).pipe(
          map(([restricted, globalRows]): FrameMeasurement<F> => {
            const candidates = restricted ?? globalRows![i]!;
            const globalTopK = globalRows?.[i];
            const priors = options.priors?.(frame);
            // the tracker is told which searches were restricted: only global ones can show it is lost
            return { frame: frame.index, t: frame.t, candidates, source: frame, ...priors, ...(region && { searchRegion: region }), ...(globalTopK && { globalTopK }) };
          }),
        );
      }),
    );
  });
}
