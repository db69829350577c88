/** One telemetry sample: where the drone was at time t, as its own instruments say. */
export interface TelemetryRecord {
  /** position of the record in its file: the SRT cue number or the CSV data row (1-based) */
  index: number;
  /** seconds from the start of the video */
  t: number;
  lat: number;
  lon: number;
  /** metres above the take-off point or the ground, when the file says */
  alt?: number;
  /** metres above sea level or the ellipsoid, when the file says */
  absAlt?: number;
  /** degrees clockwise from north: the aircraft's (or, failing that, the gimbal's) yaw */
  headingDeg?: number;
  /** camera pitch, degrees: -90 looks straight down (DJI convention) */
  gimbalPitchDeg?: number;
  /** wall-clock date and time as the file writes it */
  datetime?: string;
  /** 1-based line of the file the record starts on */
  line: number;
}

/** A line the reader could not use; the records around it are kept. */
export interface TelemetryWarning {
  line: number;
  message: string;
}

export interface TelemetryTrack {
  source: string;
  records: TelemetryRecord[];
  warnings: TelemetryWarning[];
}
