/**
 * `geoloc train | evaluate | export` hand over to the Python training package, which owns
 * their options; `--help` is passed through so the package describes them itself.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { GeolocError } from '../core/errors';
import { repoRoot } from '../core/paths';
import type { Command } from './command';

/** Debian's interpreter, which has python3-torch; another python3 may come first on PATH. */
export const TRAINING_PYTHON = process.env.GEOLOC_PYTHON ?? '/usr/bin/python3';

export function runTrainingPackage(subcommand: string, argv: string[]): Promise<number> {
  if (!existsSync(TRAINING_PYTHON)) {
    throw new GeolocError('GEOLOC_ERR_FILE_NOT_FOUND', `${TRAINING_PYTHON} does not exist; run \`make setup\` (or set GEOLOC_PYTHON to a Python with PyTorch)`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(TRAINING_PYTHON, ['-m', 'training', subcommand, ...argv], { cwd: repoRoot(), stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      // A child ended by a signal exits as shells report it: 128 + the signal number.
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

function handOver(name: string, summary: string): Command {
  return {
    name: [name],
    summary,
    usage: `usage: geoloc ${name} [options]`,
    passHelpThrough: true,
    run: (argv) => runTrainingPackage(name, argv),
  };
}

export const trainCommand = handOver('train', 'train SPE-Net (Python training package; config file + overrides)');
export const evaluateCommand = handOver('evaluate', 'evaluate a checkpoint by the official University-1652 / SUES-200 protocols');
export const exportCommand = handOver('export', 'export a checkpoint to ONNX with the metadata the pipeline reads');
