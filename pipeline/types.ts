/** The values that flow between the pipeline's operators, and the fix on the wire. */

export interface Frame {
  /** 0-based index of the frame in its source, counting frames ffmpeg delivered */
  index: number;
  /** presentation time, seconds from the start of the source */
  t: number;
  width: number;
  height: number;
  /** packed RGB24, row-major */
  rgb: Buffer;
}

/** The GeoJSON Feature (RFC 7946, WGS84, [lon, lat]) that carries one fix. */
export interface FixFeature {
  type: 'Feature';
  geometry: { type: 'Point'; coordinates: [number, number] };
  properties: FixProperties;
}

export interface FixProperties {
  flight: string;
  frame: number;
  /** seconds from the start of the source */
  t: number;
  /** radius meant to hold the true position 95% of the time, metres */
  radiusM: number;
  /** 0..1 */
  confidence: number;
  [extra: string]: unknown;
}
