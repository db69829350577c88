import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../pipeline/core/paths';
import { tinyModelPath } from './support/tinyModel';

/**
 * A process that loads the model through the product's own modules, embeds a batch and exits,
 * with its own empty HOME and none of the telemetry switch inherited from this process.
 */
function embedOnceInChild(modelPath: string, home: string): number {
  const script = `
    const { EmbedderPool } = require(${JSON.stringify(join(repoRoot(), 'dist', 'models', 'embedderPool.js'))});
    const { imageTensorLength } = require(${JSON.stringify(join(repoRoot(), 'dist', 'models', 'tensor.js'))});
    (async () => {
      const pool = await EmbedderPool.create({ modelPath: ${JSON.stringify(modelPath)}, providers: ['cpu'], workers: 1 });
      await pool.embed(new Float32Array(imageTensorLength(pool.info)), 1);
      await pool.close();
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const { ORT_DISABLE_TELEMETRY: _inherited, ...env } = process.env;
  const child = spawnSync(process.execPath, ['-e', script], { env: { ...env, HOME: home, XDG_CACHE_HOME: join(home, '.cache') }, encoding: 'utf8' });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return child.pid!;
}

describe('a run leaves nothing behind', () => {
  test('no /tmp/mat-debug-<pid>.log and nothing under ~/.cache from ONNX Runtime', async () => {
    const modelPath = await tinyModelPath();
    const home = mkdtempSync(join(tmpdir(), 'geoloc-home-'));
    try {
      const pid = embedOnceInChild(modelPath, home);
      expect(existsSync(`/tmp/mat-debug-${pid}.log`)).toBe(false);
      expect(readdirSync(home)).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
