/**
 * Every error geoloc raises on purpose carries a stable code. The codes are listed, with
 * what to do about each, in ERRORS.md; a test keeps the two in step.
 */
export const ERROR_CODES = {
  // usage and files
  GEOLOC_ERR_USAGE: 'A command-line argument is missing or invalid.',
  GEOLOC_ERR_FILE_NOT_FOUND: 'A file or folder named on the command line or in a config does not exist.',
  // georeferenced imagery
  GEOLOC_ERR_WORLD_FILE: 'A world file (.pgw/.jgw/.tfw/.wld) is missing or does not hold six numbers.',
  GEOLOC_ERR_IMAGERY_UNREADABLE: 'An image could not be decoded.',
  GEOLOC_ERR_IMAGERY_NOT_GEOREFERENCED: 'An image has neither a world file nor GeoTIFF georeferencing.',
  GEOLOC_ERR_CRS_UNSUPPORTED: 'Imagery is in a coordinate reference system GDAL cannot relate to WGS84, or a folder mixes CRSs.',
  GEOLOC_ERR_IMAGERY_NO_CRS: 'A raster has a georeferencing but no coordinate reference system.',
  GEOLOC_ERR_IMAGERY_EMPTY: 'A raster holds only nodata: no valid pixel.',
  GEOLOC_ERR_IMAGERY_CORRUPT_TILE: 'A window of imagery could not be read (a corrupt block of a COG or GeoTIFF); it is skipped and counted.',
  GEOLOC_ERR_IMAGERY_MIXED_RESOLUTION: 'A folder of imagery mixes pixel sizes too different to mosaic.',
  GEOLOC_ERR_VRT_MISSING_SOURCE: 'A VRT points at source files that do not exist.',
  GEOLOC_ERR_MBTILES_SCHEMA: 'An .mbtiles file is not an MBTiles GDAL reads (wrong or missing tables).',
  GEOLOC_ERR_GDAL_UNAVAILABLE: 'GDAL (gdal-async) could not be loaded: its native build is missing.',
  // telemetry
  GEOLOC_ERR_TELEMETRY_PARSE: 'A telemetry line could not be parsed; the good records around it are kept.',
  GEOLOC_ERR_TELEMETRY_EMPTY: 'A telemetry file holds no usable record.',
  GEOLOC_ERR_TELEMETRY_ENDED: 'The telemetry ends before the video does; frames after its end have no ground truth.',
  // rendering synthetic flights
  GEOLOC_ERR_RENDER_PARAM: 'A flight-render parameter is impossible (altitude, field of view, pitch, size, frame rate).',
  GEOLOC_ERR_TRAJECTORY_OUTSIDE_MAP: 'A trajectory leaves the area the map covers.',
  GEOLOC_ERR_RENDER_ENCODE: 'ffmpeg could not encode a rendered flight (not installed, or it failed).',
  // models: the ONNX model, its worker pool and the satellite index (models/)
  GEOLOC_ERR_MODEL_UNREADABLE: 'A model file is not a readable ONNX model.',
  GEOLOC_ERR_MODEL_METADATA: 'A model lacks the metadata geoloc needs (input size, mean/std, dimension), or its inputs and outputs do not match it.',
  GEOLOC_ERR_CUDA_UNAVAILABLE: 'The CUDA execution provider could not be loaded; inference runs on the CPU (a warning, once per process).',
  GEOLOC_ERR_TENSOR_SHAPE: 'An image or batch does not have the size the model expects.',
  GEOLOC_ERR_WORKER_FAILED: 'A model or index worker thread stopped unexpectedly.',
  GEOLOC_ERR_WORKER_CLOSED: 'embed() or search() was called after close().',
  GEOLOC_ERR_INDEX_DIM_MISMATCH: "A model's or query's embedding dimension differs from the satellite index's.",
  GEOLOC_ERR_INDEX_MODEL_MISMATCH: 'A satellite index was built with a different model (hash differs).',
  GEOLOC_ERR_INDEX_MISSING_FILE: 'A file of a satellite index folder is missing.',
  GEOLOC_ERR_INDEX_CORRUPT: 'A satellite index manifest, catalog or FAISS file is corrupt or disagrees with the manifest.',
  GEOLOC_ERR_INDEX_NO_TILES: 'The imagery is smaller than every tile footprint, so the index would be empty.',
  GEOLOC_ERR_INDEX_IMAGERY_MISSING: "An imagery source an index's manifest records is gone from its path.",
  GEOLOC_ERR_INDEX_IMAGERY_PRESENT: 'The imagery given to index add is already one of the index\'s sources (same path or same files).',
  GEOLOC_ERR_TILE_FOLDER: "A tile folder's corner-coordinate CSV is missing or malformed.",
  GEOLOC_ERR_FEATURES_MISMATCH: "An index's reference features were extracted by another feature extractor (model hash or parameters differ).",
  GEOLOC_ERR_FEATURES_CORRUPT: "A reference feature file of an index is missing, truncated or does not match the hash its manifest records.",
  GEOLOC_ERR_CAMERA_MISMATCH: "The running camera (field of view, frame aspect, telemetry altitudes) does not fit the index's camera and altitude band (a warning, once per run).",
  // registration of a photo against the map (models/, geoloc locate)
  GEOLOC_ERR_OPENCV_UNAVAILABLE: 'The OpenCV WASM build (@techstark/opencv-js) could not be loaded.',
  GEOLOC_ERR_HFOV_UNKNOWN: "A photo's field of view is unknown: no usable EXIF focal length and no --hfov.",
  GEOLOC_ERR_NOT_LOCATED: 'A photo registered nowhere with geometric consensus; no position is given.',
  GEOLOC_ERR_FRAME_NOT_FOUND: 'A video has no frame of the number asked for.',
  // gateway: the WebSocket fan-out, its HTTP endpoints and the map tiles (gateway/)
  GEOLOC_ERR_WS_MALFORMED: 'A WebSocket client message is not JSON, or lacks a field its type needs.',
  GEOLOC_ERR_WS_UNKNOWN_TYPE: 'A WebSocket client message has a type the gateway does not know.',
  GEOLOC_ERR_WS_UNAUTHORIZED: 'A WebSocket or API request lacks the bearer token the gateway was started with, or has a wrong one.',
  GEOLOC_ERR_WS_ORIGIN: "A WebSocket upgrade came from a browser page whose Origin is not on the gateway's allow-list.",
  GEOLOC_ERR_WS_TOO_MANY_CONNECTIONS: 'The gateway already serves maxClients WebSocket clients; the new one is refused (503).',
  GEOLOC_ERR_WS_TOO_MANY_SUBSCRIPTIONS: 'A WebSocket client asked to subscribe to more flights at once than maxSubscriptionsPerClient.',
  GEOLOC_ERR_WS_NOT_FOUND: 'A WebSocket upgrade asked for a path other than /ws.',
  GEOLOC_ERR_TILE_NOT_FOUND: 'A map tile lies outside the imagery, outside its zoom range, or no imagery was configured.',
  GEOLOC_ERR_TILE_BAD_PATH: 'A tile request is not /tiles/{z}/{x}/{y}.png with integers inside the tile grid.',
  GEOLOC_ERR_HTTP_BAD_PATH: 'An HTTP request path holds `..`, encoded dots or slashes, a backslash or NUL; nothing is looked up.',
  GEOLOC_ERR_HTTP_NOT_FOUND: 'An HTTP request named a path the gateway does not serve.',
  GEOLOC_ERR_MATCHES_NOT_FOUND: 'The gateway keeps no matched points for the fix asked for.',
  GEOLOC_ERR_HTTP_METHOD: 'An HTTP request used a method other than GET or HEAD.',
  GEOLOC_ERR_HTTP_HOST: "An HTTP request or WebSocket upgrade named a Host the gateway does not answer to (the DNS-rebinding guard).",
  GEOLOC_ERR_HTTP_MALFORMED: "node's HTTP parser refused a request: not valid HTTP/1.1 (400), or headers larger than it reads (431).",
  GEOLOC_ERR_HTTP_TIMEOUT: 'A request did not arrive whole within headersTimeoutMs / requestTimeoutMs (408).',
  GEOLOC_ERR_GATEWAY_OPTIONS: 'A gateway option is out of range (port, limits, intervals, sizes).',
  GEOLOC_ERR_GATEWAY_LISTEN: 'The gateway could not listen on its host and port (in use, or not allowed).',
  GEOLOC_ERR_GATEWAY_INTERNAL: 'The gateway failed to answer a request it should have answered (a bug: report it with the message).',
  GEOLOC_ERR_IMAGERY_MANIFEST: "A satellite index's manifest.json does not name readable source imagery.",
  // streaming pipeline: video sources, operators, run/replay/demo (pipeline/, operators/)
  GEOLOC_ERR_SOURCE_UNSUPPORTED: 'A video source is neither a file, "-" (stdin), nor an rtsp://, udp://, tcp:// or srt:// URL.',
  GEOLOC_ERR_SOURCE_UNREADABLE: 'ffmpeg could not open or decode a video source (missing, not a video, or refused).',
  GEOLOC_ERR_STREAM_LOST: 'A live stream stopped delivering frames; geoloc reconnects with backoff and gives up after the last attempt.',
  GEOLOC_ERR_FRAME_CORRUPT: 'The decoder met damaged video data; the damaged frames were concealed or skipped and decoding went on.',
  GEOLOC_ERR_PIPELINE_CONFIG: 'A pipeline setting (fps, batch size, k, timeouts, backoff) is out of range.',
  GEOLOC_ERR_OUTPUT_WRITE: 'The fixes file or the report could not be written.',
  GEOLOC_ERR_FRAMES_LEFT_IN_FLIGHT: 'A run stopped by a signal did not wait for every frame it had read to reach a fix (drain timeout, or a second signal).',
  // fix outputs: NMEA, MAVLink, CoT over UDP, TCP or files (pipeline/sinks/)
  GEOLOC_ERR_OUTPUT_URL: 'An output target is not udp://host:port, tcp://host:port or a path in an existing folder.',
  GEOLOC_ERR_OUTPUT_OPTIONS: 'An output or encoder option is out of range (rate, queue, byte limit, timeouts, NMEA talker, MAVLink ids, CoT stale time).',
  GEOLOC_ERR_OUTPUT_UNAVAILABLE: "A warning: an output's consumer refused, could not be reached or went away; geoloc queues (bounded) and reconnects with backoff. An error when the outputs' thread failed: the run goes on without them.",
  GEOLOC_ERR_OUTPUT_STALLED: 'A warning: a stream consumer stopped reading and was cut off at its byte limit; geoloc reconnects with backoff.',
  GEOLOC_ERR_SETUP_MISSING: 'An artifact the demo needs (fixture flight, embedded model, its index) has not been built.',
  // tracking (pipeline/tracking, operators/smoothTrack)
  GEOLOC_ERR_TRACK_INPUT: 'A measurement given to the track filter is malformed (non-finite or out-of-range field, time going backwards).',
  GEOLOC_ERR_TRACK_OPTIONS: 'A track filter option is out of range.',
  // NATS scale-out: workers, gateways and flight control (pipeline/nats, geoloc worker | flights, serve --nats)
  GEOLOC_ERR_NATS_UNREACHABLE: 'No NATS server answered at the --nats URL; geoloc retries with backoff (a control command gives up after its deadline).',
  GEOLOC_ERR_NATS_JOB_MALFORMED: 'A flight job taken from the work queue is not a valid job; it is refused and moved to the dead-letter subject.',
  GEOLOC_ERR_NATS_FLIGHT_EXISTS: 'A flight of that name is already known to NATS (queued, running or finished and not yet removed).',
  GEOLOC_ERR_NATS_FLIGHT_UNKNOWN: 'No flight of that name is known to NATS.',
  GEOLOC_ERR_NATS_FLIGHT_FAILED: 'A worker could not run a flight (its index, model, settings or source); the reason is in the flight status.',
  GEOLOC_ERR_NATS_FIXES_DROPPED: 'A warning: NATS was unreachable for longer than the fix buffer lasts; the oldest unpublished fixes were dropped and counted.',
  // encoders for autopilots and TAK (pipeline/sinks)
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class GeolocError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GeolocError';
    this.code = code;
  }
}

export function isGeolocError(err: unknown, code?: ErrorCode): err is GeolocError {
  return err instanceof GeolocError && (code === undefined || err.code === code);
}

/** One line for a person: the code, then what happened and what to do. */
export function describeError(err: unknown): string {
  if (err instanceof GeolocError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
