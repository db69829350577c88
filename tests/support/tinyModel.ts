import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { protobufFields } from '../../models/onnxMetadata';
import { fixtureCacheDir, repoRoot } from '../../pipeline/core/paths';

const PYTHON = '/usr/bin/python3';
const TINY_CONFIG = join('training', 'configs', 'tiny.yaml');
const PROJECTION_SCRIPT = join('tests', 'support', 'projection_model.py');
const HASH_CHARS = 16;
const ONNX_METADATA_FIELD = 14;

const run = promisify(execFile);

/** Hash of the Python and YAML files at or under `paths` (repository-relative), plus `extra`. */
function sourceHash(paths: string[], extra: string[]): string {
  const hash = createHash('sha256').update(JSON.stringify(extra));
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (name !== 'tests' && name !== '__pycache__') walk(join(path, name));
    } else if (path.endsWith('.py') || path.endsWith('.yaml')) {
      hash.update(path).update(readFileSync(path));
    }
  };
  for (const p of paths) walk(join(repoRoot(), p));
  return hash.digest('hex').slice(0, HASH_CHARS);
}

/**
 * model.onnx made once per version of its maker under fixtures/cache/test-models/<kind>/<key>/.
 * The maker writes into a staging folder that is renamed into place, so test files running
 * in parallel never see half a model.
 */
async function cachedModel(kind: string, key: string, make: (out: string) => Promise<unknown>): Promise<string> {
  const dir = join(fixtureCacheDir(), 'test-models', kind, key);
  const model = join(dir, 'model.onnx');
  if (existsSync(model)) return model;
  const staging = `${dir}.partial-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    await make(staging);
    await rename(staging, dir).catch((err: unknown) => {
      if (!existsSync(model)) throw err; // another test file won the race
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return model;
}

/**
 * A random-init tiny SPE-Net exported by the training package (model.onnx + model.json).
 * `overrides` are config overrides such as 'model.dim=32'. Its descriptors hardly depend on
 * the image (random init), so it serves contract tests, not retrieval tests.
 */
export function tinyModelPath(overrides: string[] = []): Promise<string> {
  return cachedModel('tiny', sourceHash(['training'], overrides), (out) =>
    run(PYTHON, ['-m', 'training', 'export', '--config', TINY_CONFIG, '--random-init', '--out', out, ...overrides], { cwd: repoRoot() }),
  );
}

/**
 * A contract-keeping model whose descriptors tell images apart (block means through a seeded
 * random projection, see projection_model.py), for retrieval tests.
 */
export function projectionModelPath({ dim = 64, size = 56 } = {}): Promise<string> {
  const args = ['--dim', String(dim), '--size', String(size)];
  return cachedModel('projection', sourceHash([PROJECTION_SCRIPT], args), (out) => run(PYTHON, [PROJECTION_SCRIPT, '--out', out, ...args], { cwd: repoRoot() }));
}

/** A model's bytes without its metadata_props (ModelProto field 14), for models that carry none. */
export function withoutOnnxMetadata(model: Buffer): Buffer {
  return Buffer.concat([...protobufFields(model)].filter((f) => f.number !== ONNX_METADATA_FIELD).map((f) => model.subarray(f.start, f.end)));
}
