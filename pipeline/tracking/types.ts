/** The values the track filter reads and writes. */
import type { Candidate, SearchRegion } from '../core/types';

/** A horizontal vector in local metres (or m/s): [north, east]. */
export type NorthEast = [north: number, east: number];

/** A symmetric 2×2 matrix over [north, east]: [north·north, north·east, east·east]. */
export type NorthEastCovariance = [nn: number, ne: number, ee: number];

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
  /** the frame registered against the map (operators/registerFrame), or why it could not be */
  registration?: FrameRegistration;
}

/** A frame's registration against the map: the drone's position with its covariance, and the fit's evidence. */
export type FrameRegistration =
  | {
      lat: number;
      lon: number;
      /** covariance of the position, m² (bootstrap of the fit plus tilt and map terms) */
      covarianceM2: NorthEastCovariance;
      /** compass direction of the frame's top, degrees */
      headingDeg: number;
      /** camera height above ground the fit implies, metres */
      heightM: number;
      inliers: number;
      /** RMS reprojection error of the inliers, window pixels */
      reprojectionPx: number;
    }
  | { failed: string };

/**
 * How an estimate was made: 'registered' when the frame's registration was fused and agreed with
 * the track, 'retrieval' from the candidates alone, 'lost' while the filter has lost the track.
 */
export type EstimateMethod = 'registered' | 'retrieval' | 'lost';

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
  method: EstimateMethod;
  /** the fused registration's evidence, when the frame registered (whether or not it agreed with the track) */
  registration?: { inliers: number; reprojectionPx: number };
  top1?: Candidate;
  candidates: Candidate[];
  /** the prior for the NEXT search; undefined = global search needed */
  searchRegion?: SearchRegion;
  /** ground speed of the estimate, m/s */
  speedMps?: number;
  /** course over ground of the estimate, degrees clockwise from north */
  headingDeg?: number;
  /** covariance of the position about (lat, lon), m², over the whole posterior */
  covarianceM2?: NorthEastCovariance;
  /** velocity over ground, m/s (speedMps and headingDeg are its length and direction) */
  velocityMps?: NorthEast;
  /** covariance of velocityMps, (m/s)², over the particles it is the mean of */
  velocityCovarianceM2s2?: NorthEastCovariance;
  /** 1-σ of speedMps, m/s */
  speedSigmaMps?: number;
  /** 1-σ of headingDeg, degrees; 180 when the speed is too uncertain to tell a direction */
  headingSigmaDeg?: number;
}
