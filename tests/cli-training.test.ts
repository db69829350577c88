import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../pipeline/core/paths';
import { CLI_PATH } from './support/cli';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [CLI_PATH, ...args], { cwd: repoRoot(), encoding: 'utf8', timeout: 120_000 });

describe('geoloc train | evaluate | export hand over to the training package', () => {
  test('--help lists them, and each passes --help through to Python', () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    for (const name of ['train', 'evaluate', 'export']) expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    const exportHelp = cli(['export', '--help']);
    expect(exportHelp.status).toBe(0);
    expect(exportHelp.stdout).toContain('--random-init');
  });

  test('export writes an ONNX model with its metadata', () => {
    const out = mkdtempSync(join(tmpdir(), 'geoloc-export-'));
    const result = cli(['export', '--config', 'training/configs/tiny.yaml', '--random-init', '--out', out]);
    expect(result.status).toBe(0);
    expect(existsSync(join(out, 'model.onnx'))).toBe(true);
    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(meta.dim).toBeGreaterThan(0);
    expect(meta.inputSize).toHaveLength(2);
  });

  test("the package's failure is the command's failure, with its message", () => {
    const result = cli(['export', '--config', 'no/such/config.yaml', '--random-init', '--out', tmpdir()]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('no/such/config.yaml');
  });
});
