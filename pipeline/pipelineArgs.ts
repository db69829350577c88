/**
 * The pipeline settings every localizing command takes on its command line (and the benchmarks
 * pass the same way): their parseArgs definitions, usage text, and conversion to a
 * PipelineConfig over the defaults and a --config file.
 */
import { DEFAULT_PIPELINE_CONFIG, type PipelineConfig, readConfigFile, resolveConfig } from './config';
import { DEFAULT_CAMERA, parseAspect, shortSideFovDeg } from '../models/indexCamera';
import { DEFAULT_NEAR_RADIUS_M, nearOption, numberOption } from './core/options';

/** parseArgs definitions of the pipeline settings every localizing command takes. */
export const PIPELINE_ARG_OPTIONS = {
  index: { type: 'string' },
  model: { type: 'string' },
  config: { type: 'string' },
  flight: { type: 'string' },
  fps: { type: 'string' },
  batch: { type: 'string' },
  k: { type: 'string' },
  workers: { type: 'string' },
  threads: { type: 'string' },
  fit: { type: 'string' },
  cpu: { type: 'boolean' },
  derotate: { type: 'boolean' },
  register: { type: 'boolean' },
  near: { type: 'string' },
  radius: { type: 'string' },
  hfov: { type: 'string' },
  aspect: { type: 'string' },
} as const;

export const PIPELINE_ARGS_USAGE = `  --index <dir>        satellite index folder (geoloc index build)
  --model <onnx>       embedding model (default: the embedded fixtures/model/model.onnx)
  --config <json>      pipeline settings file (fields of PipelineConfig; flags override it)
  --flight <name>      flight name written in every fix
  --fps <n>            frames localized per second (default 5)
  --batch <n>          frames per inference batch in replay (default 8)
  --k <n>              candidates per frame (default 10)
  --workers <n|auto>   ONNX Runtime worker threads (default auto: a single-threaded worker per
                       core for recordings on the CPU, one worker for live streams and CUDA)
  --threads <n>        intra-op threads per worker (default: 1 per core-worker, else all cores)
  --fit <crop|pad|stretch>  how frames become the model's square input (default crop)
  --cpu                skip the CUDA execution provider
  --no-derotate        do not turn frames north-up by the telemetry heading before matching
  --no-register        retrieval only: do not register frames against the index's imagery
                       (XFeat + OpenCV; on by default, the fixes say how each was made)
  --near <lat,lon>     where the flight starts (take-off point, last GNSS fix): the tracker
                       starts inside this circle instead of searching globally
  --radius <m>         radius of the --near circle (default ${DEFAULT_NEAR_RADIUS_M})
  --hfov <deg>         the camera's horizontal field of view, as render and index build take it
                       (sets tracker.cameraFovDeg, the view across the frame's shorter side)
  --aspect <w:h>       the frame's aspect that --hfov spans (default 4:3)
`;

export type PipelineArgValues = Partial<Record<Exclude<keyof typeof PIPELINE_ARG_OPTIONS, 'cpu' | 'derotate' | 'register'>, string>> & { cpu?: boolean; derotate?: boolean; register?: boolean };

const FRAMES_IN_FLIGHT_PER_BATCH = DEFAULT_PIPELINE_CONFIG.framesInFlight / DEFAULT_PIPELINE_CONFIG.maxBatch;

/** Defaults, then the --config file, then flags. */
export function configFromArgs(values: PipelineArgValues, base: Partial<PipelineConfig> = {}): PipelineConfig {
  const fromFile = values.config ? readConfigFile(values.config) : {};
  const flags: Partial<PipelineConfig> = {};
  const set = <K extends keyof PipelineConfig>(key: K, value: PipelineConfig[K] | undefined) => {
    if (value !== undefined) flags[key] = value;
  };
  set('flight', values.flight);
  set('fps', numberOption('fps', values.fps, undefined));
  set('maxBatch', numberOption('batch', values.batch, undefined));
  set('k', numberOption('k', values.k, undefined));
  set('workers', values.workers === 'auto' ? 'auto' : numberOption('workers', values.workers, undefined));
  set('intraOpThreads', numberOption('threads', values.threads, undefined));
  set('fit', values.fit as PipelineConfig['fit'] | undefined);
  if (values.cpu) flags.providers = ['cpu'];
  if (values.derotate !== undefined) flags.derotate = values.derotate;
  if (values.register !== undefined) flags.register = values.register;
  const prior = nearOption(values.near, values.radius);
  const hfovDeg = numberOption('hfov', values.hfov, undefined);
  const cameraFovDeg = hfovDeg === undefined ? undefined : shortSideFovDeg(hfovDeg, values.aspect === undefined ? DEFAULT_CAMERA.aspect : parseAspect(values.aspect));
  const merged = { ...base, ...fromFile, ...flags };
  // the flags' tracker settings join those of the file rather than replacing them
  if (prior || cameraFovDeg !== undefined) merged.tracker = { ...base.tracker, ...fromFile.tracker, ...(prior ? { prior } : {}), ...(cameraFovDeg !== undefined ? { cameraFovDeg } : {}) };
  // the decoder's window grows with the batch, as the default's does
  if (merged.maxBatch !== undefined && merged.framesInFlight === undefined) merged.framesInFlight = merged.maxBatch * FRAMES_IN_FLIGHT_PER_BATCH;
  return resolveConfig(merged);
}
