import type { TrackEstimate } from './tracking/types';
import type { FixFeature } from './core/types';

/** Decimal places kept for coordinates (~1 cm) and for metres and scores (1 mm). */
const COORD_DECIMALS = 7;
const VALUE_DECIMALS = 3;

const round = (value: number, decimals: number) => Number(value.toFixed(decimals));
const roundValues = (values: readonly number[]) => values.map((v) => round(v, VALUE_DECIMALS));

/**
 * The GeoJSON Feature for one track estimate, as written to JSONL and sent to map clients.
 * `sourceFrame`: the frame's number in its video (the estimate's `frame` counts the frames decoded).
 */
export function toFixFeature(estimate: TrackEstimate, flight: string, latencyMs?: number, sourceFrame = estimate.frame): FixFeature {
  const { top1 } = estimate;
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [round(estimate.lon, COORD_DECIMALS), round(estimate.lat, COORD_DECIMALS)] },
    properties: {
      flight,
      frame: sourceFrame,
      t: round(estimate.t, VALUE_DECIMALS),
      radiusM: round(estimate.radiusM, VALUE_DECIMALS),
      confidence: round(estimate.confidence, VALUE_DECIMALS),
      lost: estimate.lost,
      relocalizing: estimate.relocalizing,
      method: estimate.method,
      ...(estimate.registration ? { registration: { inliers: estimate.registration.inliers, reprojectionErrorPx: round(estimate.registration.reprojectionPx, VALUE_DECIMALS) } } : {}),
      ...(top1 ? { top1: { lat: round(top1.lat, COORD_DECIMALS), lon: round(top1.lon, COORD_DECIMALS), score: round(top1.score, VALUE_DECIMALS), tileId: top1.tileId } } : {}),
      ...(estimate.speedMps !== undefined ? { speedMps: round(estimate.speedMps, VALUE_DECIMALS) } : {}),
      ...(estimate.headingDeg !== undefined ? { headingDeg: round(estimate.headingDeg, VALUE_DECIMALS) } : {}),
      ...(estimate.covarianceM2 ? { covarianceM2: roundValues(estimate.covarianceM2) } : {}),
      ...(estimate.velocityMps ? { velocityMps: roundValues(estimate.velocityMps) } : {}),
      ...(estimate.velocityCovarianceM2s2 ? { velocityCovarianceM2s2: roundValues(estimate.velocityCovarianceM2s2) } : {}),
      ...(estimate.speedSigmaMps !== undefined ? { speedSigmaMps: round(estimate.speedSigmaMps, VALUE_DECIMALS) } : {}),
      ...(estimate.headingSigmaDeg !== undefined ? { headingSigmaDeg: round(estimate.headingSigmaDeg, VALUE_DECIMALS) } : {}),
      ...(latencyMs !== undefined ? { latencyMs: round(latencyMs, VALUE_DECIMALS) } : {}),
    },
  };
}
