import type { TrackEstimate } from './tracking/types';
import type { FixFeature } from './types';

/** Decimal places kept for coordinates (~1 cm) and for metres and scores (1 mm). */
const COORD_DECIMALS = 7;
const VALUE_DECIMALS = 3;

const round = (value: number, decimals: number) => Number(value.toFixed(decimals));

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
      ...(top1 ? { top1: { lat: round(top1.lat, COORD_DECIMALS), lon: round(top1.lon, COORD_DECIMALS), score: round(top1.score, VALUE_DECIMALS), tileId: top1.tileId } } : {}),
      ...(estimate.speedMps !== undefined ? { speedMps: round(estimate.speedMps, VALUE_DECIMALS) } : {}),
      ...(estimate.headingDeg !== undefined ? { headingDeg: round(estimate.headingDeg, VALUE_DECIMALS) } : {}),
      ...(latencyMs !== undefined ? { latencyMs: round(latencyMs, VALUE_DECIMALS) } : {}),
    },
  };
}
