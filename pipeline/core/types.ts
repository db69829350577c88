/**
 * The values that flow between the layers: frames, retrieval candidates and search regions, and
 * the fix on the wire. Both their producers (models, video, tracking) and their consumers
 * (operators, gateway, sinks) import them from here.
 */

/** An RGB colour in bytes. */
export type Rgb = readonly [number, number, number];

/**
 * A YUV colour matrix by the luma weights of red and blue (ITU-R BT.601, BT.709, …); green's is
 * what remains. Values are limited range ("tv": Y in 16..235, U and V in 16..240).
 */
export interface YuvMatrix {
  name: string;
  kr: number;
  kb: number;
}

/** One retrieval answer: a satellite tile and how well the frame's embedding matched it. */
export interface Candidate {
  tileId: number;
  /** inner product of unit vectors: cosine similarity */
  score: number;
  lat: number;
  lon: number;
  footprintM: number;
}

/** A circle on the ground that a search is restricted to. */
export interface SearchRegion {
  lat: number;
  lon: number;
  radiusM: number;
}

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

/** One matched point of a registered frame: its pixel in the frame as registered, and the ground point the fit maps it to. */
export interface MatchedPoint {
  x: number;
  y: number;
  lat: number;
  lon: number;
}

/** A fix's matched points, kept beside the fix rather than on it (see gateway/PROTOCOL.md, "Evidence"). */
export interface FixMatches {
  /** the frame as registered, pixels: the points' x and y are in it */
  frameWidth: number;
  frameHeight: number;
  points: MatchedPoint[];
}

/** What a frame's registration shows besides the position the tracker fuses. */
export interface RegistrationEvidence extends FixMatches {
  /** the frame's corners on the ground through the fit: top-left, top-right, bottom-right, bottom-left */
  footprint: { lat: number; lon: number }[];
  /** what proposed the place it registered at: 'track' (the tracker's estimate) or 'tile <id>' */
  proposedBy: string;
}

/**
 * Where a pipeline's events go: its counters, the JSONL file, the gateway, the autopilot and
 * TAK outputs. Every method is optional. They are called in order on the pipeline's thread; a
 * sink that throws ends the pipeline with that error, so a sink that may fail without harm
 * (a network output) catches its own errors.
 */
export interface PipelineSink {
  /** a frame was decoded and entered the pipeline */
  frameIn?(): void;
  /** live: a frame was replaced by a newer one before it could be localized */
  frameDropped?(): void;
  /**
   * a fix, in frame order; `latencyMs` runs from the frame's decoding to this fix; `matches`:
   * its frame's matched points, when it registered
   */
  fix?(feature: FixFeature, latencyMs: number, matches?: FixMatches): void;
}

/**
 * What one fix output (a format over a transport: NMEA to udp://…, …) has done so far. The
 * output sinks keep it; the gateway's /metrics and the run's report show it.
 */
export interface OutputStats {
  /** the output's name: its format's ('nmea'), numbered ('nmea#2') when a format has several targets */
  name: string;
  /** where it goes: udp://host:port, tcp://host:port or a file path */
  target: string;
  /** messages the transport took (a datagram sent, bytes handed to the kernel, a line written) */
  sent: number;
  /** messages discarded unsent: the queue was full (oldest first), or a lost or cut-off connection held them */
  dropped: number;
  /** failures: a connect refused or timed out, a datagram refused, a connection lost or cut off */
  errors: number;
  /** stream consumers cut off for leaving more than the output's byte limit unread */
  cutOffs: number;
  /** the transport is open (UDP cannot tell whether anyone listens: its refusals count as errors) */
  connected: boolean;
  /** messages waiting for a connection now */
  queued: number;
  /** bytes handed to the connection that have not left yet */
  bufferedBytes: number;
}
