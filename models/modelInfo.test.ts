import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../pipeline/core/paths';
import { coded } from '../tests/support/coded';
import { tinyModelPath, withoutOnnxMetadata } from '../tests/support/tinyModel';
import { defaultModelPath, loadModelInfo, siblingJsonPath } from './modelInfo';
import { readOnnxMetadataProps } from './onnxMetadata';

// A protobuf encoder just big enough to write test messages by hand.
const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    out.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return out;
};
const lengthField = (field: number, payload: Uint8Array | number[]) => [...varint(field * 8 + 2), ...varint(payload.length), ...payload];
const text = (s: string) => [...Buffer.from(s, 'utf8')];
const entry = (key: string, value: string) => lengthField(14, [...lengthField(1, text(key)), ...lengthField(2, text(value))]);

describe('readOnnxMetadataProps', () => {
  test('reads key/value entries and skips fields of every wire type', () => {
    const model = Uint8Array.from([
      ...varint(1 * 8 + 0), ...varint(8), // ir_version (varint)
      ...varint(20 * 8 + 1), 1, 2, 3, 4, 5, 6, 7, 8, // an unknown fixed64
      ...varint(21 * 8 + 5), 1, 2, 3, 4, // an unknown fixed32
      ...lengthField(7, [1, 2, 3]), // graph (contents not read)
      ...entry('geoloc.dim', '64'),
      ...entry('geoloc.backbone', 'vit ü'),
    ]);
    expect([...readOnnxMetadataProps(model)]).toEqual([
      ['geoloc.dim', '64'],
      ['geoloc.backbone', 'vit ü'],
    ]);
  });

  test('refuses bytes that are not a ModelProto', () => {
    expect(() => readOnnxMetadataProps(Buffer.from('hello, this is not a model'))).toThrow(/wire type|graph|past the end|varint/);
    expect(() => readOnnxMetadataProps(Uint8Array.from(lengthField(7, [1, 2, 3])).subarray(0, 3))).toThrow(/past the end/);
    expect(() => readOnnxMetadataProps(Uint8Array.from(entry('a', 'b')))).toThrow(/no graph/);
  });
});

describe('loadModelInfo', () => {
  let model: string;
  let tmp: string;

  beforeAll(async () => {
    model = await tinyModelPath();
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-modelinfo-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('reads the sibling model.json and hashes model.onnx', async () => {
    const json = JSON.parse(readFileSync(siblingJsonPath(model), 'utf8'));
    const info = await loadModelInfo(model);
    expect(info).toMatchObject({ path: model, inputSize: json.inputSize, mean: json.mean, std: json.std, dim: json.dim, backbone: json.backbone, version: json.version, patchSize: json.patchSize });
    expect(info.sha256).toBe(createHash('sha256').update(readFileSync(model)).digest('hex'));
  });

  test('falls back to the ONNX metadata_props when there is no model.json', async () => {
    const alone = join(tmp, 'alone.onnx');
    copyFileSync(model, alone);
    const fromOnnx = await loadModelInfo(alone);
    const fromJson = await loadModelInfo(model);
    expect({ ...fromOnnx, path: model }).toEqual(fromJson);
  });

  test('a model without metadata and without model.json: GEOLOC_ERR_MODEL_METADATA', async () => {
    const bare = join(tmp, 'bare.onnx');
    writeFileSync(bare, withoutOnnxMetadata(readFileSync(model)));
    await expect(loadModelInfo(bare)).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_METADATA', 'inputSize'));
  });

  test('a model.json that is not JSON, lacks a field or disagrees with the ONNX metadata: GEOLOC_ERR_MODEL_METADATA', async () => {
    const good = JSON.parse(readFileSync(siblingJsonPath(model), 'utf8'));
    const cases: [string, string, string][] = [
      ['broken', '{"inputSize": [56,', 'not valid JSON'],
      ['nodim', JSON.stringify({ ...good, dim: undefined }), 'dim'],
      ['badstd', JSON.stringify({ ...good, std: [0.2, 0, 0.2] }), 'std'],
      ['otherdim', JSON.stringify({ ...good, dim: good.dim * 2 }), 'disagrees'],
    ];
    for (const [name, content, mention] of cases) {
      const onnx = join(tmp, `${name}.onnx`);
      copyFileSync(model, onnx);
      writeFileSync(siblingJsonPath(onnx), content);
      await expect(loadModelInfo(onnx)).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_METADATA', mention));
    }
  });

  test('a file that is not ONNX: GEOLOC_ERR_MODEL_UNREADABLE; a missing one: GEOLOC_ERR_FILE_NOT_FOUND', async () => {
    const junk = join(tmp, 'junk.onnx');
    writeFileSync(junk, 'definitely not a protobuf\n');
    await expect(loadModelInfo(junk)).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_UNREADABLE', junk));
    const truncated = join(tmp, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(model).subarray(0, 1000));
    await expect(loadModelInfo(truncated)).rejects.toMatchObject(coded('GEOLOC_ERR_MODEL_UNREADABLE', truncated));
    await expect(loadModelInfo(join(tmp, 'absent.onnx'))).rejects.toMatchObject(coded('GEOLOC_ERR_FILE_NOT_FOUND', 'absent.onnx'));
  });

  test('the default model is the embedded one in the repository', () => {
    expect(defaultModelPath()).toBe(join(repoRoot(), 'fixtures', 'model', 'model.onnx'));
  });
});
