import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticGeoImage } from '../../tests/support/syntheticImagery';
import { tinyModelPath } from '../../tests/support/tinyModel';
import { CATALOG_FILE, CELLS_FILE, MANIFEST_FILE } from '../indexFiles';
import { CLI_PATH } from '../../tests/support/cli';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function geoloc(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_PATH, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('geoloc index build / info', () => {
  let tmp: string;
  let imagery: string;
  let model: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'geoloc-cli-index-'));
    imagery = await writeSyntheticGeoImage(tmp, { width: 300, height: 300, metersPerPixel: 1, north: 46.5, west: 7.5, seed: 4 });
    model = await tinyModelPath();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('builds an index with an exported SPE-Net, prints a summary, and index info reads it back', async () => {
    const out = join(tmp, 'index');
    const built = await geoloc(['index', 'build', '--imagery', imagery, '--model', model, '--out', out, '--altitudes', '60,100', '--overlap', '0.4', '--cell-size', '200', '--batch', '8']);
    expect(built.stderr).not.toMatch(/\r/);
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/^tiles\s+\d+ \(60 m: \d+ × 69 m; 100 m: \d+ × 115 m\)$/m);
    expect(built.stdout).toMatch(/vit_tiny14, 64-d, input 56×56/);
    expect(built.stderr).toMatch(/embedding tiles .*100% (\d+)\/\1/);
    for (const file of [MANIFEST_FILE, CELLS_FILE, CATALOG_FILE]) expect(existsSync(join(out, file))).toBe(true);

    const info = await geoloc(['index', 'info', out]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(built.stdout.split('\n').find((l) => l.startsWith('tiles'))!);

    const again = await geoloc(['index', 'build', '--imagery', imagery, '--model', model, '--out', out, '--altitudes', '60,100', '--overlap', '0.4', '--cell-size', '200']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('is current');
  });

  test('bad arguments exit non-zero with a coded message and the usage', async () => {
    const missing = await geoloc(['index', 'build', '--imagery', imagery]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('GEOLOC_ERR_USAGE: --out is required');
    expect(missing.stderr).toContain('usage: geoloc index build');
    const notANumber = await geoloc(['index', 'build', '--imagery', imagery, '--out', join(tmp, 'x'), '--hfov', 'wide']);
    expect(notANumber.stderr).toContain('GEOLOC_ERR_USAGE: --hfov must be a number');
    const noModel = await geoloc(['index', 'build', '--imagery', imagery, '--out', join(tmp, 'y'), '--model', join(tmp, 'nope.onnx')]);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toContain('GEOLOC_ERR_FILE_NOT_FOUND');
    const noIndex = await geoloc(['index', 'info', join(tmp, 'nothing-here')]);
    expect(noIndex.stderr).toContain('GEOLOC_ERR_INDEX_MISSING_FILE');
  });
});
