/**
 * Reference features: the map's XFeat keypoints with their world coordinates and descriptors,
 * extracted once per partition cell and ground resolution when the index is built, so that a
 * registration costs matching, not extraction. They are north-up, like the tiles; a frame is
 * turned north-up by its heading before its own features are taken (XFeat is not rotation
 * invariant).
 *
 * One file per cell and resolution, features/cell-N-sK.bin, little-endian, for `count` keypoints:
 *   float64 lat, lon (count·2) │ float32 score (count) │ int8 descriptor (count·dim)
 * A descriptor is stored as int8 in units of its largest component / 127 (a quarter of float32's
 * bytes); it is read back as a unit float row, as the matcher compares them.
 * The manifest records each file's count and sha256, and the extractor that made them.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GeolocError, isGeolocError } from '../pipeline/core/errors';
import type { GeoBounds } from '../pipeline/geo/geoImage';
import { LocalFrame, METERS_PER_DEGREE } from '../pipeline/geo/wgs84';
import { FeatureWorker } from './featureWorkerClient';
import type { IndexCamera } from './indexCamera';
import type { LocalFeatures } from './localFeatures';
import { windowToLatLon, type MapSampler, type MapWindow, type WindowSpec } from './mapWindow';
import { startTogether } from './workerClient';
import { XFEAT_DIM, XFEAT_INPUT_HEIGHT, XFEAT_INPUT_WIDTH, xfeatFit, xfeatModelPath } from './xfeat';

export interface ExtractorInfo {
  name: 'xfeat';
  /** sha256 of the ONNX graph */
  sha256: string;
  /** the graph's input, [height, width] */
  inputSize: [number, number];
  dim: number;
  /** map windows the features are taken from, [width, height] pixels */
  windowPx: [number, number];
  /** keypoints this close to a window's edge are left to the neighbouring window */
  edgePx: number;
  /** how descriptors are stored */
  encoding: 'int8-row-scaled';
}

export interface FeatureFile {
  cell: number;
  /** index into FeaturesManifest.metersPerPixel */
  scale: number;
  /** relative to the index folder */
  file: string;
  count: number;
  sha256: string;
}

export interface FeaturesManifest {
  extractor: ExtractorInfo;
  /** the ground resolutions features were taken at, metres per pixel, finest first */
  metersPerPixel: number[];
  files: FeatureFile[];
}

/** The features of one cell at one resolution. */
export interface CellFeatures {
  count: number;
  /** count·2: lat, lon */
  latLon: Float64Array;
  scores: Float32Array;
  /** count·dim unit rows */
  descriptors: Float32Array;
}

export const FEATURE_DIR = 'features';
/**
 * A portrait window the size of XFeat's input: every pixel of the input is map, and the window is
 * not turned to fit (XFeat turns a landscape image, and its descriptors are not rotation invariant:
 * they must see the map north-up, as they see the north-up frame).
 */
const WINDOW_PX: [number, number] = [XFEAT_INPUT_WIDTH, XFEAT_INPUT_HEIGHT];
/** XFeat's descriptors read 8-px cells around a keypoint: two cells in, a keypoint sees whole ones */
const EDGE_PX = 16;
/**
 * Largest ratio between neighbouring feature resolutions: a frame then meets map features at
 * most √1.25 ≈ 12% off its own scale, well within what the window margin already asks of XFeat.
 */
export const DEFAULT_FEATURE_SCALE_STEP = 1.25;
/** Ground no raster covers is black: a keypoint with black this near is the imagery's edge, not the ground's. */
const UNCOVERED_PROBE_PX = 6;
const DEFAULT_FEATURE_WORKERS = 1;
/** windows handed to each feature worker before the oldest is waited for: one being extracted, one queued */
const EXTRACTIONS_IN_FLIGHT_PER_WORKER = 2;
const RGB = 3;
const F64 = 8;
const F32 = 4;
const INT8_MAX = 127;

export function featureFile(cell: number, scale: number): string {
  return `${FEATURE_DIR}/cell-${cell}-s${scale}.bin`;
}

export const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let extractor: Promise<ExtractorInfo> | undefined;

/** The extractor this geoloc registers with: the vendored XFeat graph and the window it is fed. */
export function currentExtractor(): Promise<ExtractorInfo> {
  extractor ??= readFile(xfeatModelPath()).then((bytes) => ({
    name: 'xfeat',
    sha256: sha256Of(bytes),
    inputSize: [XFEAT_INPUT_HEIGHT, XFEAT_INPUT_WIDTH],
    dim: XFEAT_DIM,
    windowPx: WINDOW_PX,
    edgePx: EDGE_PX,
    encoding: 'int8-row-scaled',
  }));
  return extractor;
}

/**
 * The resolutions registration cuts map windows at across the band: a frame at the size
 * registration decodes (XFeat's largest of the camera's aspect) seen from the lowest altitude
 * through the narrowest lens to the highest through the widest, times the window margin; a
 * ladder no two neighbours of which differ by more than `step`.
 */
export function featureResolutions(camera: IndexCamera, altitudesM: number[], windowMargin: number, step = DEFAULT_FEATURE_SCALE_STEP): number[] {
  const frameWidthPx = xfeatFit(Math.round(camera.aspect * 1000), 1000).width;
  const perPx = (altitudeM: number, hfovDeg: number) => (2 * altitudeM * Math.tan((hfovDeg * Math.PI) / 360) * windowMargin) / frameWidthPx;
  const finest = perPx(Math.min(...altitudesM), camera.hfovDeg[0]);
  const coarsest = perPx(Math.max(...altitudesM), camera.hfovDeg[1]);
  const steps = Math.ceil(Math.log(coarsest / finest) / Math.log(step) - 1e-9);
  return Array.from({ length: Math.max(0, steps) + 1 }, (_, i) => finest * (coarsest / finest) ** (steps > 0 ? i / steps : 0));
}

/**
 * The features of the ground inside `bounds` at `metersPerPixel`: north-up windows laid so that
 * their inner parts (all but `EDGE_PX` on each side) tile the cell; each keypoint is kept by the
 * window whose inner part holds it, and only inside the cell, so no point is stored twice.
 * A row of windows is read at once; each worker extracts one window while its next is sent and
 * the one before is sorted, so neither the workers nor this thread wait on each other.
 */
export async function extractCellFeatures(workers: FeatureWorker[], sampler: MapSampler, bounds: GeoBounds, metersPerPixel: number): Promise<CellFeatures> {
  const centre = { lat: (bounds.south + bounds.north) / 2, lon: (bounds.west + bounds.east) / 2 };
  const frame = new LocalFrame(centre);
  const widthM = (bounds.east - bounds.west) * METERS_PER_DEGREE * Math.cos((centre.lat * Math.PI) / 180);
  const heightM = (bounds.north - bounds.south) * METERS_PER_DEGREE;
  const [width, height] = WINDOW_PX;
  const innerW = (width - 2 * EDGE_PX) * metersPerPixel;
  const innerH = (height - 2 * EDGE_PX) * metersPerPixel;
  const across = Math.ceil(widthM / innerW);
  const down = Math.ceil(heightM / innerH);
  const parts: CellFeatures[] = [];
  const inFlight: { window: MapWindow; features: Promise<LocalFeatures> }[] = [];
  let handedOut = 0;
  const settleOldest = async () => {
    const { window, features } = inFlight.shift()!;
    parts.push(keptInside(window, await features, bounds));
  };
  for (let j = 0; j < down; j++) {
    const row = Array.from({ length: across }, (_, i): WindowSpec => {
      const at = frame.fromEnu({ e: -widthM / 2 + (i + 0.5) * innerW, n: -heightM / 2 + (j + 0.5) * innerH, u: 0 });
      return { centre: { lat: at.lat, lon: at.lon }, headingDeg: 0, metersPerPixel, width, height };
    });
    for (const window of await readWindows(sampler, row)) {
      if (!window || window.coverage === 0) continue;
      // windows go round the workers in turn and are settled in order, so the file does not depend on timing
      const features = workers[handedOut++ % workers.length]!.extract(window.rgb, width, height);
      // a failure surfaces when its turn to be settled comes; until then it is not unhandled
      features.catch(() => undefined);
      inFlight.push({ window, features });
      if (inFlight.length > EXTRACTIONS_IN_FLIGHT_PER_WORKER * workers.length) await settleOldest();
    }
  }
  while (inFlight.length > 0) await settleOldest();
  return concatFeatures(parts);
}

/** The keypoints of a window that lie in its inner part, away from uncovered ground, and inside the cell. */
function keptInside(window: MapWindow, f: LocalFeatures, bounds: GeoBounds): CellFeatures {
  const { width, height } = window;
  const keep: number[] = [];
  const latLon: number[] = [];
  for (let k = 0; k < f.count; k++) {
    const x = f.keypoints[2 * k]!;
    const y = f.keypoints[2 * k + 1]!;
    if (x < EDGE_PX || x >= width - EDGE_PX || y < EDGE_PX || y >= height - EDGE_PX || nearUncovered(window.rgb, width, height, x, y)) continue;
    const p = windowToLatLon(window, x, y);
    if (p.lat < bounds.south || p.lat >= bounds.north || p.lon < bounds.west || p.lon >= bounds.east) continue;
    keep.push(k);
    latLon.push(p.lat, p.lon);
  }
  const descriptors = new Float32Array(keep.length * XFEAT_DIM);
  keep.forEach((k, r) => descriptors.set((f.descriptors as Float32Array).subarray(k * XFEAT_DIM, (k + 1) * XFEAT_DIM), r * XFEAT_DIM));
  return { count: keep.length, latLon: Float64Array.from(latLon), scores: Float32Array.from(keep, (k) => f.scores[k]!), descriptors };
}

/**
 * Windows of the map, with none where one crosses an unreadable block of the imagery: the tiles
 * there are skipped and counted by the build already, and the map has no features there. A read
 * of the whole row that meets a bad block is retried window by window, so only its windows are lost.
 */
async function readWindows(sampler: MapSampler, specs: WindowSpec[]): Promise<(MapWindow | undefined)[]> {
  try {
    return await sampler.windows(specs);
  } catch (err) {
    if (!isGeolocError(err, 'GEOLOC_ERR_IMAGERY_CORRUPT_TILE')) throw err;
  }
  const windows: (MapWindow | undefined)[] = [];
  for (const spec of specs) {
    try {
      windows.push(await sampler.window(spec));
    } catch (err) {
      if (!isGeolocError(err, 'GEOLOC_ERR_IMAGERY_CORRUPT_TILE')) throw err;
      windows.push(undefined);
    }
  }
  return windows;
}

function nearUncovered(rgb: Uint8Array, width: number, height: number, x: number, y: number): boolean {
  for (const [dx, dy] of [[-1, -1], [1, -1], [-1, 1], [1, 1], [0, 0]] as const) {
    const px = Math.min(width - 1, Math.max(0, Math.floor(x + dx * UNCOVERED_PROBE_PX)));
    const py = Math.min(height - 1, Math.max(0, Math.floor(y + dy * UNCOVERED_PROBE_PX)));
    const o = (py * width + px) * RGB;
    if (rgb[o] === 0 && rgb[o + 1] === 0 && rgb[o + 2] === 0) return true;
  }
  return false;
}

export function concatFeatures(parts: CellFeatures[]): CellFeatures {
  const count = parts.reduce((a, p) => a + p.count, 0);
  const out: CellFeatures = { count, latLon: new Float64Array(2 * count), scores: new Float32Array(count), descriptors: new Float32Array(count * XFEAT_DIM) };
  let at = 0;
  for (const p of parts) {
    out.latLon.set(p.latLon, 2 * at);
    out.scores.set(p.scores, at);
    out.descriptors.set(p.descriptors, at * XFEAT_DIM);
    at += p.count;
  }
  return out;
}

function fileBytes(count: number, dim: number): number {
  return count * (2 * F64 + F32 + dim);
}

/** Each row in units of its largest component / 127: every component within 0.4% of that largest one. */
function quantise(descriptors: Float32Array, count: number, dim: number): Int8Array {
  const codes = new Int8Array(count * dim);
  for (let i = 0; i < count; i++) {
    let largest = 0;
    for (let k = i * dim; k < (i + 1) * dim; k++) largest = Math.max(largest, Math.abs(descriptors[k]!));
    for (let k = i * dim; k < (i + 1) * dim; k++) codes[k] = largest > 0 ? Math.round((descriptors[k]! / largest) * INT8_MAX) : 0;
  }
  return codes;
}

/** Back to unit float rows, as the matcher compares them. */
function dequantise(codes: Int8Array, count: number, dim: number): Float32Array {
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    let sq = 0;
    for (let k = i * dim; k < (i + 1) * dim; k++) sq += codes[k]! * codes[k]!;
    const norm = Math.sqrt(sq) || 1;
    for (let k = i * dim; k < (i + 1) * dim; k++) out[k] = codes[k]! / norm;
  }
  return out;
}

export async function writeFeatureFile(dir: string, cell: number, scale: number, f: CellFeatures): Promise<FeatureFile> {
  const view = (a: Float64Array | Float32Array | Int8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const bytes = Buffer.concat([view(f.latLon), view(f.scores), view(quantise(f.descriptors, f.count, XFEAT_DIM))]);
  const file = featureFile(cell, scale);
  await mkdir(dirname(join(dir, file)), { recursive: true });
  await writeFile(join(dir, file), bytes);
  return { cell, scale, file, count: f.count, sha256: sha256Of(bytes) };
}

/** Reads one feature file, refusing one that is missing, of the wrong size or hash. */
export async function readFeatureFile(dir: string, entry: FeatureFile, dim: number, rebuild: string): Promise<CellFeatures> {
  const path = join(dir, entry.file);
  const corrupt = (what: string) => new GeolocError('GEOLOC_ERR_FEATURES_CORRUPT', `reference feature file ${path} ${what}; rebuild the index: ${rebuild}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw corrupt(`cannot be read (${(cause as Error).message})`);
  }
  const expected = fileBytes(entry.count, dim);
  if (bytes.length !== expected) throw corrupt(`holds ${bytes.length} bytes, its ${entry.count} keypoints need ${expected} (truncated or overwritten)`);
  if (sha256Of(bytes) !== entry.sha256) throw corrupt(`has sha256 ${sha256Of(bytes).slice(0, 12)}…, the manifest records ${entry.sha256.slice(0, 12)}…`);
  // copied into aligned buffers: a Buffer's offset into Node's pool need not be a multiple of 8
  const copy = new Uint8Array(bytes).buffer;
  const n = entry.count;
  return {
    count: n,
    latLon: new Float64Array(copy, 0, 2 * n),
    scores: new Float32Array(copy, 2 * n * F64, n),
    descriptors: dequantise(new Int8Array(copy, 2 * n * F64 + n * F32, n * dim), n, dim),
  };
}

/**
 * The feature pass of an index build, one partition cell at a time (so that a resumed build
 * keeps the cells done before): every resolution of the cell extracted (extractCellFeatures) in
 * feature workers of the pass's own and written into the build folder (writeFeatureFile).
 */
export class ReferenceFeaturePass {
  private written = 0;

  private constructor(
    private readonly workers: FeatureWorker[],
    private readonly sampler: MapSampler,
    readonly metersPerPixel: number[],
  ) {}

  /**
   * One XFeat worker on ONNX Runtime's threads (every core), or `workers` of one thread each:
   * single-threaded sessions side by side keep the cores busier than one session's threads
   * (2 cores: 16.2 against 29.2 ms a window), at about 110 MB a worker.
   */
  static async start(sampler: MapSampler, metersPerPixel: number[], workers = DEFAULT_FEATURE_WORKERS): Promise<ReferenceFeaturePass> {
    if (!Number.isInteger(workers) || workers < 1) throw new GeolocError('GEOLOC_ERR_USAGE', `feature workers must be a positive integer, got ${workers}`);
    const threads = workers > 1 ? { intraOpThreads: 1 } : {};
    const started = await startTogether(Array.from({ length: workers }, () => FeatureWorker.start({ method: 'xfeat', ...threads })));
    return new ReferenceFeaturePass(started, sampler, metersPerPixel);
  }

  async cell(dir: string, cell: number, bounds: GeoBounds): Promise<void> {
    for (const [scale, mpp] of this.metersPerPixel.entries()) {
      await writeFeatureFile(dir, cell, scale, await extractCellFeatures(this.workers, this.sampler, bounds, mpp));
      this.written++;
    }
  }

  /**
   * The manifest's record of the cells' files, read back from the build folder (cells done by an
   * earlier, interrupted run included); a file missing there is a build that lost it.
   */
  async manifest(dir: string, cells: number[], log: (line: string) => void): Promise<FeaturesManifest> {
    const extractor = await currentExtractor();
    const perKeypoint = fileBytes(1, extractor.dim);
    const files: FeatureFile[] = [];
    for (const cell of [...cells].sort((a, b) => a - b)) {
      for (const scale of this.metersPerPixel.keys()) {
        const file = featureFile(cell, scale);
        const bytes = await readFile(join(dir, file));
        files.push({ cell, scale, file, count: bytes.length / perKeypoint, sha256: sha256Of(bytes) });
      }
    }
    const keypoints = files.reduce((a, f) => a + f.count, 0);
    const megabytes = fileBytes(keypoints, extractor.dim) / 1e6;
    log(`[index] reference features: ${keypoints} XFeat keypoints at ${this.metersPerPixel.map((m) => m.toFixed(2)).join(', ')} m/px in ${files.length} files (${this.written} made by this run), ${megabytes.toFixed(1)} MB`);
    return { extractor, metersPerPixel: this.metersPerPixel, files };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
