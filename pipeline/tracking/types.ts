/** The values the track filter reads and writes. */
import type { Candidate, SearchRegion } from '../core/types';

/** What the filter is told about one frame. */
export interface Measurement {
  frame: number;
  /** seconds, on the source's clock; never decreases */
  t: number;
  /** top-k, best first */
  candidates: Candidate[];
  /** camera height above ground, metres (telemetry, optional) */
  altitudeM?: number;
  /** direction of travel and of the camera, degrees clockwise from north (telemetry, optional) */
  headingDeg?: number;
  /**
   * camera pitch, degrees, −90 = straight down (DJI convention; telemetry, optional). With
   * altitude and heading it says how far ahead of the drone the matched ground lies.
   */
  gimbalPitchDeg?: number;
  /**
   * the circle the search was restricted to (the filter's own searchRegion, passed back);
   * absent = the candidates come from a global search. Candidates from a restricted search
   * cannot show that the track is wrong, so only global ones count towards "lost".
   */
  searchRegion?: SearchRegion;
}

/** The filter's answer for one measurement. */
export interface TrackEstimate {
  frame: number;
  t: number;
  lat: number;
  lon: number;
  /** radius meant to contain the true position 95% of the time, metres */
  radiusM: number;
  /** 0..1: posterior mass near the estimate, discounted by recent disagreement */
  confidence: number;
  /** the measurements stopped agreeing with the track; true until it is found again */
  lost: boolean;
  /** the filter is searching globally (first fixes, or after it lost the track) */
  relocalizing: boolean;
  top1?: Candidate;
  candidates: Candidate[];
  /** the prior for the NEXT search; undefined = global search needed */
  searchRegion?: SearchRegion;
  /** ground speed of the estimate, m/s */
  speedMps?: number;
  /** course over ground of the estimate, degrees clockwise from north */
  headingDeg?: number;
}
