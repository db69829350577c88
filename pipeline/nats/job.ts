/**
 * A flight job: what a worker needs to localize one flight. `geoloc flights add` writes it
 * from the same flags `geoloc run` takes; a worker refuses anything else that arrives.
 */
import { GeolocError } from '../core/errors';
import { isFlightName } from './names';

export interface FlightJob {
  flight: string;
  /** the video: rtsp://, udp://, tcp://, srt:// or a file the worker can read */
  source: string;
  /** the satellite index folder, at this path on every worker */
  index: string;
  /** the embedding model; default the embedded one */
  model?: string;
  /** pipeline settings (PipelineConfig fields) over the defaults */
  settings?: Record<string, unknown>;
  /** fix outputs as `geoloc run` takes them: {"nmea": ["udp://…"], "nmea-rate": "1", …} */
  outputs?: Record<string, string | string[]>;
  /** when the job was queued, ms since the epoch */
  queuedAt?: number;
}

function malformed(what: string): never {
  throw new GeolocError('GEOLOC_ERR_NATS_JOB_MALFORMED', `flight job refused: ${what}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** The job in a message's bytes, or GEOLOC_ERR_NATS_JOB_MALFORMED naming the field that is wrong. */
export function parseJob(data: Uint8Array): FlightJob {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    malformed(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(value)) malformed('not a JSON object');
  const { flight, source, index, model, settings, outputs, queuedAt } = value;
  if (!isFlightName(flight)) malformed(`flight must be 1–64 letters, digits, _ or -, got ${JSON.stringify(flight)}`);
  if (!isText(source)) malformed(`flight ${flight}: source must be a URL or path, got ${JSON.stringify(source)}`);
  if (!isText(index)) malformed(`flight ${flight}: index must be a folder path, got ${JSON.stringify(index)}`);
  if (model !== undefined && !isText(model)) malformed(`flight ${flight}: model must be a path, got ${JSON.stringify(model)}`);
  if (settings !== undefined && !isObject(settings)) malformed(`flight ${flight}: settings must be an object of pipeline settings`);
  if (outputs !== undefined && (!isObject(outputs) || !Object.values(outputs).every((v) => isText(v) || (Array.isArray(v) && v.every(isText))))) {
    malformed(`flight ${flight}: outputs must map output flags to a target or a list of targets`);
  }
  if (queuedAt !== undefined && typeof queuedAt !== 'number') malformed(`flight ${flight}: queuedAt must be ms since the epoch`);
  return value as unknown as FlightJob;
}
