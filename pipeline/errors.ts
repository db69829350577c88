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
  GEOLOC_ERR_CRS_UNSUPPORTED: 'Imagery is in a coordinate reference system geoloc does not read (only EPSG:4326 and EPSG:3857).',
  // telemetry
  GEOLOC_ERR_TELEMETRY_PARSE: 'A telemetry line could not be parsed; the good records around it are kept.',
  GEOLOC_ERR_TELEMETRY_EMPTY: 'A telemetry file holds no usable record.',
  GEOLOC_ERR_TELEMETRY_ENDED: 'The telemetry ends before the video does; frames after its end have no ground truth.',
  // rendering synthetic flights
  GEOLOC_ERR_RENDER_PARAM: 'A flight-render parameter is impossible (altitude, field of view, pitch, size, frame rate).',
  GEOLOC_ERR_TRAJECTORY_OUTSIDE_MAP: 'A trajectory leaves the area the map covers.',
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
