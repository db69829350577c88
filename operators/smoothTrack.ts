import { Observable, type OperatorFunction } from 'rxjs';
import { GeolocError, isGeolocError } from '../pipeline/core/errors';
import { stderrLogger, type Logger } from '../pipeline/core/log';
import { resolveTrackFilterOptions, TrackFilter, type TrackFilterOptions } from '../pipeline/tracking/trackFilter';
import type { Measurement, TrackEstimate } from '../pipeline/tracking/types';

export type { Measurement, TrackEstimate } from '../pipeline/tracking/types';
export type { TrackFilterOptions } from '../pipeline/tracking/trackFilter';

export interface SmoothTrackOptions extends TrackFilterOptions {
  /**
   * What a malformed measurement (GEOLOC_ERR_TRACK_INPUT: NaN coordinates, time going
   * backwards, ...) does: 'skip' drops it with a warning and keeps the track (default: one
   * bad frame must not end a live flight); 'error' ends the stream with the error.
   */
  invalidMeasurements: 'skip' | 'error';
  /** where skipped measurements are reported (default: stderr) */
  logger: Logger;
  /** called with each estimate before it is emitted; if it throws, the stream errors with that error */
  onEstimate?: (estimate: TrackEstimate) => void;
}

/** An estimate with the measurement it was made from, so that what rode on the measurement travels on. */
export interface Tracked<M extends Measurement> {
  estimate: TrackEstimate;
  measurement: M;
}

/**
 * Smooths per-frame retrieval candidates into a track: one TrackFilter per subscription,
 * fed in arrival order, driven by the measurements' own timestamps (no scheduler). Emits
 * one estimate per measurement, except while no measurement with candidates has arrived yet,
 * together with that measurement (and whatever else the caller's measurement type carries).
 * Filter options are checked when the operator is created (GEOLOC_ERR_TRACK_OPTIONS).
 */
export function smoothTrack<M extends Measurement>(options: Partial<SmoothTrackOptions> = {}): OperatorFunction<M, Tracked<M>> {
  const { invalidMeasurements = 'skip', logger = stderrLogger(), onEstimate, ...filterOptions } = options;
  if (invalidMeasurements !== 'skip' && invalidMeasurements !== 'error') {
    throw new GeolocError('GEOLOC_ERR_TRACK_OPTIONS', `smoothTrack option invalidMeasurements = ${String(invalidMeasurements)} must be 'skip' or 'error'`);
  }
  const resolved = resolveTrackFilterOptions(filterOptions);
  return (source) =>
    new Observable<Tracked<M>>((subscriber) => {
      let filter: TrackFilter | undefined = new TrackFilter(resolved);
      const upstream = source.subscribe({
        next(measurement) {
          if (!filter || subscriber.closed) return;
          let estimate: TrackEstimate | undefined;
          try {
            estimate = filter.update(measurement);
          } catch (err) {
            if (invalidMeasurements === 'skip' && isGeolocError(err, 'GEOLOC_ERR_TRACK_INPUT')) {
              logger.log({ level: 'warn', code: err.code, message: `${err.message} (measurement skipped)` });
              return;
            }
            subscriber.error(err);
            return;
          }
          if (!estimate) return;
          if (onEstimate) {
            try {
              onEstimate(estimate);
            } catch (err) {
              subscriber.error(err);
              return;
            }
          }
          subscriber.next({ estimate, measurement });
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        upstream.unsubscribe();
        filter = undefined; // its particle arrays go with it
      };
    });
}
