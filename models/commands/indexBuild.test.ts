import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticGeoImage } from '../../tests/support/syntheticImagery';
import { tinyModelPath } from '../../tests/support/tinyModel';
import { gdalTool } from '../../tests/support/gdalTools';
import { CATALOG_FILE, CELLS_FILE, MANIFEST_FILE } from '../indexFiles';
import { CLI_PATH } from '../../tests/support/cli';
import { BOUNDED_MALLOC } from '../../pipeline/core/boundedMalloc';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function geoloc(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_PATH, ...args], { env }, (err, stdout, stderr) => {
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
    const built = await geoloc(['index', 'build', '--imagery', imagery, '--model', model, '--out', out, '--altitudes', '60,100', '--hfov', '60', '--aspect', '1', '--scale-step', '2', '--overlap', '0.4', '--cell-size', '200', '--batch', '8']);
    expect(built.stderr).not.toMatch(/\r/);
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/^tiles\s+\d+ \(60 m: \d+ × 69 m; 100 m: \d+ × 115 m\)$/m);
    expect(built.stdout).toMatch(/vit_tiny14, 64-d, input 56×56/);
    expect(built.stdout).toMatch(/^camera\s+hfov 60°, aspect 1\.000 \(60\.0° across the shorter side\)$/m);
    expect(built.stdout).toMatch(/^altitudes\s+60–100 m \(given 60,100; scale step 2\)$/m);
    expect(built.stdout).toMatch(/^features\s+xfeat [0-9a-f]{12}…, [1-9]\d* keypoints at [\d.]+(, [\d.]+)* m\/px in \d+ files$/m);
    expect(built.stderr).toMatch(/embedding tiles .*100% (\d+)\/\1/);
    for (const file of [MANIFEST_FILE, CELLS_FILE, CATALOG_FILE]) expect(existsSync(join(out, file))).toBe(true);

    const info = await geoloc(['index', 'info', out]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^source crs EPSG:4326 \(guessed from the world file\)$/m);
    expect(info.stdout).toMatch(/^coverage {3}100\.0% of \d+ planned tiles \(holes 0, unreadable 0\)$/m);
    expect(info.stdout).toContain(built.stdout.split('\n').find((l) => l.startsWith('tiles'))!);

    const again = await geoloc(['index', 'build', '--imagery', imagery, '--model', model, '--out', out, '--altitudes', '60,100', '--hfov', '60', '--aspect', '1', '--scale-step', '2', '--overlap', '0.4', '--cell-size', '200']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('is current');

    const plain = join(tmp, 'plain');
    const retrievalOnly = await geoloc(['index', 'build', '--imagery', imagery, '--model', model, '--out', plain, '--altitudes', '100', '--no-features']);
    expect(retrievalOnly.code).toBe(0);
    expect(existsSync(join(plain, 'features'))).toBe(false);
    expect((await geoloc(['index', 'info', plain])).stdout).toMatch(/^features\s+none: retrieval only/m);
  });

  test('index add stacks a source on an index, index info lists both; adding it again is refused; build takes several --imagery', async () => {
    const west = join(tmp, 'west.tif');
    const east = join(tmp, 'east.tif');
    gdalTool('gdal_translate', '-q', '-a_srs', 'EPSG:4326', '-srcwin', '0', '0', '150', '300', imagery, west);
    gdalTool('gdal_translate', '-q', '-a_srs', 'EPSG:4326', '-srcwin', '150', '0', '150', '300', imagery, east);
    const settings = ['--model', model, '--altitudes', '60', '--hfov', '60', '--aspect', '1', '--cell-size', '100', '--no-features'];
    const out = join(tmp, 'extended');
    expect((await geoloc(['index', 'build', '--imagery', west, '--out', out, ...settings])).code).toBe(0);
    const added = await geoloc(['index', 'add', out, '--imagery', east, '--model', model]);
    expect(added.stderr).toMatch(/adding .*east\.tif: \d+ of \d+ cells touched \(re-cut\), [1-9]\d* kept as they were/);
    expect(added.code).toBe(0);
    const info = await geoloc(['index', 'info', out]);
    expect(info.stdout).toContain(`imagery    ${west} + ${east} (2 images, EPSG:4326`);
    expect(info.stdout).toMatch(/^coverage {3}100\.0% of \d+ planned tiles \(holes 0, unreadable 0\)$/m);
    const again = await geoloc(['index', 'add', out, '--imagery', east, '--model', model]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`GEOLOC_ERR_INDEX_IMAGERY_PRESENT: imagery ${east} is already in index ${out}`);
    const both = join(tmp, 'both');
    expect((await geoloc(['index', 'build', '--imagery', west, '--imagery', east, '--out', both, ...settings])).code).toBe(0);
    expect((await geoloc(['index', 'info', both])).stdout.match(/^tiles .*$/m)![0]).toBe(info.stdout.match(/^tiles .*$/m)![0]);
  });

  test('bad arguments exit non-zero with a coded message and the usage', async () => {
    const missing = await geoloc(['index', 'build', '--imagery', imagery]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('GEOLOC_ERR_USAGE: --out is required');
    expect(missing.stderr).toContain('usage: geoloc index build');
    const notANumber = await geoloc(['index', 'build', '--imagery', imagery, '--out', join(tmp, 'x'), '--hfov', 'wide']);
    expect(notANumber.stderr).toContain('GEOLOC_ERR_USAGE: --hfov must be a number');
    const badAspect = await geoloc(['index', 'build', '--imagery', imagery, '--out', join(tmp, 'x'), '--aspect', '4:0']);
    expect(badAspect.stderr).toContain('GEOLOC_ERR_USAGE: --aspect must be width:height');
    const badRange = await geoloc(['index', 'build', '--imagery', imagery, '--out', join(tmp, 'x'), '--hfov', '84,70']);
    expect(badRange.stderr).toContain('GEOLOC_ERR_USAGE: hfov must be between 0 and 180 degrees (one value, or min,max)');
    for (const [flag, value] of [['--feature-workers', '0'], ['--workers', '1.5'], ['--batch', '-4']] as const) {
      const refusedCount = await geoloc(['index', 'build', '--imagery', imagery, '--model', model, '--out', join(tmp, 'w'), `${flag}=${value}`]);
      expect(refusedCount.code).toBe(1);
      expect(refusedCount.stderr).toContain(`GEOLOC_ERR_USAGE: ${flag} must be a whole number ≥ 1, got "${value}"`);
    }
    const refusedAdd = await geoloc(['index', 'add', join(tmp, 'w'), '--imagery', imagery, '--feature-workers', '0']);
    expect(refusedAdd.stderr).toContain('GEOLOC_ERR_USAGE: --feature-workers must be a whole number ≥ 1, got "0"');
    expect(refusedAdd.stderr).toContain('usage: geoloc index add');
    expect(existsSync(join(tmp, 'w'))).toBe(false);
    const noModel = await geoloc(['index', 'build', '--imagery', imagery, '--out', join(tmp, 'y'), '--model', join(tmp, 'nope.onnx')]);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toContain('GEOLOC_ERR_FILE_NOT_FOUND');
    const noIndex = await geoloc(['index', 'info', join(tmp, 'nothing-here')]);
    expect(noIndex.stderr).toContain('GEOLOC_ERR_INDEX_MISSING_FILE');
    const noCrs = join(tmp, 'no-crs.tif');
    gdalTool('gdal_translate', '-q', '-a_ullr', '7.5', '46.5', '7.504', '46.497', imagery.replace(/\.png$/, '.png'), noCrs, '--config', 'GDAL_PAM_ENABLED', 'NO');
    const refused = await geoloc(['index', 'build', '--imagery', noCrs, '--model', model, '--out', join(tmp, 'z')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^geoloc: GEOLOC_ERR_IMAGERY_NO_CRS: ${noCrs}`, 'm'));
    expect(existsSync(join(tmp, 'z'))).toBe(false);
  });

  test('build and add run in a process with bounded malloc, keeping what the caller set; other commands run as started', async () => {
    // a preload in every Node process of the command records the malloc settings it started with
    const seen = join(tmp, 'malloc.txt');
    const preload = join(tmp, 'record-malloc.js');
    const names = Object.keys(BOUNDED_MALLOC);
    writeFileSync(
      preload,
      `if (require('worker_threads').isMainThread) require('fs').appendFileSync(${JSON.stringify(seen)}, ${JSON.stringify(names)}.map((n) => process.env[n] ?? 'unset').join(' ') + '\\n');\n`,
    );
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !names.includes(name)));
    const settings = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
      rmSync(seen, { force: true });
      const result = await geoloc(args, { ...inherited, NODE_OPTIONS: `--require ${preload}`, ...extra });
      return { result, processes: readFileSync(seen, 'utf8').trim().split('\n') };
    };
    const missing = join(tmp, 'no-such-imagery.tif');
    const bounded = Object.values(BOUNDED_MALLOC).join(' ');

    const build = await settings(['index', 'build', '--imagery', missing, '--out', join(tmp, 'never')]);
    expect(build.processes).toEqual(['unset unset', bounded]);
    expect(build.result.code).toBe(1);
    expect(build.result.stderr).toContain(missing);

    const add = await settings(['index', 'add', join(tmp, 'no-such-index'), '--imagery', missing]);
    expect(add.processes).toEqual(['unset unset', bounded]);
    expect(add.result.code).not.toBe(0);

    const own = await settings(['index', 'build', '--imagery', missing, '--out', join(tmp, 'never')], { MALLOC_ARENA_MAX: '4' });
    expect(own.processes).toEqual(['4 unset', `4 ${BOUNDED_MALLOC.MALLOC_MMAP_THRESHOLD_}`]);
    expect(own.result.stderr).toContain(missing);

    const info = await settings(['index', 'info', join(tmp, 'no-such-index')]);
    expect(info.processes).toEqual(['unset unset']);
  });
});
