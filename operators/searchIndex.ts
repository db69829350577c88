import { concatMap, from, map, type OperatorFunction } from 'rxjs';
import type { Candidate, SatelliteIndex, SearchRegion } from '../models/satelliteIndex';
import type { Measurement } from '../pipeline/tracking/types';
import type { Frame } from '../pipeline/types';
import type { EmbeddedBatch } from './embedFrames';

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
   * also find each frame's global top-1 when its search was restricted (one extra k=1 search),
   * the tracker-free baseline a replay report compares against
   */
  globalTop1?: boolean;
}

/** A measurement for the tracker, with the frame it was made from (and its global top-1 when asked). */
export type FrameMeasurement<F extends Frame> = Measurement & { source: F; globalTop1?: Candidate };

/**
 * Searches the satellite index frame by frame with each batch's embeddings and emits one
 * measurement per frame, in order, carrying the region it was searched in (none: a global
 * search). Inference is batched, but each frame's search waits for the previous frame's
 * measurement to be consumed (the tracker runs synchronously downstream), so it reads the
 * region the tracker set from the frame just before it: the track does not depend on the
 * batch size.
 */
export function searchIndex<F extends Frame>(index: Searcher, options: SearchIndexOptions<F>): OperatorFunction<{ frames: F[] } & EmbeddedBatch, FrameMeasurement<F>> {
  return concatMap(({ frames, embedding }) =>
    from(frames.map((frame, i) => ({ frame, descriptor: embedding.descriptors.subarray(i * embedding.dim, (i + 1) * embedding.dim) }))).pipe(
      concatMap(({ frame, descriptor }) => {
        const region = options.region();
        const searches = Promise.all([
          index.search(descriptor, 1, options.k, region),
          options.globalTop1 && region ? index.search(descriptor, 1, 1) : undefined,
        ]);
        return from(searches).pipe(
          map(([[candidates], global]): FrameMeasurement<F> => {
            const priors = options.priors?.(frame);
            const globalTop1 = options.globalTop1 ? (region ? global?.[0]?.[0] : candidates![0]) : undefined;
            // the tracker is told which searches were restricted: only global ones can show it is lost
            return { frame: frame.index, t: frame.t, candidates: candidates!, source: frame, ...priors, ...(region && { searchRegion: region }), ...(globalTop1 && { globalTop1 }) };
          }),
        );
      }),
    ),
  );
}
