/** FixFeatures for the output tests and benchmark: one fix, or a straight flight of them. */
import type { FixFeature, FixProperties } from '../../pipeline/core/types';

export function fixFeature(lon: number, lat: number, properties: Partial<FixProperties> = {}): FixFeature {
  return {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: [lon, lat] },
    properties: { flight: 'test', frame: 0, t: 0, radiusM: 20, confidence: 0.9, lost: false, relocalizing: false, ...properties },
  };
}

const DECIMALS = 7;
const M_PER_DEG_LAT = 111_320;

/**
 * `count` fixes `1 / rateHz` s apart, heading north-east at `speedMps` from (lon, lat), with
 * radii that vary, every `lostEvery`-th fix lost (none when 0), and rounded like toFixFeature.
 */
export function straightFlight(count: number, options: { rateHz?: number; speedMps?: number; lostEvery?: number; lon?: number; lat?: number } = {}): FixFeature[] {
  const { rateHz = 10, speedMps = 12.5, lostEvery = 0, lon = 7.5, lat = 46.5 } = options;
  const round = (v: number, d = DECIMALS) => Number(v.toFixed(d));
  const stepDeg = speedMps / rateHz / Math.SQRT2 / M_PER_DEG_LAT;
  const cosLat = Math.cos((lat * Math.PI) / 180);
  return Array.from({ length: count }, (_, frame) => {
    const lost = lostEvery > 0 && frame % lostEvery === lostEvery - 1;
    return fixFeature(round(lon + (frame * stepDeg) / cosLat), round(lat + frame * stepDeg), {
      frame,
      t: round(frame / rateHz, 3),
      radiusM: round(15 + (frame % 7) * 2.5, 3),
      lost,
      speedMps: round(speedMps + (frame % 3) * 0.25, 3),
      headingDeg: 45,
    });
  });
}
