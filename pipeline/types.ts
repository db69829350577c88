/** The values that flow between the pipeline's operators, and the fix on the wire. */
import type { YuvMatrix } from './video/pixelFormat';

interface FrameHeader {
  /** 0-based index of the frame in its source, counting frames ffmpeg delivered */
  index: number;
  /** presentation time, seconds from the start of the source */
  t: number;
  width: number;
  height: number;
}

/**
 * A decoded picture: packed RGB24 rows, or planar YUV 4:2:0 (the Y plane, then U and V at half
 * width and height, limited range) with the matrix that turns it into RGB.
 */
export type Frame = FrameHeader & ({ format: 'rgb24'; pixels: Buffer } | { format: 'yuv420p'; pixels: Buffer; matrix: YuvMatrix });

/** The GeoJSON Feature (RFC 7946, WGS84, [lon, lat]) that carries one fix. */
export interface FixFeature {
  type: 'Feature';
  geometry: { type: 'Point'; coordinates: [number, number] };
  properties: FixProperties;
}

export interface FixProperties {
  flight: string;
  /** the source frame localized: a file's frame number (from 0); stdin's and a live stream's count of frames decoded */
  frame: number;
  /** seconds from the start of the source */
  t: number;
  /** radius meant to hold the true position 95% of the time, metres */
  radiusM: number;
  /** 0..1 */
  confidence: number;
  [extra: string]: unknown;
}
