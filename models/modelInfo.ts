/**
 * What geoloc needs to know about an embedding model before running it: input size,
 * normalisation, embedding dimension, identity (sha256 of model.onnx). It comes from a
 * sibling model.json when present, else from the ONNX file's metadata_props.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GeolocError } from '../pipeline/core/errors';
import { repoRoot } from '../pipeline/core/paths';
import { OnnxFormatError, readOnnxMetadataProps } from './onnxMetadata';

export interface ModelInfo {
  path: string;
  sha256: string;
  /** [H, W] */
  inputSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  dim: number;
  backbone: string;
  version: string;
  patchSize: number;
  trainingData?: string;
  metrics?: Record<string, unknown>;
}

/** The contract's foreground map is H/14 × W/14; metadata may say otherwise. */
const CONTRACT_PATCH_SIZE = 14;

/** ONNX metadata_props keys (values JSON-encoded) → model.json keys. */
const ONNX_KEYS = {
  inputSize: 'geoloc.input_size',
  mean: 'geoloc.mean',
  std: 'geoloc.std',
  dim: 'geoloc.dim',
  backbone: 'geoloc.backbone',
  version: 'geoloc.version',
  trainingData: 'geoloc.training_data',
  metrics: 'geoloc.metrics',
  patchSize: 'geoloc.patch_size',
} as const;

type RawMetadata = Partial<Record<keyof typeof ONNX_KEYS, unknown>>;

export function defaultModelPath(): string {
  return join(repoRoot(), 'fixtures', 'model', 'model.onnx');
}

/** model.onnx → model.json beside it */
export function siblingJsonPath(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/i, '') + '.json';
}

export async function loadModelInfo(onnxPath: string): Promise<ModelInfo> {
  if (!existsSync(onnxPath)) {
    throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `model ${onnxPath} does not exist; pass --model <model.onnx> or run the training export`);
  }
  const bytes = await readFile(onnxPath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let props: Map<string, string>;
  try {
    props = readOnnxMetadataProps(bytes);
  } catch (cause) {
    if (!(cause instanceof OnnxFormatError)) throw cause;
    throw new GeolocError('GEOLOC_ERR_MODEL_UNREADABLE', `${onnxPath} is not an ONNX model (${cause.message}); export it again with the training package`, { cause });
  }
  const fromOnnx = rawFromOnnx(props, onnxPath);
  const jsonPath = siblingJsonPath(onnxPath);
  const fromJson = existsSync(jsonPath) ? await rawFromJson(jsonPath) : undefined;
  const source = fromJson ? jsonPath : `${onnxPath} (metadata_props)`;
  const info = validate(fromJson ?? fromOnnx, source, onnxPath, sha256);
  if (fromJson) checkAgreement(info, fromOnnx, jsonPath);
  return info;
}

function rawFromOnnx(props: Map<string, string>, onnxPath: string): RawMetadata {
  const raw: RawMetadata = {};
  for (const [field, key] of Object.entries(ONNX_KEYS) as [keyof typeof ONNX_KEYS, string][]) {
    const text = props.get(key);
    if (text === undefined) continue;
    try {
      raw[field] = JSON.parse(text);
    } catch {
      // A bare string (e.g. a backbone name written without quotes) is still meaningful.
      if (field === 'backbone' || field === 'version' || field === 'trainingData') raw[field] = text;
      else throw new GeolocError('GEOLOC_ERR_MODEL_METADATA', `${onnxPath}: metadata ${key} is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
    }
  }
  return raw;
}

async function rawFromJson(jsonPath: string): Promise<RawMetadata> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (cause) {
    throw new GeolocError('GEOLOC_ERR_MODEL_METADATA', `${jsonPath} is not valid JSON (${(cause as Error).message}); fix or delete it (the ONNX metadata is used when it is absent)`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GeolocError('GEOLOC_ERR_MODEL_METADATA', `${jsonPath} must hold a JSON object`);
  }
  return parsed as RawMetadata;
}

function validate(raw: RawMetadata, source: string, path: string, sha256: string): ModelInfo {
  const fail = (field: string, want: string, got: unknown): never => {
    throw new GeolocError(
      'GEOLOC_ERR_MODEL_METADATA',
      `${source}: ${field} must be ${want}, found ${JSON.stringify(got)}; export the model again with the training package (it writes model.json and ONNX metadata)`,
    );
  };
  const numbers = (field: string, value: unknown, length: number, positive: boolean): number[] => {
    if (!Array.isArray(value) || value.length !== length || value.some((v) => typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0))) {
      return fail(field, `an array of ${length} ${positive ? 'positive ' : ''}numbers`, value);
    }
    return value as number[];
  };
  const positiveInt = (field: string, value: unknown): number =>
    typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fail(field, 'a positive integer', value);
  const text = (field: string, value: unknown): string =>
    typeof value === 'string' && value.length > 0 ? value : typeof value === 'number' ? String(value) : fail(field, 'a non-empty string', value);

  const inputSize = numbers('inputSize', raw.inputSize, 2, true);
  if (!inputSize.every(Number.isInteger)) fail('inputSize', '[H, W] in whole pixels', raw.inputSize);
  const info: ModelInfo = {
    path,
    sha256,
    inputSize: inputSize as [number, number],
    mean: numbers('mean', raw.mean, 3, false) as [number, number, number],
    std: numbers('std', raw.std, 3, true) as [number, number, number],
    dim: positiveInt('dim', raw.dim),
    backbone: text('backbone', raw.backbone),
    version: text('version', raw.version),
    patchSize: raw.patchSize === undefined ? CONTRACT_PATCH_SIZE : positiveInt('patchSize', raw.patchSize),
  };
  if (raw.trainingData !== undefined) info.trainingData = typeof raw.trainingData === 'string' ? raw.trainingData : JSON.stringify(raw.trainingData);
  if (raw.metrics !== undefined) {
    if (typeof raw.metrics !== 'object' || raw.metrics === null || Array.isArray(raw.metrics)) fail('metrics', 'an object', raw.metrics);
    info.metrics = raw.metrics as Record<string, unknown>;
  }
  return info;
}

/** model.json and the ONNX metadata, where it states them, must describe the same network. */
function checkAgreement(fromJson: ModelInfo, fromOnnx: RawMetadata, jsonPath: string): void {
  const onnxSize = JSON.stringify(fromOnnx.inputSize);
  const dimDiffers = fromOnnx.dim !== undefined && fromOnnx.dim !== fromJson.dim;
  const sizeDiffers = fromOnnx.inputSize !== undefined && onnxSize !== JSON.stringify(fromJson.inputSize);
  if (dimDiffers || sizeDiffers) {
    throw new GeolocError(
      'GEOLOC_ERR_MODEL_METADATA',
      `${jsonPath} (dim ${fromJson.dim}, input ${JSON.stringify(fromJson.inputSize)}) disagrees with the ONNX metadata ` +
        `(dim ${JSON.stringify(fromOnnx.dim)}, input ${onnxSize}); it belongs to another model: delete it or export both again`,
    );
  }
}
